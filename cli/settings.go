package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Settings say which network, county, identity and peer a ledger command
// uses, and how it prints. Each is resolved, in order of precedence, from
// the root command's flag, its CREDITCTL_* environment variable, the config
// file, and a default (see settingSpecs).
type Settings struct {
	// Config is the config file that was read; "" if there was none.
	Config string `yaml:"-"`
	// IdentitySet says User or MSP was given (flag, environment or config
	// file) rather than defaulted; admin commands then use it instead of
	// the county's admin.
	IdentitySet bool `yaml:"-"`
	// Profile is the network profile (network.json, DESIGN §9).
	Profile string `yaml:"profile"`
	// County is the caller's county division code; "" = the profile's first.
	County string `yaml:"county"`
	// User is the identity name, looked up as <usersDir>/<user>@<org>/msp.
	User string `yaml:"user"`
	// MSP is an explicit MSP folder; it overrides User.
	MSP string `yaml:"msp"`
	// Peer is the name of the county's peer to connect to; "" = its first.
	Peer string `yaml:"peer"`
	// Output is "table", "plain" or "json"; "" picks table on a terminal
	// and plain (tab-separated) otherwise.
	Output string `yaml:"output"`
	// Lang is "en" or "zh", the language of labels.
	Lang string `yaml:"lang"`
	// PersonKeyFile holds the channel-wide key natural persons' ID numbers
	// are hashed with (DESIGN §3).
	PersonKeyFile string `yaml:"person-key-file"`
	// CommitTimeout is how long a write waits for its commit status (a Go
	// duration, e.g. 90s); "" = the client's default (60s). A write whose
	// status does not come in time exits 75: check it with tx status.
	CommitTimeout string `yaml:"commit-timeout"`
	// commitTimeout is CommitTimeout parsed; 0 = the default.
	commitTimeout time.Duration
}

// Output formats.
const (
	OutputTable = "table" // aligned columns
	OutputPlain = "plain" // tab-separated, no header: for scripts and pipes
	OutputJSON  = "json"  // the ledger's JSON, see docs/OPERATOR.md
)

// settingSpec is one setting: its flag, environment variable and default.
type settingSpec struct {
	flag, env, usage string
	field            func(*Settings) *string
}

// settingSpecs lists the settings in the order the help shows them. The
// YAML key of each is its flag name.
var settingSpecs = []settingSpec{
	{"profile", envProfile, "network profile (network.json; default: .run/net/network.json in this folder or above)",
		func(s *Settings) *string { return &s.Profile }},
	{"county", "CREDITCTL_COUNTY", "your county's division code (default: the profile's first county)",
		func(s *Settings) *string { return &s.County }},
	{"user", "CREDITCTL_USER", "identity name in the county's users folder (default officer1)",
		func(s *Settings) *string { return &s.User }},
	{"msp", "CREDITCTL_MSP", "MSP folder of the identity to use (overrides --user)",
		func(s *Settings) *string { return &s.MSP }},
	{"peer", "CREDITCTL_PEER", "name of the county peer to connect to (default: the county's first)",
		func(s *Settings) *string { return &s.Peer }},
	{"output", "CREDITCTL_OUTPUT", "output format: table, plain or json (default: table on a terminal, plain otherwise)",
		func(s *Settings) *string { return &s.Output }},
	{"lang", "CREDITCTL_LANG", "language of labels: en or zh",
		func(s *Settings) *string { return &s.Lang }},
	{"person-key-file", "CREDITCTL_PERSON_KEY_FILE", "file holding the channel's person key, to hash ID numbers (--person-id)",
		func(s *Settings) *string { return &s.PersonKeyFile }},
	{"commit-timeout", "CREDITCTL_COMMIT_TIMEOUT", "how long a write waits for its commit status, e.g. 90s (default 60s; past it: exit 75, check with tx status)",
		func(s *Settings) *string { return &s.CommitTimeout }},
}

// envConfig names the config file.
const envConfig = "CREDITCTL_CONFIG"

