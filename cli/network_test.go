package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		{"defaults", nil, func(t *testing.T, o *NetworkUpOptions) {
			if !strings.HasSuffix(o.RunDir, filepath.Join(".run", "net")) || o.BasePort != 0 || o.StartOnly || o.TopologySet {
				t.Errorf("opts = %+v", o)
			}
			if !strings.HasSuffix(o.FabricDir, filepath.Join(".cache", "fabric", "3.1.1")) {
				t.Errorf("fabric dir = %s", o.FabricDir)
			}
		}, 0},
		{"all flags", []string{"--run", "/tmp/r", "--topology", "t.yaml", "--base-port", "27050", "--fabric", "/f",
			"--chaincode-server", "/cc", "--host", "10.0.0.1,10.0.0.2", "--start-only"}, func(t *testing.T, o *NetworkUpOptions) {
			if o.RunDir != "/tmp/r" || o.TopologyFile != "t.yaml" || !o.TopologySet || o.BasePort != 27050 || o.FabricDir != "/f" ||
				o.ChaincodeServer != "/cc" || len(o.Hosts) != 2 || !o.StartOnly {
				t.Errorf("opts = %+v", o)
			}
		}, 0},
		{"negative port", []string{"--base-port", "-1"}, nil, ExitUsage},
		{"unknown flag", []string{"--colour"}, nil, ExitUsage},
		{"extra argument", []string{"now"}, nil, ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			var got *NetworkUpOptions
			cmd := NewCmdNetworkUp(&Factory{IO: ios}, func(o *NetworkUpOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
			err := cmd.Execute()
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

func TestNetworkStatusOutput(t *testing.T) {
	st := &network.Status{Name: "credit-local", Dir: "/r", Channel: "credit", Chaincode: "credit", Committed: true, ChaincodeSequence: 1, Healthy: true,
		Nodes: []network.NodeStatus{{Name: "orderer0", Kind: "orderer", Address: "127.0.0.1:7050", Process: "running", PID: 42, Health: "OK", Height: 7}}}
	for _, tt := range []struct {
		name, output string
		healthy      bool
		want         []string
		exit         int
	}{
		{"table", "", true, []string{"orderer0", "running", "42", "committed (sequence 1)", "healthy: yes"}, ExitOK},
		{"json", "json", true, []string{`"height": 7`, `"chaincodeCommitted": true`}, ExitOK},
		{"unhealthy exits 1", "", false, []string{"healthy: NO"}, ExitError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := Test()
			s := *st
			s.Healthy = tt.healthy
			o := &NetworkStatusOptions{IO: ios, Output: tt.output, Status: func(context.Context, string, string) (*network.Status, error) { return &s, nil }}
			err := runNetworkStatus(o)
			if ExitCode(err) != tt.exit {
				t.Fatalf("exit = %d (%v)", ExitCode(err), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestNetworkStatusRefusesUnknownFormat(t *testing.T) {
	ios, _, _, _ := Test()
	cmd := NewCmdNetworkStatus(&Factory{IO: ios}, func(*NetworkStatusOptions) error { return nil })
	cmd.SetArgs([]string{"-o", "yaml"})
	if err := cmd.Execute(); ExitCode(err) != ExitUsage {
		t.Fatalf("exit = %d (%v)", ExitCode(err), err)
	}
}

func TestNetworkDownNothingRunning(t *testing.T) {
	ios, _, _, errOut := Test()
	if err := runNetworkDown(&NetworkDownOptions{IO: ios, RunDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "nothing running") {
		t.Errorf("stderr = %q", errOut)
	}
}
