//go:build integration || chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/network"
)

// The chaos tests own one network, on ports from chaosBasePort (moved up
// by 1000 while busy, at most to 26050): make test's shared network starts
// at 27050, a developer's at 7050. The ports stay below Linux's ephemeral
// range (32768-60999): the tests stop and restart nodes, and a port in
// that range, free for a moment, can be taken by any outgoing connection. TestMain brings it up
// before the first test and tears it down after the last, on success,
// failure, INT or TERM, and shortly before go test's -timeout would kill
// the binary (a panic skips deferred calls, and the nodes run in their own
// sessions, so they would outlive it).
const chaosBasePort = 17050

// Counties of the default topology: A is the victim, B the hostile
// county, C the third.
const (
	countyA = 0 // 330782 义乌市
	countyB = 1 // 330182 建德市
	countyC = 2 // 371324 兰陵县
)

var (
	cn       *chaosNet // the network of this test binary
	teardown sync.Once
	failed   bool // set by a test's Cleanup when it failed: keep the logs
	failedMu sync.Mutex
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run())
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "credit-chaos.")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	stop := func(reason string, keepLogs bool) {
		teardown.Do(func() {
			if cn == nil {
				return
			}
			if keepLogs {
				cn.keepLogs(reason)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := network.Clean(ctx, cn.dir, nil); err != nil {
				fmt.Fprintf(os.Stderr, "chaos: network clean %s: %v\n", cn.dir, err)
			}
			// Belt and braces: nothing carrying this run folder's marker
			// may outlive the tests, whatever its PID file said.
			for _, pid := range markedProcesses(cn.dir) {
				fmt.Fprintf(os.Stderr, "chaos: pid %d of %s survived network clean: SIGKILL\n", pid, cn.dir)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
	defer stop("", false)

	// INT, TERM: tear down, then exit as the signal would.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "chaos: %v: tearing the network down\n", s)
		stop("signal "+s.String(), true)
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
	// go test -timeout panics the binary: tear down a minute before.
	if f := flag.Lookup("test.timeout"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d > 2*time.Minute {
			time.AfterFunc(d-time.Minute, func() {
				fmt.Fprintf(os.Stderr, "chaos: -timeout %s is near: tearing the network down\n", d)
				stop("timeout", true)
			})
		}
	}

	start := time.Now()
	cn, err = setup(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos: setup:", err)
		stop("setup failed", true)
		return 1
	}
	fmt.Fprintf(os.Stderr, "chaos: network up in %.0fs (%s form), run folder %s\n", time.Since(start).Seconds(), map[bool]string{true: "full", false: "reduced"}[full], cn.dir)
	code := m.Run()
	failedMu.Lock()
	keep := code != 0 || failed
	failedMu.Unlock()
	stop("tests failed", keep)
	return code
}

// markFailed keeps the node logs when t fails (call it first in a test).
func markFailed(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			failedMu.Lock()
			failed = true
			failedMu.Unlock()
		}
	})
}

// chaosNet is the network the tests share, with the binaries they run.
type chaosNet struct {
	dir       string // run folder
	fabric    string // Fabric's bin/ and config/
	n         *network.Network
	opts      network.Options
	profile   *network.Profile
	creditcc  string // the honest chaincode server
	evilcc    string // the hostile county's chaincode server (evilcc/)
	creditctl string // the CLI, for the indexer commands (full form only)
	root      string // the repository
	run       string // random tag of this run, in every record ID
}

func setup(tmp string) (*chaosNet, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	c := &chaosNet{dir: filepath.Join(tmp, "net"), root: root, run: fmt.Sprintf("%06x", time.Now().UnixNano()&0xffffff)}
	c.fabric = os.Getenv("CREDITCTL_FABRIC")
	if c.fabric == "" {
		c.fabric = filepath.Join(root, ".cache", "fabric", network.FabricVersion)
	}
	if _, err := os.Stat(filepath.Join(c.fabric, "bin", "peer")); err != nil {
		return nil, fmt.Errorf("Fabric binaries not found in %s: run `make fabric` (or set CREDITCTL_FABRIC)", c.fabric)
	}
	bin := filepath.Join(tmp, "bin")
	builds := []struct {
		out  *string
		name string
		args []string
	}{
		{&c.creditcc, "creditcc", []string{"./chaincode/cmd/creditcc"}},
		{&c.evilcc, "evilcc", []string{"-tags", "integration", "./cli/chaos/evilcc"}},
	}
	if full {
		builds = append(builds, struct {
			out  *string
			name string
			args []string
		}{&c.creditctl, "creditctl", []string{"./cli/creditctl"}})
	}
	for _, b := range builds {
		*b.out = filepath.Join(bin, b.name)
		cmd := exec.Command("go", append([]string{"build", "-o", *b.out}, b.args...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", b.name, err, out)
		}
	}
	var cals []json.RawMessage
	for _, cal := range credit.ShippedCalendars() {
		b, err := json.Marshal(cal)
		if err != nil {
			return nil, err
		}
		cals = append(cals, b)
	}
	top := network.DefaultTopology()
	top.BasePort = chaosBasePort
	if err := top.ShiftToFreePorts(1000, 10); err != nil {
		return nil, err
	}
	c.opts = network.Options{Dir: c.dir, Topology: top, FabricDir: c.fabric, ChaincodeServer: c.creditcc, Calendars: cals, Progress: prefixed{os.Stderr}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c.n, err = network.Up(ctx, c.opts)
	if err != nil {
		if c.n == nil {
			c.n = &network.Network{Layout: network.Layout{Dir: c.dir, T: top}}
		}
		return c, err
	}
	// StartProcess needs the Fabric folder: reopen with it.
	if c.n, err = network.Open(c.dir, c.fabric); err != nil {
		return c, err
	}
	if c.profile, err = network.LoadProfile(c.n.ProfilePath()); err != nil {
		return c, err
	}
	return c, nil
}

// keepLogs copies the node logs to .run/chaos-logs for the post-mortem.
func (c *chaosNet) keepLogs(reason string) {
	dst := filepath.Join(c.root, ".run", "chaos-logs")
	if err := os.RemoveAll(dst); err != nil {
		return
	}
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(c.dir, "logs"))); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: keep logs: %v\n", err)
		return
	}
	fmt.Fprintf(os.Stderr, "chaos: %s; node logs kept in %s\n", reason, dst)
}

// prefixed writes the network's progress lines to w, marked as ours.
type prefixed struct{ w io.Writer }

func (p prefixed) Write(b []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			fmt.Fprint(p.w, "chaos: "+l)
		}
	}
	return len(b), nil
}

// markedProcesses lists the live processes whose environment carries the
// marker of run folder dir (CREDIT_NODE=<dir>/<process>, docs/NETWORK.md),
// or of one node if dir is <run folder>/<process>.
func markedProcesses(dir string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err == nil && (bytes.Contains(env, []byte("CREDIT_NODE="+dir+"/")) || bytes.Contains(env, []byte("CREDIT_NODE="+dir+"\x00"))) {
			out = append(out, pid)
		}
	}
	return out
}
