package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Factory carries what commands need and is built once in main. Fields are
// filled lazily by the commands that need them, so "creditctl --help" works
// without a network.
type Factory struct {
	IO *IOStreams
}

// NewRootCmd builds the creditctl command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "creditctl <noun> <verb> [flags]",
		Short: "Operate the county credit ledger: commitments, punishments, repairs, certificates",
		Long: `creditctl records credit commitments, punishments, cross-county enforcement,
credit repairs and objections on the county credit ledger (a Hyperledger Fabric
channel), runs the local network, and issues and verifies blockchain credit
certificates.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetIn(f.IO.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{Err: err}
	})
	for _, add := range commandAdders {
		root.AddCommand(add(f))
	}
	return root
}

// commandAdders lists the noun commands; each noun's file appends its
// constructor in an init function, so adding a noun touches one file.
var commandAdders []func(*Factory) *cobra.Command

// Main runs creditctl with args and returns the exit code. Errors are
// printed to stderr as "creditctl: <message>".
func Main(f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "creditctl: %v\n", err)
	}
	return ExitCode(err)
}
