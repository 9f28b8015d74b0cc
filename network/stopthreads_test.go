package network

import (
	"context"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// leaderExitsEnv makes this test binary, started with it, a process whose
// main thread exits at once while another thread keeps listening on the
// address the variable names for two seconds: how a dying multi-threaded
// node looks to /proc (the leader a zombie, the socket still open).
const leaderExitsEnv = "CREDIT_TEST_LEADER_EXITS"

func init() {
	addr := os.Getenv(leaderExitsEnv)
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.Exit(3)
	}
	go func() {
		time.Sleep(2 * time.Second)
		ln.Close()
		os.Exit(0)
	}()
	runtime.LockOSThread()
	syscall.RawSyscall(syscall.SYS_EXIT, 0, 0, 0) // this thread only
	select {}
}

// TestStopWaitsForEveryThread: stop returns only when every thread of the
// process is gone, not when its leader reads as a zombie, so the node's
// ports are free for a restart at once. (Found by the chaos tests: a
// chaincode server stopped and started again failed with "address already
// in use" in about one run of five.)
func TestStopWaitsForEveryThread(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l := Layout{Dir: t.TempDir()}
	pid, err := l.start(procSpec{Name: "leader-exits", Binary: self, Env: []string{leaderExitsEnv + "=" + addr}, Dir: l.DataDir("leader-exits")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	deadline := time.Now().Add(time.Minute)
	for {
		s, _, err := procState(pid)
		c, derr := net.Dial("tcp", addr)
		if derr == nil {
			c.Close()
		}
		if err == nil && s == 'Z' && derr == nil {
			break // the leader is a zombie, the socket is open
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper never reached the state: %c %v %v", s, err, derr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := l.stop(context.Background(), "leader-exits"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is still held after stop returned: %v", err)
	}
	ln.Close()
}