// addSettingFlags registers the settings as persistent flags of the root
// command, bound to f.flagValues.
func (f *Factory) addSettingFlags(fs *pflag.FlagSet) {
	f.flags = fs
	fs.StringVar(&f.flagConfig, "config", "", "config file (env "+envConfig+"; default $XDG_CONFIG_HOME/creditctl/config.yaml)")
	for _, s := range settingSpecs {
		usage := s.usage + " (env " + s.env + ")"
		if s.flag == "output" {
			fs.StringVarP(s.field(&f.flagValues), s.flag, "o", "", usage)
			continue
		}
		fs.StringVar(s.field(&f.flagValues), s.flag, "", usage)
	}
}

// Settings resolves the settings once: flags, then environment, then the
// config file, then defaults. An unreadable or malformed config file, or an
// output or language that does not exist, is an error.
func (f *Factory) Settings() (*Settings, error) {
	if f.settings != nil {
		return f.settings, nil
	}
	s, err := f.resolveSettings()
	if err != nil {
		return nil, err
	}
	f.settings = s
	return s, nil
}

func (f *Factory) getenv(k string) string {
	if f.Getenv != nil {
		return f.Getenv(k)
	}
	return os.Getenv(k)
}

func (f *Factory) changed(name string) bool {
	return f.flags != nil && f.flags.Changed(name)
}

func (f *Factory) resolveSettings() (*Settings, error) {
	path, explicit := f.flagConfig, f.changed("config")
	if !explicit {
		if v := f.getenv(envConfig); v != "" {
			path, explicit = v, true
		} else {
			path = f.defaultConfigPath()
		}
	}
	file, err := readConfig(path, explicit)
	if err != nil {
		return nil, err
	}
	s := &Settings{}
	if file != nil {
		s.Config = path
	}
	for _, spec := range settingSpecs {
		dst := spec.field(s)
		switch {
		case f.changed(spec.flag):
			*dst = *spec.field(&f.flagValues)
		case f.getenv(spec.env) != "":
			*dst = f.getenv(spec.env)
		case file != nil:
			*dst = *spec.field(file)
		}
	}
	s.IdentitySet = s.User != "" || s.MSP != ""
	if s.Profile == "" {
		s.Profile = f.defaultProfile()
	}
	if s.User == "" && s.MSP == "" {
		s.User = "officer1"
	}
	if s.Lang == "" {
		s.Lang = "en"
	}
	switch s.Output {
	case "", OutputTable, OutputPlain, OutputJSON:
	default:
		return nil, &UsageError{Err: fmt.Errorf("output %q: must be table, plain or json", s.Output)}
	}
	if s.Lang != "en" && s.Lang != "zh" {
		return nil, &UsageError{Err: fmt.Errorf("lang %q: must be en or zh", s.Lang)}
	}
	if s.CommitTimeout != "" {
		d, err := time.ParseDuration(s.CommitTimeout)
		if err != nil || d <= 0 {
			return nil, &UsageError{Err: fmt.Errorf("commit-timeout %q: must be a positive duration such as 90s or 2m", s.CommitTimeout)}
		}
		s.commitTimeout = d
	}
	return s, nil
}

// defaultConfigPath is $XDG_CONFIG_HOME/creditctl/config.yaml, or
// ~/.config/creditctl/config.yaml when XDG_CONFIG_HOME is not set.
func (f *Factory) defaultConfigPath() string {
	dir := f.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := f.getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "creditctl", "config.yaml")
}

// readConfig reads a YAML config file whose keys are the setting flag
// names. A missing file is an error only when it was named explicitly.
func readConfig(path string, explicit bool) (*Settings, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var s Settings
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config file %s: %w (keys: %s)", path, err, strings.Join(settingKeys(), ", "))
	}
	return &s, nil
}

func settingKeys() []string {
	var out []string
	for _, s := range settingSpecs {
		out = append(out, s.flag)
	}
	return out
}

// defaultProfile walks up from the working directory to the first folder
// holding .run/net/network.json; without one, the checkout's (or the
// working directory's) .run/net/network.json, so the error names it.
func (f *Factory) defaultProfile() string {
	getwd := os.Getwd
	if f.Getwd != nil {
		getwd = f.Getwd
	}
	rel := filepath.Join(".run", "net", "network.json")
	dir, err := getwd()
	if err != nil {
		return rel
	}
	for d := dir; ; {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if root := checkoutRoot(); root != "" {
		return filepath.Join(root, rel)
	}
	return filepath.Join(dir, rel)
}
