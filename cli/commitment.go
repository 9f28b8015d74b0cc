package cli

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdCommitment)
}

// NewCmdCommitment is the "commitment" noun.
func NewCmdCommitment(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "commitment <make|fulfil|breach|show|list|overdue>",
		Short: "Credit commitments (信用承诺): make, fulfil, breach, list overdue ones",
		Long: `A credit commitment is a subject's written promise to an office: an
approval-substitution commitment (告知承诺, approval), accepting an application
with materials missing (容缺受理, missing-materials: 7 working days by
default), a voluntary or an industry commitment. The office closes it as
fulfilled or breached; a breach records a dishonesty record <id>.breach that
a punishment may cite.`,
	}
	cmd.AddCommand(
		NewCmdCommitmentMake(f, nil),
		NewCmdCommitmentFulfil(f, nil),
		NewCmdCommitmentBreach(f, nil),
		newCmdShow(f, credit.TypeCommitment, `  creditctl commitment show CMT-330782-20261123-4f9a0c
  creditctl commitment show CMT-330782-20261123-4f9a0c -o json`, nil),
		newCmdList(f, credit.TypeCommitment, "made, overdue, fulfilled, breached", `  creditctl commitment list
  creditctl commitment list --state breached --limit 20
  creditctl commitment list --of-county 330182 -o json`, nil),
		NewCmdCommitmentOverdue(f, nil),
	)
	return cmd
}

// CommitmentMakeOptions are the inputs of `commitment make`.
type CommitmentMakeOptions struct {
	Base
	File     string
	Req      credit.MakeCommitmentRequest // from flags
	Fields   []string                     // JSON fields given as flags
	PersonID string
	Document string // the signed commitment document: its SHA-256 is contentHash
}

var commitmentMakeFlags = flagFields{
	"id": "id", "kind": "kind", "subject": "subject", "content": "content",
	"deadline": "deadline", "department": "department", "content-hash": "contentHash",
}

// NewCmdCommitmentMake builds `commitment make`.
func NewCmdCommitmentMake(f *Factory, runF func(*CommitmentMakeOptions) error) *cobra.Command {
	opts := &CommitmentMakeOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "make --kind KIND (--subject CODE | --person-id ID) --content TEXT [flags]",
		Short: "Record a credit commitment a subject made today",
		Long: `Record a credit commitment made today (the transaction date). Kinds:
approval (告知承诺; needs --deadline, the verification date), missing-materials
(容缺受理; default deadline 7 working days after today, by the installed
calendars), voluntary, industry. The commitment document itself stays with the
office: --document puts only its SHA-256 on the ledger. The ID is generated
(CMT-<county>-<date>-<hex>) unless --id is given, and printed.`,
		Example: `  creditctl commitment make --kind missing-materials --subject 91330782MA2K3Y5Q1R \
      --content "承诺7个工作日内补交消防验收意见书" --document scan/commitment.pdf --department market
  creditctl commitment make --kind approval --subject 91330782MA2K3Y5Q1R --deadline 2026-12-31 \
      --content "承诺符合食品经营许可条件"
  creditctl commitment make -f commitment.json --id CMT-A-0001`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Fields = commitmentMakeFlags.changed(cmd)
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCommitmentMake(opts)
		},
	}
	fl := cmd.Flags()
	fileFlag(cmd, &opts.File)
	fl.StringVar(&opts.Req.ID, "id", "", "record ID (default: generated, e.g. CMT-330782-20261123-4f9a0c)")
	fl.StringVar(&opts.Req.Kind, "kind", "", "approval, missing-materials, voluntary or industry")
	fl.StringVar(&opts.Req.Subject, "subject", "", "the enterprise's unified social credit code")
	fl.StringVar(&opts.PersonID, "person-id", "", "a natural person's ID card number (hashed here with the person key; never sent)")
	fl.StringVar(&opts.Req.Content, "content", "", "what the subject promised")
	fl.StringVar(&opts.Document, "document", "", "the commitment document (file); its SHA-256 goes on the ledger")
	fl.StringVar(&opts.Req.ContentHash, "content-hash", "", "the document's SHA-256, when the file is not at hand")
	fl.StringVar(&opts.Req.Deadline, "deadline", "", "deadline: YYYY-MM-DD or relative (+30d, +2m)")
	fl.StringVar(&opts.Req.Department, "department", "", "department recording it (credit-office officers may name any)")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion(credit.CommitmentKinds[:4]...))
	return cmd
}

