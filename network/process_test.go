package network

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var syscallZero = syscall.Signal(0)

func sleepBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	p, _ = filepath.Abs(p)
	return p
}

// TestStartStopByPID: start writes a PID file naming our binary and marker;
// stop signals that process only and removes the file.
func TestStartStopByPID(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	bin := sleepBinary(t)
	pid, err := l.start(procSpec{Name: "sleeper", Binary: bin, Args: []string{"300"}, Env: []string{"PATH=/usr/bin:/bin"}, Dir: l.DataDir("sleeper")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.stop(context.Background(), "sleeper") })
	st, rec, err := l.status("sleeper")
	if err != nil || st != procRunning || rec.PID != pid || rec.Binary != bin {
		t.Fatalf("status = %v %+v %v", st, rec, err)
	}
	env, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if !strings.Contains(string(env), markerEnv+"="+filepath.Join(l.Dir, "sleeper")) {
		t.Error("marker missing from the process environment")
	}
	// Its own session and process group.
	if _, pgrp, _ := procState(pid); pgrp != pid {
		t.Errorf("pgrp = %d, want %d (setsid)", pgrp, pid)
	}
	res, err := l.stop(context.Background(), "sleeper")
	if err != nil || res.Action != "stopped" {
		t.Fatalf("stop = %+v, %v", res, err)
	}
	if isOurs(rec) {
		t.Error("process still alive after stop")
	}
	if _, err := os.Stat(l.PidFile("sleeper")); !errors.Is(err, os.ErrNotExist) {
		t.Error("pid file left behind")
	}
	if res, err := l.stop(context.Background(), "sleeper"); res != nil || err != nil {
		t.Errorf("second stop = %+v, %v; want nothing to do", res, err)
	}
}

// TestStopSparesReusedPID: a PID file whose PID now belongs to another
// program (PID reuse after a crash) is stale; that program is not signalled.
func TestStopSparesReusedPID(t *testing.T) {
	bin := sleepBinary(t)
	other := exec.Command(bin, "300") // not ours: no marker
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	tests := []struct {
		name string
		rec  pidRecord
	}{
		{"same binary, no marker", pidRecord{PID: other.Process.Pid, Binary: bin, Marker: "/run/x/sleeper"}},
		{"other binary", pidRecord{PID: other.Process.Pid, Binary: "/opt/fabric/bin/peer", Marker: "/run/x/sleeper"}},
		{"dead pid", pidRecord{PID: 1 << 22, Binary: bin, Marker: "/run/x/sleeper"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Layout{Dir: t.TempDir()}
			if err := writeJSONAtomic(l.PidFile("sleeper"), tt.rec); err != nil {
				t.Fatal(err)
			}
			st, _, err := l.status("sleeper")
			if err != nil || st != procStale {
				t.Fatalf("status = %v, %v; want stale", st, err)
			}
			res, err := l.stop(context.Background(), "sleeper")
			if err != nil || res.Action != "stale" {
				t.Fatalf("stop = %+v, %v", res, err)
			}
			if err := other.Process.Signal(syscallZero); err != nil {
				t.Fatal("the other program was killed")
			}
			if _, err := os.Stat(l.PidFile("sleeper")); !errors.Is(err, os.ErrNotExist) {
				t.Error("stale pid file not removed")
			}
		})
	}
}

// TestStopKillsAfterGrace: a process that ignores SIGTERM is killed.
func TestStopKillsAfterGrace(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the grace period")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	l := Layout{Dir: t.TempDir()}
	if _, err := l.start(procSpec{Name: "stubborn", Binary: sh, Args: []string{"-c", "trap '' TERM; while :; do sleep 1; done"}, Env: []string{"PATH=/usr/bin:/bin"}, Dir: l.Dir}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the trap be set
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel() // a cancelled context cuts the grace period short
	res, err := l.stop(ctx, "stubborn")
	if err != nil || res.Action != "killed" {
		t.Fatalf("stop = %+v, %v; want killed", res, err)
	}
}

func TestReadPidRefusesForeignFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.pid")
	os.WriteFile(p, []byte("1234\n"), 0o644)
	if _, err := readPid(p); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if r, err := readPid(filepath.Join(t.TempDir(), "none.pid")); r != nil || err != nil {
		t.Fatalf("missing file = %v, %v", r, err)
	}
}

func TestStartRefusesBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := Layout{Dir: t.TempDir()}
	_, err = l.start(procSpec{Name: "x", Binary: sleepBinary(t), Args: []string{"1"}, Dir: l.Dir, Ports: []string{ln.Addr().String()}})
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("err = %v, want the busy port named", err)
	}
	if _, err := os.Stat(l.PidFile("x")); !errors.Is(err, os.ErrNotExist) {
		t.Error("pid file written for a process that was not started")
	}
}

func TestStopOrder(t *testing.T) {
	if !(stopRank("cc.c330782") < stopRank("peer0.c330782") && stopRank("peer0.c330782") < stopRank("orderer0")) {
		t.Error("stop order must be chaincode servers, peers, orderers")
	}
}

// TestCleanRefusesForeignFolder: clean never removes a folder that is not a
// run folder.
func TestCleanRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644)
	if err := Clean(context.Background(), dir, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatal("foreign folder touched")
	}
	run := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(filepath.Join(run, "pids"), 0o755)
	if err := Clean(context.Background(), run, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(run); !errors.Is(err, os.ErrNotExist) {
		t.Error("run folder not removed")
	}
}
