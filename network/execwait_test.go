package network

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestIsOursWaitsForExec: a process whose command line still reads empty
// (the kernel loading the program after exec.Cmd.Start returned, seen
// under load) is not called someone else's: isOurs waits until /proc
// shows the program. (Found by the chaos tests: network up reported a
// running chaincode server as exited, and down then left it running.)
func TestIsOursWaitsForExec(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	bin := sleepBinary(t)
	pid, err := l.start(procSpec{Name: "sleeper", Binary: bin, Args: []string{"300"}, Env: []string{"PATH=/usr/bin:/bin"}, Dir: l.DataDir("sleeper")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.stop(t.Context(), "sleeper") })
	real := procCmdline
	t.Cleanup(func() { procCmdline = real })
	empty := 3
	procCmdline = func(p int) ([]byte, error) {
		if p == pid && empty > 0 {
			empty--
			return nil, nil // mid-exec: nothing to read yet
		}
		return real(p)
	}
	rec := &pidRecord{PID: pid, Binary: bin, Marker: filepath.Join(l.Dir, "sleeper")}
	if !isOurs(rec) {
		t.Fatal("a process whose command line read empty for a moment was called someone else's")
	}
	if empty != 0 {
		t.Fatalf("isOurs did not wait for the command line (%d empty reads left)", empty)
	}
	// A process that never shows one (a kernel thread) is not ours.
	procCmdline = func(int) ([]byte, error) { return nil, nil }
	if waitExec(os.Getpid(), 50*time.Millisecond) {
		t.Fatal("waitExec accepted an empty command line")
	}
}
