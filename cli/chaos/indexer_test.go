//go:build chaos

package chaos

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIndexerCrashUnderLoad is issue 7's fault test 2, the indexer
// issue's crash test (cli TestIndexCrash) run while the ledger grows: the
// real `creditctl index run` follows the channel while officers of every
// county submit transactions, and is killed with SIGKILL at random points
// (after 0-9 applied blocks, plus 0-3 ms), then restarted,
// CHAOS_INDEX_KILLS times (default 20). After every kill the index's
// checkpoint has not gone back and covers every block the process said it
// applied. When the load stops, `index run --once` completes the index and
// `index reconcile` finds no difference from the peer's world state; the
// load's outcomes are checked against the ledger as in TestOrdererLoss.
func TestIndexerCrashUnderLoad(t *testing.T) {
	markFailed(t)
	kills := 20
	if v := os.Getenv("CHAOS_INDEX_KILLS"); v != "" {
		var err error
		if kills, err = strconv.Atoi(v); err != nil || kills < 1 {
			t.Fatalf("CHAOS_INDEX_KILLS=%q: want a positive number", v)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	dir := t.TempDir()
	readers := cn.readers(t)
	l := startLoad(t, cn, 12, "idx")
	l.waitAcked(t, 0, 20, 3*time.Minute, "warm-up")

	var last uint64
	for i := range kills {
		applied := rng.IntN(10)
		seen, saw := cn.killIndexAfter(t, dir, applied, time.Duration(rng.IntN(3000))*time.Microsecond)
		h := cn.indexHeight(t, dir)
		if h < last || saw && h < seen+1 {
			t.Fatalf("kill %d: checkpoint height %d; before the kill %d, last block reported applied %d", i, h, last, seen)
		}
		t.Logf("kill %d after %d applied blocks (last reported %d): checkpoint height %d", i, applied, seen, h)
		last = h
	}
	ops := l.halt()
	level := cn.waitLevel(t, readers, 0, 3*time.Minute)
	if out, code := cn.runCLI(t, "index", "run", "--once", "--dir", dir, "--progress", "0"); code != 0 {
		t.Fatalf("index run --once: exit %d\n%s", code, out)
	}
	out, code := cn.runCLI(t, "index", "reconcile", "--dir", dir)
	if code != 0 {
		t.Fatalf("index reconcile after %d kills under load: exit %d\n%s", kills, code, out)
	}
	t.Logf("after %d kills, ledger height %d: %s", kills, level, lastLine(out))
	ty := verify(t, readers[countyA], snapshot(t, readers[countyA]), ops)
	t.Logf("load: %d transactions: %v", len(ops), ty)
}

// runCLI runs the CLI against the chaos network; it returns stdout and
// stderr together and the exit status.
func (c *chaosNet) runCLI(t testing.TB, args ...string) (string, int) {
	t.Helper()
	cmd := c.creditctlCmd(args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return string(out), 0
}

func (c *chaosNet) creditctlCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(c.creditctl, args...)
	cmd.Env = append(os.Environ(), "CREDITCTL_PROFILE="+c.n.ProfilePath(), "CREDITCTL_OUTPUT=plain", "CREDITCTL_LANG=en")
	return cmd
}

var appliedBlock = regexp.MustCompile(`^applied block (\d+):`)

// killIndexAfter starts `index run` on dir, waits for n "applied block"
// lines (n may be 0), waits pause more, and kills it with SIGKILL. It
// returns the last block reported applied.
func (c *chaosNet) killIndexAfter(t testing.TB, dir string, n int, pause time.Duration) (uint64, bool) {
	t.Helper()
	cmd := c.creditctlCmd("index", "run", "--dir", dir, "--log-blocks", "--progress", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	guard := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()
	var seen uint64
	saw := false
	var tail []string
	sc := bufio.NewScanner(stderr)
	for count := 0; count < n && sc.Scan(); {
		line := sc.Text()
		tail = append(tail, line)
		if m := appliedBlock.FindStringSubmatch(line); m != nil {
			seen, _ = strconv.ParseUint(m[1], 10, 64)
			saw = true
			count++
		}
	}
	time.Sleep(pause)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	go io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("index run ended before the kill (%v):\n%s", err, strings.Join(tail, "\n"))
	}
	return seen, saw
}

// indexHeight asks `index status --offline -o json` for the checkpoint:
// 0 when a kill came before `index run` created the store.
func (c *chaosNet) indexHeight(t testing.TB, dir string) uint64 {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "db")); errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	cmd := c.creditctlCmd("index", "status", "--offline", "--dir", dir, "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("index status: %v\n%s", err, stderr.String())
	}
	var st struct {
		Height uint64 `json:"height"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &st); err != nil {
		t.Fatalf("index status -o json: %v: %s", err, stdout.String())
	}
	return st.Height
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
