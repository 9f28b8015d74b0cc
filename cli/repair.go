package cli

import (
	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdRepair)
}

// NewCmdRepair is the "repair" noun.
func NewCmdRepair(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repair <apply|accept|complete|reject|show>",
		Short: "Credit repair (信用修复): apply in any county, accepted and completed by the imposing county",
		Long: `A subject whose punishment is repairable applies for credit repair with
evidence: identity documents, proof the penalty was fulfilled, a public repair
commitment; serious cases also a repair-training certificate and a credit
report. The documents stay with the office; only their SHA-256 goes on the
ledger. Any county may receive the application (cross-region acceptance); the
imposing county accepts it and completes it once the minimum publicity period
is over (or rejects it). Completion takes the punishment out of publicity.`,
	}
	cmd.AddCommand(
		NewCmdRepairApply(f, nil),
		NewCmdRepairAccept(f, nil),
		NewCmdRepairComplete(f, nil),
		NewCmdRepairReject(f, nil),
		newCmdShow(f, credit.TypeRepair, `  creditctl repair show REP-330782-20261123-4f9a0c`, nil),
	)
	return cmd
}

// evidenceFlags are the document flags and the evidence field each fills.
var evidenceFlags = []struct{ flag, field, usage string }{
	{"identity-doc", "identity", "identity documents (营业执照/身份证明) (file)"},
	{"penalty-doc", "penaltyFulfilled", "proof the penalty was fulfilled (履行义务证明) (file)"},
	{"commitment-doc", "repairCommitment", "the signed public repair commitment (信用修复承诺书) (file)"},
	{"training-doc", "training", "repair-training certificate (信用修复培训证明), serious cases (file)"},
	{"credit-report-doc", "creditReport", "credit report (信用报告), serious cases (file)"},
}

// RepairApplyOptions are the inputs of `repair apply`.
type RepairApplyOptions struct {
	Base
	File   string
	Req    credit.ApplyRepairRequest
	Fields []string
	Docs   map[string]string // evidence field -> document file
}

var repairApplyFlags = flagFields{"id": "id", "punishment": "punishmentId"}

// repairApplyNames also names the document flags in errors.
var repairApplyNames = func() flagFields {
	ff := flagFields{"id": "id", "punishment": "punishmentId"}
	for _, e := range evidenceFlags {
		ff[e.flag] = "evidence." + e.field
	}
	return ff
}()

// NewCmdRepairApply builds `repair apply`.
func NewCmdRepairApply(f *Factory, runF func(*RepairApplyOptions) error) *cobra.Command {
	opts := &RepairApplyOptions{Base: f.base(), Docs: map[string]string{}}
	docs := make([]string, len(evidenceFlags))
	cmd := &cobra.Command{
		Use:   "apply --punishment ID --identity-doc FILE --penalty-doc FILE --commitment-doc FILE [flags]",
		Short: "Record a credit-repair application received by your county",
		Long: `Record an application to repair a punishment. Your county receives it
(receivedBy); the repair belongs to the imposing county. The application also
records the subject's public repair commitment as a commitment of kind repair,
<id>.commitment. The documents are read here and only their SHA-256 digests are
sent. The ID is generated (REP-<county>-<date>-<hex>) unless --id is given.`,
		Example: `  creditctl repair apply --punishment PUN-330782-20261123-4f9a0c \
      --identity-doc docs/licence.pdf --penalty-doc docs/fine-receipt.pdf --commitment-doc docs/commitment.pdf
  creditctl --county 330182 repair apply --punishment PUN-330782-20261123-4f9a0c \
      --identity-doc a.pdf --penalty-doc b.pdf --commitment-doc c.pdf --training-doc t.pdf --credit-report-doc r.pdf`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Fields = repairApplyFlags.changed(cmd)
			for i, e := range evidenceFlags {
				if docs[i] != "" {
					opts.Docs[e.field] = docs[i]
				}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRepairApply(opts)
		},
	}
	fl := cmd.Flags()
	fileFlag(cmd, &opts.File)
	fl.StringVar(&opts.Req.ID, "id", "", "record ID (default: generated, e.g. REP-330782-20261123-4f9a0c)")
	fl.StringVar(&opts.Req.PunishmentID, "punishment", "", "the punishment to repair")
	for i, e := range evidenceFlags {
		fl.StringVar(&docs[i], e.flag, "", e.usage)
	}
	return cmd
}

// evidenceField returns a pointer to the named evidence hash.
func evidenceField(e *credit.Evidence, name string) *string {
	switch name {
	case "identity":
		return &e.Identity
	case "penaltyFulfilled":
		return &e.PenaltyFulfilled
	case "repairCommitment":
		return &e.RepairCommitment
	case "training":
		return &e.Training
	case "creditReport":
		return &e.CreditReport
	}
	panic("creditctl: unknown evidence field " + name)
}

