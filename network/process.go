package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// markerEnv is set in the environment of every process we start, to
// <run folder>/<process name>. Before signalling a PID from a PID file, we
// check that /proc/<pid> still shows our binary and this marker, so a PID
// reused by another program after a crash or reboot is never killed.
const markerEnv = "CREDIT_NODE"

// pidRecord is the content of pids/<process>.pid.
type pidRecord struct {
	PID     int       `json:"pid"`
	Binary  string    `json:"binary"` // argv[0], absolute
	Marker  string    `json:"marker"` // value of CREDIT_NODE in the process environment
	Started time.Time `json:"started"`
}

// procSpec is a process to start in the background.
type procSpec struct {
	Name   string   // process name: pids/<Name>.pid, logs/<Name>.log
	Binary string   // absolute path
	Args   []string // arguments after argv[0]
	Env    []string // the whole environment; nothing is inherited
	Dir    string   // working directory
	Ports  []string // host:port it will listen on, checked free before start
}

// procStatus is what we know of a PID file's process.
type procStatus int

const (
	procNone    procStatus = iota // no PID file
	procRunning                   // PID file, and the process is ours and alive
	procStale                     // PID file, but the process is gone or is not ours
)

func (l Layout) marker(name string) string { return filepath.Join(l.Dir, name) }

// readPid reads a PID file. A missing file is (nil, nil).
func readPid(path string) (*pidRecord, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pid file: %w", err)
	}
	var r pidRecord
	if err := json.Unmarshal(b, &r); err != nil || r.PID <= 0 || r.Binary == "" {
		return nil, fmt.Errorf("pid file %s is not a creditctl pid file: %w", path, ErrInvalid)
	}
	return &r, nil
}

// procState reads /proc/<pid>/stat: the state letter and the process group.
func procState(pid int) (state byte, pgrp int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// "pid (comm) S ppid pgrp ...": comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	pgrp, err = strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return f[0][0], pgrp, nil
}

// isOurs reports whether r.PID is alive (not a zombie) and is the process
// the record describes: same argv[0] and, when the environment is readable,
// the same marker.
func isOurs(r *pidRecord) bool {
	if !waitExec(r.PID, execWait) {
		return false
	}
	state, _, err := procState(r.PID)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	cmd, err := procCmdline(r.PID)
	if err != nil {
		return false
	}
	argv0, _, _ := bytes.Cut(cmd, []byte{0})
	if string(argv0) != r.Binary {
		return false
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", r.PID))
	if err != nil {
		// Not readable (another user): the command line has to do.
		return true
	}
	want := []byte(markerEnv + "=" + r.Marker)
	for _, kv := range bytes.Split(env, []byte{0}) {
		if bytes.Equal(kv, want) {
			return true
		}
	}
	return false
}

// procCmdline reads /proc/<pid>/cmdline; replaced in tests.
var procCmdline = func(pid int) ([]byte, error) {
	return os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
}

// execWait bounds how long a process's command line may read empty.
const execWait = 5 * time.Second

// waitExec waits, at most limit, until process pid has a command line, and
// reports whether it has one (false: it is gone, a zombie, or still has
// none). Go's exec.Cmd.Start returns once the new program is past exec's
// point of no return, but the kernel may still be loading it (seen under
// load, the process in state D): until then /proc/<pid>/cmdline and
// environ read empty, and the process would look like someone else's.
func waitExec(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		state, _, err := procState(pid)
		if err != nil || state == 'Z' || state == 'X' {
			return false
		}
		if cmd, err := procCmdline(pid); err == nil && len(cmd) > 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status of process name in this run folder.
func (l Layout) status(name string) (procStatus, *pidRecord, error) {
	r, err := readPid(l.PidFile(name))
	if err != nil {
		return procStale, nil, err
	}
	if r == nil {
		return procNone, nil, nil
	}
	if isOurs(r) {
		return procRunning, r, nil
	}
	return procStale, r, nil
}

// checkPortsFree refuses to start when another program holds a port.
func checkPortsFree(addrs []string) error {
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("port %s is in use or cannot be bound (another program, or a network from another run folder?): %w", a, err)
		}
		ln.Close()
	}
	return nil
}