func runCommitmentMake(o *CommitmentMakeOptions) error {
	var req credit.MakeCommitmentRequest
	if err := loadRequest(o.File, o.IO.In, &req, &o.Req, o.Fields); err != nil {
		return err
	}
	var err error
	if o.PersonID != "" && !slices.Contains(o.Fields, "subject") {
		req.Subject = "" // --person-id overrides the file's subject
	}
	if o.PersonID != "" || req.Subject == "" {
		if req.Subject, err = o.resolveSubject(req.Subject, o.PersonID, true); err != nil {
			return err
		}
	}
	if o.Document != "" {
		if req.ContentHash, err = hashFile("contentHash (--document)", o.Document); err != nil {
			return err
		}
	}
	if req.Deadline, err = parseDateArg("deadline (--deadline)", req.Deadline, o.Now()); err != nil {
		return err
	}
	if err := o.checkThenID(&req.ID, prefixCommitment, commitmentMakeFlags, func() error { return req.Validate() }); err != nil {
		return err
	}
	return submitWrite(&o.Base, commitmentMakeFlags, req, "making commitment "+req.ID, Ledger.MakeCommitment)
}

// CommitmentCloseOptions are the inputs of `commitment fulfil` and
// `commitment breach`.
type CommitmentCloseOptions struct {
	Base
	ID     string
	Note   string // fulfil
	Reason string // breach
}

// NewCmdCommitmentFulfil builds `commitment fulfil`.
func NewCmdCommitmentFulfil(f *Factory, runF func(*CommitmentCloseOptions) error) *cobra.Command {
	opts := &CommitmentCloseOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "fulfil <id> [--note TEXT]",
		Short: "Close a commitment as fulfilled (owning county only)",
		Example: `  creditctl commitment fulfil CMT-330782-20261123-4f9a0c --note "材料已补交"
  creditctl commitment fulfil CMT-330782-20261123-4f9a0c -o json`,
		Args: usageArgs(1, "one commitment ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCommitmentFulfil(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Note, "note", "", "how it was fulfilled")
	return cmd
}

func runCommitmentFulfil(o *CommitmentCloseOptions) error {
	req := credit.FulfilCommitmentRequest{ID: o.ID, Note: o.Note}
	return submitWrite(&o.Base, flagFields{"note": "note"}, req, "fulfilling commitment "+o.ID, Ledger.FulfilCommitment)
}

// NewCmdCommitmentBreach builds `commitment breach`.
func NewCmdCommitmentBreach(f *Factory, runF func(*CommitmentCloseOptions) error) *cobra.Command {
	opts := &CommitmentCloseOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "breach <id> --reason TEXT",
		Short: "Close a commitment as breached (违诺); records the dishonesty record <id>.breach",
		Long: `Close a made (or overdue) commitment as breached. The ledger also records the
dishonesty record <id>.breach, which a punishment can cite with
--dishonesty-id. Owning county only.`,
		Example: `  creditctl commitment breach CMT-330782-20261123-4f9a0c --reason "逾期未补交消防验收意见书"`,
		Args:    usageArgs(1, "one commitment ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCommitmentBreach(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "what was not kept (required)")
	return cmd
}

func runCommitmentBreach(o *CommitmentCloseOptions) error {
	req := credit.BreachCommitmentRequest{ID: o.ID, Reason: o.Reason}
	return submitWrite(&o.Base, flagFields{"reason": "reason"}, req, "recording the breach of commitment "+o.ID, Ledger.BreachCommitment)
}

// NewCmdCommitmentOverdue builds `commitment overdue`: the county's made
// commitments past their deadline, to follow up.
func NewCmdCommitmentOverdue(f *Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Base: f.base(), Kind: credit.TypeCommitment, State: credit.StateOverdue}
	cmd := &cobra.Command{
		Use:   "overdue [--of-county CODE]",
		Short: "List commitments past their deadline and not yet closed (to fulfil or breach)",
		Example: `  creditctl commitment overdue
  creditctl commitment overdue --lang zh`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().StringVar(&opts.County, "of-county", "", "another county's (division code); default your own")
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "at most this many records (0: all)")
	return cmd
}

// fixedCompletion completes a flag from a fixed list.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
