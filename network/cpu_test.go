package network

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestCPUTimes: the CPU time of a running process of the run folder is
// read from /proc; a stale PID file is left out.
func TestCPUTimes(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	self, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; { // burn a little CPU
	}
	again, err := ProcessCPU(os.Getpid())
	if err != nil || again < self {
		t.Fatalf("cpu went from %s to %s (%v)", self, again, err)
	}
	dir := t.TempDir()
	l := Layout{Dir: dir}
	bin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	sleep := exec.Command(bin, "30")
	sleep.Env = append(os.Environ(), markerEnv+"="+l.marker("sleeper"))
	if err := sleep.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	write := func(name string, pid int) {
		b, _ := json.Marshal(pidRecord{PID: pid, Binary: bin, Marker: l.marker(name), Started: time.Now()})
		if err := os.MkdirAll(l.PidsDir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.PidFile(name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sleeper", sleep.Process.Pid)
	write("gone", 999999999)
	got, err := CPUTimes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["sleeper"]; !ok || len(got) != 1 {
		t.Fatalf("CPUTimes = %v, want only sleeper", got)
	}
}
