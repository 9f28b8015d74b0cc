package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// settingsFor runs the root command's flag parsing on args (with a no-op
// subcommand) and resolves the settings with env and the working
// directory wd.
func settingsFor(t *testing.T, args []string, env map[string]string, wd string) (*Settings, error) {
	t.Helper()
	ios, _, _, _ := Test()
	f := &Factory{IO: ios, Getenv: func(k string) string { return env[k] }, Getwd: func() (string, error) { return wd, nil }}
	root := NewRootCmd(f)
	var got *Settings
	var serr error
	probe := newProbeCmd(func() { got, serr = f.Settings() })
	root.AddCommand(probe)
	root.SetArgs(append([]string{"probe"}, args...))
	if err := root.Execute(); err != nil {
		return nil, err
	}
	return got, serr
}

func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, "county: \"330182\"\nuser: fromfile\npeer: peer1\noutput: json\nlang: zh\nperson-key-file: /file/key\nprofile: /file/network.json\ncommit-timeout: 2m\n")
	xdg := filepath.Join(dir, "xdg")
	writeFile(t, filepath.Join(xdg, "creditctl", "config.yaml"), "user: fromxdg\n")

	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(*testing.T, *Settings)
	}{
		{"defaults without config", nil, map[string]string{"HOME": dir}, func(t *testing.T, s *Settings) {
			if s.User != "officer1" || s.Lang != "en" || s.Output != "" || s.County != "" || s.Config != "" {
				t.Errorf("settings = %+v", s)
			}
		}},
		{"config file from XDG_CONFIG_HOME", nil, map[string]string{"XDG_CONFIG_HOME": xdg}, func(t *testing.T, s *Settings) {
			if s.User != "fromxdg" || s.Config == "" {
				t.Errorf("settings = %+v", s)
			}
		}},
		{"config file gives every setting", []string{"--config", cfg}, nil, func(t *testing.T, s *Settings) {
			if s.County != "330182" || s.User != "fromfile" || s.Peer != "peer1" || s.Output != "json" || s.Lang != "zh" ||
				s.PersonKeyFile != "/file/key" || s.Profile != "/file/network.json" || s.commitTimeout != 2*time.Minute {
				t.Errorf("settings = %+v", s)
			}
		}},
		{"environment beats config file", nil, map[string]string{envConfig: cfg, "CREDITCTL_COUNTY": "371324", "CREDITCTL_OUTPUT": "plain", envProfile: "/env/network.json"}, func(t *testing.T, s *Settings) {
			if s.County != "371324" || s.Output != "plain" || s.User != "fromfile" || s.Profile != "/env/network.json" {
				t.Errorf("settings = %+v", s)
			}
		}},
		{"flags beat environment", []string{"--county", "330782", "-o", "table", "--lang", "en", "--profile", "/flag/n.json"},
			map[string]string{envConfig: cfg, "CREDITCTL_COUNTY": "371324", "CREDITCTL_LANG": "zh"}, func(t *testing.T, s *Settings) {
				if s.County != "330782" || s.Output != "table" || s.Lang != "en" || s.Profile != "/flag/n.json" || s.User != "fromfile" {
					t.Errorf("settings = %+v", s)
				}
			}},
		{"msp without user", []string{"--msp", "/m/msp"}, map[string]string{"HOME": dir}, func(t *testing.T, s *Settings) {
			if s.MSP != "/m/msp" || s.User != "" {
				t.Errorf("settings = %+v", s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := settingsFor(t, tt.args, tt.env, dir)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "colour: red\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"unknown output", []string{"-o", "xml"}, nil, ExitUsage},
		{"unknown lang", nil, map[string]string{"CREDITCTL_LANG": "fr"}, ExitUsage},
		{"commit timeout not a duration", []string{"--commit-timeout", "soon"}, nil, ExitUsage},
		{"commit timeout not positive", nil, map[string]string{"CREDITCTL_COMMIT_TIMEOUT": "0s"}, ExitUsage},
		{"explicit config missing", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, ExitError},
		{"unknown key in config", []string{"--config", bad}, nil, ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"HOME": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := settingsFor(t, tt.args, env, dir)
			if err == nil {
				t.Fatal("no error")
			}
			if got := ExitCode(err); got != tt.want {
				t.Errorf("exit %d (%v), want %d", got, err, tt.want)
			}
		})
	}
}

// TestDefaultProfileWalksUp: the profile is found in .run/net of the working
// directory or any folder above it.
func TestDefaultProfileWalksUp(t *testing.T) {
	dir := t.TempDir()
	want := filepath.Join(dir, ".run", "net", "network.json")
	writeFile(t, want, "{}")
	deep := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := settingsFor(t, nil, map[string]string{"HOME": dir}, deep)
	if err != nil {
		t.Fatal(err)
	}
	if s.Profile != want {
		t.Errorf("profile = %s, want %s", s.Profile, want)
	}
}

func TestProfileMissingSaysHowToStart(t *testing.T) {
	ios, _, _, _ := Test()
	f := &Factory{IO: ios, Getenv: func(k string) string {
		if k == envProfile {
			return "/nonexistent/network.json"
		}
		return ""
	}}
	_, err := f.Profile()
	if err == nil || !contains(err.Error(), "network up") {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		t.Log("wraps ErrNotExist") // informative only
	}
}