// docFlag names the flag of an evidence field.
func docFlag(field string) string {
	for _, e := range evidenceFlags {
		if e.field == field {
			return e.flag
		}
	}
	return ""
}

func runRepairApply(o *RepairApplyOptions) error {
	var req credit.ApplyRepairRequest
	if err := loadRequest(o.File, o.IO.In, &req, &o.Req, o.Fields); err != nil {
		return err
	}
	for _, e := range evidenceFlags {
		path, ok := o.Docs[e.field]
		if !ok {
			continue
		}
		h, err := hashFile("evidence."+e.field+" (--"+e.flag+")", path)
		if err != nil {
			return err
		}
		*evidenceField(&req.Evidence, e.field) = h
	}
	if err := o.checkThenID(&req.ID, prefixRepair, repairApplyNames, func() error { return req.Validate() }); err != nil {
		return err
	}
	return submitWrite(&o.Base, repairApplyNames, req, "recording repair application "+req.ID+" for punishment "+req.PunishmentID, Ledger.ApplyRepair)
}

// RepairOptions are the inputs of `repair accept`, `complete` and `reject`.
type RepairOptions struct {
	Base
	ID     string
	Reason string            // reject
	Docs   map[string]string // complete: training, creditReport documents
}

// NewCmdRepairAccept builds `repair accept`.
func NewCmdRepairAccept(f *Factory, runF func(*RepairOptions) error) *cobra.Command {
	opts := &RepairOptions{Base: f.base()}
	return &cobra.Command{
		Use:     "accept <id>",
		Short:   "Accept a repair application for processing (imposing county only)",
		Example: `  creditctl repair accept REP-330182-20261123-4f9a0c`,
		Args:    usageArgs(1, "one repair ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return submitWrite(&opts.Base, nil, credit.RepairRequest{ID: opts.ID}, "accepting repair "+opts.ID, Ledger.AcceptRepair)
		},
	}
}

// NewCmdRepairComplete builds `repair complete`.
func NewCmdRepairComplete(f *Factory, runF func(*RepairOptions) error) *cobra.Command {
	opts := &RepairOptions{Base: f.base(), Docs: map[string]string{}}
	var training, report string
	cmd := &cobra.Command{
		Use:   "complete <id> [--training-doc FILE] [--credit-report-doc FILE]",
		Short: "Complete an accepted repair: the punishment leaves publicity (imposing county only)",
		Long: `Complete an accepted repair. The ledger refuses it (exit 6) while the minimum
publicity period is not over (too early), for a case that cannot be repaired
(specially serious, or by its rule set), and for a serious case without the
repair-training certificate and the credit report (evidence missing; give them
here if they came after the application). Only the imposing county may.`,
		Example: `  creditctl repair complete REP-330182-20261123-4f9a0c
  creditctl repair complete REP-330182-20261123-4f9a0c --training-doc cert.pdf --credit-report-doc report.pdf`,
		Args: usageArgs(1, "one repair ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if training != "" {
				opts.Docs["training"] = training
			}
			if report != "" {
				opts.Docs["creditReport"] = report
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRepairComplete(opts)
		},
	}
	cmd.Flags().StringVar(&training, "training-doc", "", "repair-training certificate (file), if not given at application")
	cmd.Flags().StringVar(&report, "credit-report-doc", "", "credit report (file), if not given at application")
	return cmd
}

func runRepairComplete(o *RepairOptions) error {
	req := credit.CompleteRepairRequest{ID: o.ID}
	if len(o.Docs) > 0 {
		req.Evidence = &credit.LateEvidence{}
		for _, field := range []string{"training", "creditReport"} {
			path, ok := o.Docs[field]
			if !ok {
				continue
			}
			h, err := hashFile("evidence."+field+" (--"+docFlag(field)+")", path)
			if err != nil {
				return err
			}
			if field == "training" {
				req.Evidence.Training = h
			} else {
				req.Evidence.CreditReport = h
			}
		}
	}
	return submitWrite(&o.Base, nil, req, "completing repair "+o.ID, Ledger.CompleteRepair)
}

// NewCmdRepairReject builds `repair reject`.
func NewCmdRepairReject(f *Factory, runF func(*RepairOptions) error) *cobra.Command {
	opts := &RepairOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:     "reject <id> --reason TEXT",
		Short:   "Reject a repair application with a reason (imposing county only); the subject may apply again",
		Example: `  creditctl repair reject REP-330182-20261123-4f9a0c --reason "未提供履行行政处罚决定的证明"`,
		Args:    usageArgs(1, "one repair ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			req := credit.RejectRepairRequest{ID: opts.ID, Reason: opts.Reason}
			return submitWrite(&opts.Base, flagFields{"reason": "reason"}, req, "rejecting repair "+opts.ID, Ledger.RejectRepair)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why it is rejected (required)")
	return cmd
}
