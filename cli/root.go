package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/countycredit/creditledger/network"
)

// Factory carries what commands need and is built once in main. Everything
// is resolved lazily by the commands that need it, so "creditctl --help"
// works without a network, a profile or a config file.
type Factory struct {
	IO *IOStreams

	// Getenv, Getwd, Clock and Connect replace the process's environment,
	// working directory, clock and ledger connection in tests; nil means
	// the real ones.
	Getenv  func(string) string
	Getwd   func() (string, error)
	Clock   func() time.Time
	Connect func(context.Context) (Ledger, error)

	flags      *pflag.FlagSet // the root's persistent flags
	flagConfig string
	flagValues Settings
	settings   *Settings
	profile    *network.Profile
}

// Now is the current time (f.Clock in tests). The ledger never uses the
// client's clock for its rules; the CLI uses it for generated record IDs,
// relative dates and its own checks before sending.
func (f *Factory) Now() time.Time {
	if f.Clock != nil {
		return f.Clock()
	}
	return time.Now()
}

// NewRootCmd builds the creditctl command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "creditctl <noun> <verb> [flags]",
		Short: "Operate the county credit ledger: commitments, punishments, repairs, certificates",
		Long: `creditctl records credit commitments, punishments, cross-county enforcement,
credit repairs and objections on the county credit ledger (a Hyperledger Fabric
channel), runs the local network, and issues and verifies blockchain credit
certificates.

Settings (which network, county, identity and peer; output and language) come
from flags, then CREDITCTL_* environment variables, then the config file
($XDG_CONFIG_HOME/creditctl/config.yaml, keys named like the flags).

Exit codes: 0 ok, 1 other failure, 2 invalid input (nothing sent), 3 forbidden,
4 not found, 5 already exists, 6 refused by a credit rule (state, too early,
not repairable, evidence missing), 7 certificate invalid and 8 cannot tell
(cert verify), 64 wrong command line, 75 submitted but the commit status is
unknown (check with "creditctl tx status <txid>").`,
		Example: `  creditctl punishment impose --subject 91330782MA2K3Y5Q1R --kind publicity --severity general \
      --decision-date 2026-03-02 --decision-no "义市监罚〔2026〕12号" --legal-basis "《食品安全法》第一百二十二条"
  creditctl subject show 91330782MA2K3Y5Q1R --lang zh
  creditctl --county 330182 enforcement list -o json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetIn(f.IO.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{Err: err}
	})
	f.addSettingFlags(root.PersistentFlags())
	for _, add := range commandAdders {
		root.AddCommand(add(f))
	}
	refuseUnknownVerbs(root)
	return root
}

// refuseUnknownVerbs makes every noun (a command with verbs and no action
// of its own) print its help when called alone and refuse an unknown verb
// as a usage error; cobra would print the help and exit 0.
func refuseUnknownVerbs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownVerbs(sub)
	}
	if c.HasParent() && c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			var verbs []string
			for _, v := range cmd.Commands() {
				if v.IsAvailableCommand() {
					verbs = append(verbs, v.Name())
				}
			}
			return &UsageError{Err: fmt.Errorf("unknown verb %q for %q (verbs: %s)", args[0], cmd.CommandPath(), strings.Join(verbs, ", "))}
		}
	}
}

// commandAdders lists the noun commands; each noun's file appends its
// constructor in an init function, so adding a noun touches one file.
var commandAdders []func(*Factory) *cobra.Command

// Main runs creditctl with args and returns the exit code. Errors are
// printed to stderr as "creditctl: <message>", with what to do next when
// there is something to do (see reportError).
func Main(f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = &UsageError{Err: err}
	}
	if err != nil {
		reportError(f.IO.ErrOut, err)
	}
	return ExitCode(err)
}
