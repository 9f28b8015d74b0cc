package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/client/cert"
)

func init() {
	commandAdders = append(commandAdders, NewCmdTrust)
}

// NewCmdTrust is the "trust" noun.
func NewCmdTrust(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust <export|show>",
		Short: "Trust roots for offline certificate verification, from the channel configuration",
		Long: `Trust roots are what an offline verifier trusts: every member organisation's
MSP (root and intermediate CA certificates, CRLs, node OUs) from the channel's
latest configuration block, the ordering service (type, BFT consenters), the
endorsement policy and the county registry. Their fingerprint (SHA-256 of their
RFC 8785 form, export time excluded) is what a network publishes, so that an
auditor can check a trust file before relying on it.`,
	}
	cmd.AddCommand(NewCmdTrustExport(f, nil), NewCmdTrustShow(f, nil))
	return cmd
}

// TrustExportOptions are the inputs of `trust export`.
type TrustExportOptions struct {
	Base
	certDeps
	Out string
}

// TrustSummary is the output of `trust export --out` and `trust show`.
type TrustSummary struct {
	File          string   `json:"file,omitempty"`
	Channel       string   `json:"channel"`
	ConfigBlock   uint64   `json:"configBlock"`
	OrdererType   string   `json:"ordererType"`
	Endorsement   string   `json:"endorsement"`
	Organizations []string `json:"organizations"`
	Counties      []string `json:"counties"`
	ExportedAt    string   `json:"exportedAt,omitempty"`
	Fingerprint   string   `json:"fingerprint"`
}

func summarizeTrust(file string, t *cert.TrustRoots) TrustSummary {
	s := TrustSummary{File: file, Channel: t.Channel, ConfigBlock: t.ConfigBlock, OrdererType: t.OrdererType,
		Endorsement: t.Endorsement, ExportedAt: t.ExportedAt, Fingerprint: t.Fingerprint(),
		Organizations: []string{}, Counties: []string{}}
	for _, o := range t.Organizations {
		s.Organizations = append(s.Organizations, o.MSPID+" ("+o.Role+")")
	}
	for _, c := range t.Counties {
		s.Counties = append(s.Counties, c.Code+" "+c.Name+" ("+c.MSPID+")")
	}
	return s
}

// NewCmdTrustExport builds `trust export`.
func NewCmdTrustExport(f *Factory, runF func(*TrustExportOptions) error) *cobra.Command {
	opts := &TrustExportOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "export [--out FILE]",
		Short: "Export the channel's trust roots (from its latest configuration block) for offline verification",
		Long: `Read the channel's latest configuration block (cscc GetConfigBlock) and the
county registry from your peer, and write the trust roots as JSON to --out
(default stdout). Any identity of the channel may; it connects as your
county's auditor1 unless --user or --msp names another.`,
		Example: `  creditctl trust export --out trust.json
  creditctl trust export --out trust.json -o json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrustExport(opts)
		},
	}
	opts.certDeps = f.certDeps(true)
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the trust roots here (default: stdout)")
	return cmd
}

func runTrustExport(o *TrustExportOptions) error {
	toFile := o.Out != "" && o.Out != "-"
	if toFile {
		if _, err := (&certDeps{}).checkOutputs("", o.Out); err != nil {
			return err
		}
	}
	var t *cert.TrustRoots
	err := o.withCertLedger(func(ctx context.Context, l CertLedger) error {
		var err error
		t, err = exportTrust(ctx, l, o.nowString)
		return err
	})
	if err != nil {
		return err
	}
	if !toFile {
		_, err := t.WriteTo(o.IO.Out)
		return err
	}
	var b strings.Builder
	if _, err := t.WriteTo(&b); err != nil {
		return err
	}
	if err := writeFileAtomic(o.Out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return o.Printer().WriteRecord(summarizeTrust(o.Out, t))
}

// TrustShowOptions are the inputs of `trust show`.
type TrustShowOptions struct {
	Base
	File string
}

// NewCmdTrustShow builds `trust show`.
func NewCmdTrustShow(f *Factory, runF func(*TrustShowOptions) error) *cobra.Command {
	opts := &TrustShowOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "show <file>",
		Short: "Show a trust roots file: organisations, counties and the fingerprint to compare (offline)",
		Example: `  creditctl trust show trust.json
  creditctl trust show trust.json -o json`,
		Args: usageArgs(1, "one trust roots file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrustShow(opts)
		},
	}
	return cmd
}

func runTrustShow(o *TrustShowOptions) error {
	t, err := readTrustFile("trust roots file", o.File)
	if err != nil {
		return err
	}
	return o.Printer().WriteRecord(summarizeTrust(o.File, t))
}