// start launches spec in its own session (so it outlives us and a terminal
// hang-up, and can be signalled as a group), with stdout and stderr
// appended to its log, and writes its PID file.
func (l Layout) start(spec procSpec) (int, error) {
	if err := checkPortsFree(spec.Ports); err != nil {
		return 0, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	for _, d := range []string{l.LogsDir(), l.PidsDir(), spec.Dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, fmt.Errorf("start %s: %w", spec.Name, err)
		}
	}
	log, err := os.OpenFile(l.LogFile(spec.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	defer log.Close()
	fmt.Fprintf(log, "\n----- creditctl: starting %s at %s -----\n", spec.Name, time.Now().UTC().Format(time.RFC3339))
	marker := l.marker(spec.Name)
	cmd := &exec.Cmd{
		Path:        spec.Binary,
		Args:        append([]string{spec.Binary}, spec.Args...),
		Env:         append(append([]string(nil), spec.Env...), markerEnv+"="+marker),
		Dir:         spec.Dir,
		Stdout:      log,
		Stderr:      log,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	// Reap it if it exits while we are still running; otherwise it is
	// re-parented when we exit.
	go cmd.Wait() //nolint:errcheck
	// Let the kernel finish loading it, so that its PID file is never read
	// before /proc shows the program (see waitExec).
	waitExec(cmd.Process.Pid, 30*time.Second)
	rec := pidRecord{PID: cmd.Process.Pid, Binary: spec.Binary, Marker: marker, Started: time.Now().UTC()}
	if err := writeJSONAtomic(l.PidFile(spec.Name), rec); err != nil {
		_ = syscall.Kill(-rec.PID, syscall.SIGKILL)
		return 0, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	return rec.PID, nil
}

// StopResult says what stop found and did.
type StopResult struct {
	Name   string
	PID    int
	Action string // "stopped", "killed" (did not stop in the grace period), "stale" (PID file only)
}

// stopGrace is how long a process has to exit after SIGTERM.
const stopGrace = 15 * time.Second

// stop stops process name if it is ours: SIGTERM to its process group, then
// SIGKILL after the grace period. The PID file is removed either way.
func (l Layout) stop(ctx context.Context, name string) (*StopResult, error) {
	st, rec, err := l.status(name)
	if err != nil {
		return nil, err
	}
	res := &StopResult{Name: name}
	switch st {
	case procNone:
		return nil, nil
	case procStale:
		res.PID, res.Action = rec.PID, "stale"
		if s, _, err := procState(rec.PID); err == nil && s == 'Z' {
			// A zombie leader cannot have been reused: wait (no signal)
			// until its other threads are gone too.
			waitThreadsGone(rec.PID)
		}
		return res, removeIfExists(l.PidFile(name))
	}
	res.PID = rec.PID
	target := rec.PID
	if _, pgrp, err := procState(rec.PID); err == nil && pgrp == rec.PID {
		target = -rec.PID // its own process group (we started it with setsid)
	}
	_ = syscall.Kill(target, syscall.SIGTERM)
	res.Action = "stopped"
	deadline := time.Now().Add(stopGrace)
	for isOurs(rec) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(target, syscall.SIGKILL)
			res.Action = "killed"
			for i := 0; i < 50 && isOurs(rec); i++ {
				time.Sleep(100 * time.Millisecond)
			}
			if isOurs(rec) {
				return res, fmt.Errorf("stop %s: pid %d survived SIGKILL", name, rec.PID)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitThreadsGone(rec.PID)
	return res, removeIfExists(l.PidFile(name))
}

// threadsGoneWait bounds waitThreadsGone.
const threadsGoneWait = 10 * time.Second

// waitThreadsGone waits, at most threadsGoneWait, until no thread of pid is
// alive. The leader of a multi-threaded process (every Go program: the
// orderers, peers and chaincode servers) reads as a zombie as soon as its
// own thread has exited, while the other threads may still be tearing down
// and holding the process's files, its listening sockets among them: a
// node started again at once on the same ports would find them in use.
func waitThreadsGone(pid int) {
	deadline := time.Now().Add(threadsGoneWait)
	for !threadsGone(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// threadsGone reports whether every thread of pid has exited (the process
// was reaped, or all its threads are zombies).
func threadsGone(pid int) bool {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return true
	}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, _, err := procState(tid); err == nil && s != 'Z' && s != 'X' {
			return false
		}
	}
	return true
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// pidFiles lists the process names that have a PID file.
func (l Layout) pidFiles() ([]string, error) {
	ents, err := os.ReadDir(l.PidsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list pid files: %w", err)
	}
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".pid"); ok && !e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// stopOrder: chaincode servers first, then peers, then orderers.
func stopRank(name string) int {
	switch {
	case strings.HasPrefix(name, "cc."):
		return 0
	case strings.HasPrefix(name, "peer"):
		return 1
	case strings.HasPrefix(name, "orderer"):
		return 2
	}
	return 0
}

// logTail returns the last n lines of a process's log, for error messages.
func (l Layout) logTail(name string, n int) string {
	f, err := os.Open(l.LogFile(name))
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	const max = 16 << 10
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, off, max))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
