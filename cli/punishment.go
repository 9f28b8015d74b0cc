package cli

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdPunishment)
}

// NewCmdPunishment is the "punishment" noun.
func NewCmdPunishment(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "punishment <impose|show|list|revoke>",
		Short: "Dishonesty punishments (失信惩戒): publicity, black list, watch list",
		Long: `A punishment is a decision published on the ledger: administrative-penalty
publicity (行政处罚信息公示, publicity), the serious dishonesty list (严重失信主体
名单, blacklist) or the watch list (重点关注名单, watchlist), with a severity
(general 一般失信, serious 严重失信, special 特定严重失信) and the joint measures
other counties apply. The rule set in force at the decision date fixes its
minimum and maximum publicity periods and whether it can be repaired.`,
	}
	cmd.AddCommand(
		NewCmdPunishmentImpose(f, nil),
		newCmdShow(f, credit.TypePunishment, `  creditctl punishment show PUN-330782-20261123-4f9a0c
  creditctl punishment show PUN-330782-20261123-4f9a0c --lang zh`, nil),
		newCmdList(f, credit.TypePunishment, "active, expired, repaired, revoked", `  creditctl punishment list
  creditctl punishment list --state active -o json
  creditctl punishment list --of-county 330182 --limit 50`, nil),
		NewCmdPunishmentRevoke(f, nil),
	)
	return cmd
}

// PunishmentImposeOptions are the inputs of `punishment impose`.
type PunishmentImposeOptions struct {
	Base
	File     string
	Req      credit.ImposePunishmentRequest
	Fields   []string
	PersonID string
}

var punishmentImposeFlags = flagFields{
	"id": "id", "subject": "subject", "kind": "kind", "severity": "severity",
	"decision-date": "decisionDate", "decision-no": "decisionNo", "legal-basis": "legalBasis",
	"measure": "measures", "dishonesty-id": "dishonestyId", "department": "department", "summary": "summary",
}

