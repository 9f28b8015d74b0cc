package network

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ), 100
// on every Linux architecture Fabric runs on.
const clockTicks = 100

// CPUTimes returns the CPU time (user plus system) each running process
// of the run folder has used since it started, by process name (Linux:
// /proc). Processes that are not running are left out. Benchmarks take it
// before and after a load to see where the CPU went.
func CPUTimes(dir string) (map[string]time.Duration, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cpu times: %w", err)
	}
	l := Layout{Dir: dir}
	names, err := l.pidFiles()
	if err != nil {
		return nil, fmt.Errorf("cpu times: %w", err)
	}
	out := map[string]time.Duration{}
	for _, name := range names {
		st, r, err := l.status(name)
		if err != nil || st != procRunning {
			continue
		}
		d, err := ProcessCPU(r.PID)
		if err != nil {
			continue // exited since
		}
		out[name] = d
	}
	return out, nil
}

// ProcessCPU is the CPU time (user plus system) process pid has used.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// "pid (comm) S ppid … utime stime": fields 14 and 15, counted from
	// the pid; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
