package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/network"
)

func TestNetworkUpFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*testing.T, *NetworkUpOptions)
		wantErr int
	}{
		{"defaults", []string{"up"}, func(t *testing.T, o *NetworkUpOptions) {
			if !strings.HasSuffix(o.RunDir, filepath.Join(".run", "net")) || o.BasePort != 0 || o.StartOnly || o.TopologySet || o.Output != "" {
				t.Errorf("opts = %+v", o)
			}
			if !strings.HasSuffix(o.FabricDir, filepath.Join(".cache", "fabric", "3.1.1")) {
				t.Errorf("fabric dir = %s", o.FabricDir)
			}
		}, 0},
		{"all flags", []string{"up", "--run", "/tmp/r", "--topology", "t.yaml", "--base-port", "27050", "--fabric", "/f",
			"--chaincode-server", "/cc", "--host", "10.0.0.1,10.0.0.2", "--start-only"}, func(t *testing.T, o *NetworkUpOptions) {
			if o.RunDir != "/tmp/r" || o.TopologyFile != "t.yaml" || !o.TopologySet || o.BasePort != 27050 || o.FabricDir != "/f" ||
				o.ChaincodeServer != "/cc" || len(o.Hosts) != 2 || !o.StartOnly {
				t.Errorf("opts = %+v", o)
			}
		}, 0},
		{"global output and language", []string{"-o", "json", "--lang", "zh", "up"}, func(t *testing.T, o *NetworkUpOptions) {
			if o.Output != "json" || o.Lang != "zh" {
				t.Errorf("output %q, lang %q", o.Output, o.Lang)
			}
		}, 0},
		{"negative port", []string{"up", "--base-port", "-1"}, nil, ExitUsage},
		{"unknown flag", []string{"up", "--colour"}, nil, ExitUsage},
		{"unknown output", []string{"up", "-o", "yaml"}, nil, ExitUsage},
		{"extra argument", []string{"up", "now"}, nil, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *NetworkUpOptions
			err := parse(t, func(f *Factory) *cobra.Command {
				return NewCmdNetworkUp(f, func(o *NetworkUpOptions) error { got = o; return nil })
			}, tt.args...)
			if tt.wantErr != 0 {
				if code := ExitCode(err); code != tt.wantErr {
					t.Fatalf("exit = %d (%v), want %d", code, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

// TestNetworkVerbsHonourTheGlobalOutput: every network verb takes the
// global -o (table, plain, json) and --lang, and refuses an unknown format
// as a usage error, like every other command.
func TestNetworkVerbsHonourTheGlobalOutput(t *testing.T) {
	type got struct{ output, lang string }
	verbs := map[string]func(*Factory, *got) *cobra.Command{
		"up": func(f *Factory, g *got) *cobra.Command {
			return NewCmdNetworkUp(f, func(o *NetworkUpOptions) error { *g = got{o.Output, o.Lang}; return nil })
		},
		"down": func(f *Factory, g *got) *cobra.Command {
			return NewCmdNetworkDown(f, func(o *NetworkDownOptions) error { *g = got{o.Output, o.Lang}; return nil })
		},
		"clean": func(f *Factory, g *got) *cobra.Command {
			return NewCmdNetworkClean(f, func(o *NetworkDownOptions) error { *g = got{o.Output, o.Lang}; return nil })
		},
		"status": func(f *Factory, g *got) *cobra.Command {
			return NewCmdNetworkStatus(f, func(o *NetworkStatusOptions) error { *g = got{o.Output, o.Lang}; return nil })
		},
	}
	for verb, build := range verbs {
		for _, format := range []string{OutputTable, OutputPlain, OutputJSON} {
			t.Run(verb+" -o "+format, func(t *testing.T) {
				var g got
				if err := parse(t, func(f *Factory) *cobra.Command { return build(f, &g) }, verb, "-o", format, "--lang", "zh"); err != nil {
					t.Fatal(err)
				}
				if g.output != format || g.lang != "zh" {
					t.Errorf("output %q, lang %q", g.output, g.lang)
				}
			})
		}
		t.Run(verb+" -o yaml", func(t *testing.T) {
			var g got
			err := parse(t, func(f *Factory) *cobra.Command { return build(f, &g) }, verb, "-o", "yaml")
			if ExitCode(err) != ExitUsage {
				t.Fatalf("exit = %d (%v), want %d", ExitCode(err), err, ExitUsage)
			}
		})
	}
}

// TestNetworkUpTopologyChoice: an explicit file wins; an existing run
// folder keeps its own; --base-port applies on top.
func TestNetworkUpTopologyChoice(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t.yaml")
	os.WriteFile(file, []byte("counties:\n  - {code: \"330782\", name: 义乌市}\n"), 0o644)
	run := filepath.Join(dir, "run")

	o := &NetworkUpOptions{RunDir: run, TopologyFile: file, TopologySet: true, BasePort: 27050}
	top, err := o.resolveTopology()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Counties) != 1 || top.BasePort != 27050 {
		t.Errorf("topology = %+v", top)
	}
	os.MkdirAll(filepath.Join(run, "config"), 0o755)
	os.WriteFile(filepath.Join(run, "config", "topology.yaml"), []byte("x"), 0o644)
	o = &NetworkUpOptions{RunDir: run}
	if top, err := o.resolveTopology(); err != nil || top != nil {
		t.Errorf("existing run folder: topology = %v, %v; want nil (the stored one)", top, err)
	}
	o = &NetworkUpOptions{RunDir: run, TopologyFile: filepath.Join(dir, "none.yaml"), TopologySet: true}
	if _, err := o.resolveTopology(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file err = %v", err)
	}
	os.WriteFile(file, []byte("counties: []\n"), 0o644)
	o = &NetworkUpOptions{RunDir: run, TopologyFile: file, TopologySet: true}
	if _, err := o.resolveTopology(); ExitCode(err) != ExitInvalid {
		t.Errorf("bad topology exit = %d (%v), want %d", ExitCode(err), err, ExitInvalid)
	}
}

// TestNetworkUpPassesCalendarsAndProgress: up hands the shipped calendars
// to the network and prints the profile path on stdout.
func TestNetworkUpPassesCalendarsAndProgress(t *testing.T) {
	ios, _, out, _ := Test()
	var got network.Options
	o := &NetworkUpOptions{
		IO: ios, RunDir: t.TempDir(), TopologyFile: "", TopologySet: false,
		Calendars: shippedCalendars,
		Up: func(_ context.Context, opts network.Options) (*network.Network, error) {
			got = opts
			return nil, errors.New("stop here")
		},
	}
	if err := runNetworkUp(o); err == nil || err.Error() != "stop here" {
		t.Fatalf("err = %v", err)
	}
	if len(got.Calendars) < 2 || got.Progress != ios.ErrOut || got.Dir != o.RunDir {
		t.Errorf("options = %+v", got)
	}
	var cal struct {
		Year int `json:"year"`
	}
	if err := json.Unmarshal(got.Calendars[0], &cal); err != nil || cal.Year < 2025 {
		t.Errorf("calendar = %s (%v)", got.Calendars[0], err)
	}
	if out.Len() != 0 {
		t.Errorf("stdout on failure: %q", out)
	}
}

// TestNetworkUpPrintsStatusAndProfile: after up, the network as up left
// it and the profile, in every format.
func TestNetworkUpPrintsStatusAndProfile(t *testing.T) {
	st := testStatus(true)
	for _, tt := range []struct {
		format string
		want   []string
	}{
		{OutputPlain, []string{"orderer0\torderer\t-\t127.0.0.1:7050\trunning\t42\tOK\t7\t\n", "\nhealthy\ttrue\n", "\nprofile\t/r/network.json\n"}},
		{OutputTable, []string{"NODE  ", "PID", "\nprofile             /r/network.json\n"}},
		{OutputJSON, []string{`"profile": "/r/network.json"`, `"runFolder": "/r"`, `"pid": 42`}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			ios, _, out, _ := Test()
			o := &NetworkUpOptions{IO: ios, RunDir: t.TempDir(), Output: tt.format, Calendars: shippedCalendars,
				Up: func(context.Context, network.Options) (*network.Network, error) {
					return &network.Network{Layout: network.Layout{Dir: "/r"}}, nil
				},
				Status: func(context.Context, *network.Network) (*network.Status, error) { return st, nil },
			}
			if err := runNetworkUp(o); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.format == OutputJSON {
				var v NetworkUpResult
				if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Profile != "/r/network.json" || len(v.Nodes) != 1 || !v.Healthy {
					t.Errorf("json = %s (%v)", out, err)
				}
			}
		})
	}
}

func testStatus(healthy bool) *network.Status {
	return &network.Status{Name: "credit-local", Dir: "/r", Channel: "credit", Chaincode: "credit", Committed: true, ChaincodeSequence: 1, Healthy: healthy,
		Nodes: []network.NodeStatus{{Name: "orderer0", Kind: "orderer", Address: "127.0.0.1:7050", Process: "running", PID: 42, Health: "OK", Height: 7}}}
}

func TestNetworkStatusOutput(t *testing.T) {
	for _, tt := range []struct {
		name, output, lang string
		healthy            bool
		want               []string
		exit               int
	}{
		{"table", OutputTable, "", true, []string{"NODE      KIND     COUNTY  ADDRESS         PROCESS  PID  HEALTH  HEIGHT  NOTE\norderer0  orderer  -       127.0.0.1:7050  running  42   OK      7",
			"chaincodeCommitted  true\n", "chaincodeSequence   1\n", "healthy             true\n", "runFolder           /r\n"}, ExitOK},
		{"plain", OutputPlain, "", true, []string{"orderer0\torderer\t-\t127.0.0.1:7050\trunning\t42\tOK\t7\t\n", "\nchannel\tcredit\n", "\nhealthy\ttrue\n"}, ExitOK},
		{"default is plain when piped", "", "", true, []string{"orderer0\torderer\t"}, ExitOK},
		{"json", OutputJSON, "", true, []string{`"height": 7`, `"chaincodeCommitted": true`, `"healthy": true`}, ExitOK},
		{"zh", OutputTable, "zh", true, []string{"类别", "是"}, ExitOK},
		{"unhealthy exits 1 after printing", OutputPlain, "", false, []string{"\nhealthy\tfalse\n"}, ExitError},
		{"unhealthy json exits 1 after printing", OutputJSON, "", false, []string{`"healthy": false`}, ExitError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := Test()
			o := &NetworkStatusOptions{IO: ios, Output: tt.output, Lang: tt.lang,
				Status: func(context.Context, string, string) (*network.Status, error) { return testStatus(tt.healthy), nil }}
			err := runNetworkStatus(o)
			if ExitCode(err) != tt.exit {
				t.Fatalf("exit = %d (%v)", ExitCode(err), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.output == OutputJSON {
				var s network.Status
				if err := json.Unmarshal(out.Bytes(), &s); err != nil || len(s.Nodes) != 1 || s.Nodes[0].PID != 42 {
					t.Errorf("json = %s (%v)", out, err)
				}
			}
		})
	}
}

func TestNetworkDownNothingRunning(t *testing.T) {
	ios, _, out, errOut := Test()
	dir := t.TempDir()
	if err := runNetworkDown(&NetworkDownOptions{IO: ios, RunDir: dir, Output: OutputJSON}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "nothing running") {
		t.Errorf("stderr = %q", errOut)
	}
	var v NetworkDownResult
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.RunFolder != dir || v.Nodes == nil || len(v.Nodes) != 0 {
		t.Errorf("json = %s (%v); want the run folder and an empty list", out, err)
	}
}

// startNode starts a process as network up would leave it: in its own
// process group, with the marker in its environment and a PID file in
// <dir>/pids (the format of network/process.go's pidRecord).
func startNode(t *testing.T, dir, name string) int {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	cmd := exec.Command(sleep, "60")
	cmd.Env = []string{"CREDIT_NODE=" + filepath.Join(dir, name)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	b, _ := json.Marshal(map[string]any{"pid": cmd.Process.Pid, "binary": sleep, "marker": filepath.Join(dir, name), "started": time.Now()})
	os.MkdirAll(filepath.Join(dir, "pids"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "pids", name+".pid"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestNetworkDownAndCleanReportWhatTheyStopped: down and clean print each
// process with its PID and what was done; clean says it removed the run
// folder.
func TestNetworkDownAndCleanReportWhatTheyStopped(t *testing.T) {
	dir := t.TempDir()
	pid := startNode(t, dir, "orderer0")
	ios, _, out, errOut := Test()
	if err := runNetworkDown(&NetworkDownOptions{IO: ios, RunDir: dir, Output: OutputJSON}); err != nil {
		t.Fatal(err)
	}
	var down NetworkDownResult
	if err := json.Unmarshal(out.Bytes(), &down); err != nil {
		t.Fatal(err)
	}
	want := []NetworkStopped{{Name: "orderer0", PID: pid, Action: "stopped"}}
	if down.RunFolder != dir || !slices.Equal(down.Nodes, want) {
		t.Errorf("down = %+v, want nodes %+v", down, want)
	}
	if !strings.Contains(errOut.String(), "orderer0") {
		t.Errorf("no progress on stderr: %q", errOut)
	}

	pid = startNode(t, dir, "peer0.c330782")
	ios, _, out, _ = Test()
	if err := runNetworkClean(&NetworkDownOptions{IO: ios, RunDir: dir, Output: OutputPlain}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{fmt.Sprintf("peer0.c330782\t%d\tstopped\n", pid), "runFolder\t" + dir + "\n", "removed\ttrue\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("clean output lacks %q:\n%s", w, out)
		}
	}
	if fileExists(dir) {
		t.Errorf("%s not removed", dir)
	}

	ios, _, out, _ = Test()
	if err := runNetworkClean(&NetworkDownOptions{IO: ios, RunDir: dir, Output: OutputJSON}); err != nil {
		t.Fatal(err)
	}
	var clean NetworkCleanResult
	if err := json.Unmarshal(out.Bytes(), &clean); err != nil || clean.Removed || len(clean.Nodes) != 0 || clean.RunFolder != dir {
		t.Errorf("clean of a missing folder = %s (%v)", out, err)
	}
}

// TestNetworkCleanRefusesAFolderThatIsNotARunFolder: a mistyped path is
// never wiped, and nothing is printed on stdout.
func TestNetworkCleanRefusesAFolderThatIsNotARunFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("x"), 0o644)
	ios, _, out, _ := Test()
	err := runNetworkClean(&NetworkDownOptions{IO: ios, RunDir: dir, Output: OutputJSON})
	if ExitCode(err) != ExitInvalid || !fileExists(filepath.Join(dir, "thesis.tex")) || out.Len() != 0 {
		t.Errorf("err = %v (exit %d), stdout %q", err, ExitCode(err), out)
	}
}