// NewCmdPunishmentImpose builds `punishment impose`.
func NewCmdPunishmentImpose(f *Factory, runF func(*PunishmentImposeOptions) error) *cobra.Command {
	opts := &PunishmentImposeOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "impose --kind KIND --severity SEV (--subject CODE | --person-id ID) --decision-date DATE --decision-no NO --legal-basis TEXT [flags]",
		Short: "Record a punishment decision of your county",
		Long: `Record a punishment decided by a department of your county. The decision
date may be in the past (a decision recorded late), never after today; it
accepts YYYY-MM-DD or a relative form (-4m is four months ago, -10d, -1y).
--measure names the joint measures (repeat it, or separate with commas):
procurement, bidding, subsidy, tax-preference, honours, inspection,
high-consumption, market-access, financing. The ID is generated
(PUN-<county>-<date>-<hex>) unless --id is given, and printed.`,
		Example: `  creditctl punishment impose --subject 91330782MA2K3Y5Q1R --kind publicity --severity general \
      --decision-date 2026-03-02 --decision-no "义市监罚〔2026〕12号" \
      --legal-basis "《中华人民共和国食品安全法》第一百二十二条" --measure procurement,honours --department market
  creditctl punishment impose --subject 91330782MA2K3Y5Q1R --kind blacklist --severity serious \
      --decision-date=-1m --decision-no "义市监严〔2026〕3号" --legal-basis "…" \
      --measure bidding --measure financing --dishonesty-id CMT-330782-20261123-4f9a0c.breach
  creditctl punishment impose -f decision.json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Fields = punishmentImposeFlags.changed(cmd)
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runPunishmentImpose(opts)
		},
	}
	fl := cmd.Flags()
	fileFlag(cmd, &opts.File)
	fl.StringVar(&opts.Req.ID, "id", "", "record ID (default: generated, e.g. PUN-330782-20261123-4f9a0c)")
	fl.StringVar(&opts.Req.Subject, "subject", "", "the enterprise's unified social credit code")
	fl.StringVar(&opts.PersonID, "person-id", "", "a natural person's ID card number (hashed here with the person key; never sent)")
	fl.StringVar(&opts.Req.Kind, "kind", "", "publicity, blacklist or watchlist")
	fl.StringVar(&opts.Req.Severity, "severity", "", "general, serious or special")
	fl.StringVar(&opts.Req.DecisionDate, "decision-date", "", "date of the decision: YYYY-MM-DD or relative (-4m, -10d)")
	fl.StringVar(&opts.Req.DecisionNo, "decision-no", "", "decision document number (文书号)")
	fl.StringVar(&opts.Req.LegalBasis, "legal-basis", "", "legal basis of the decision")
	fl.StringSliceVar(&opts.Req.Measures, "measure", nil, "joint measure(s), repeatable or comma-separated")
	fl.StringVar(&opts.Req.DishonestyID, "dishonesty-id", "", "the dishonesty record it punishes, e.g. <commitment id>.breach")
	fl.StringVar(&opts.Req.Department, "department", "", "deciding department (credit-office officers may name any)")
	fl.StringVar(&opts.Req.Summary, "summary", "", "summary of the facts")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion(credit.PunishmentKinds...))
	_ = cmd.RegisterFlagCompletionFunc("severity", fixedCompletion(credit.Severities...))
	_ = cmd.RegisterFlagCompletionFunc("measure", fixedCompletion(credit.Measures...))
	return cmd
}

func runPunishmentImpose(o *PunishmentImposeOptions) error {
	var req credit.ImposePunishmentRequest
	if err := loadRequest(o.File, o.IO.In, &req, &o.Req, o.Fields); err != nil {
		return err
	}
	var err error
	if o.PersonID != "" && !slices.Contains(o.Fields, "subject") {
		req.Subject = ""
	}
	if o.PersonID != "" || req.Subject == "" {
		if req.Subject, err = o.resolveSubject(req.Subject, o.PersonID, true); err != nil {
			return err
		}
	}
	if req.Measures == nil {
		req.Measures = []string{}
	}
	if req.DecisionDate, err = parseDateArg("decisionDate (--decision-date)", req.DecisionDate, o.Now()); err != nil {
		return err
	}
	if err := o.checkThenID(&req.ID, prefixPunishment, punishmentImposeFlags, func() error { return req.Validate() }); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return punishmentImposeFlags.nameFlag(err)
	}
	if err := notAfterToday("decisionDate (--decision-date)", req.DecisionDate, o.Now()); err != nil {
		return err
	}
	return submitWrite(&o.Base, punishmentImposeFlags, req, "recording punishment "+req.ID, Ledger.ImposePunishment)
}

// PunishmentRevokeOptions are the inputs of `punishment revoke`.
type PunishmentRevokeOptions struct {
	Base
	ID     string
	Reason string
}

// NewCmdPunishmentRevoke builds `punishment revoke`.
func NewCmdPunishmentRevoke(f *Factory, runF func(*PunishmentRevokeOptions) error) *cobra.Command {
	opts := &PunishmentRevokeOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "revoke <id> --reason TEXT",
		Short: "Revoke an active punishment (imposing county only)",
		Long: `Revoke a punishment, e.g. after its decision was annulled. The record stays on
the ledger in state revoked, with the reason; its history keeps every version.`,
		Example: `  creditctl punishment revoke PUN-330782-20261123-4f9a0c --reason "行政复议撤销原处罚决定"`,
		Args:    usageArgs(1, "one punishment ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runPunishmentRevoke(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why it is revoked (required)")
	return cmd
}

func runPunishmentRevoke(o *PunishmentRevokeOptions) error {
	req := credit.RevokePunishmentRequest{ID: o.ID, Reason: o.Reason}
	return submitWrite(&o.Base, flagFields{"reason": "reason"}, req, "revoking punishment "+o.ID, Ledger.RevokePunishment)
}
