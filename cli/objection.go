package cli

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdObjection)
}

// NewCmdObjection is the "objection" noun.
func NewCmdObjection(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "objection <raise|answer|show>",
		Short: "Objections (异议): a subject disputes a punishment or a commitment",
		Long: `A subject may dispute a punishment or a commitment in any county; the
objection belongs to the county that owns the disputed record, which answers
it: dismissed, or upheld (for a punishment, revoking or correcting it).`,
	}
	cmd.AddCommand(
		NewCmdObjectionRaise(f, nil),
		NewCmdObjectionAnswer(f, nil),
		newCmdShow(f, credit.TypeObjection, `  creditctl objection show OBJ-371324-20261123-4f9a0c`, nil),
	)
	return cmd
}

// ObjectionRaiseOptions are the inputs of `objection raise`.
type ObjectionRaiseOptions struct {
	Base
	File   string
	Req    credit.RaiseObjectionRequest
	Fields []string
}

var objectionRaiseFlags = flagFields{"id": "id", "record-kind": "recordKind", "record": "recordId", "reason": "reason"}

// NewCmdObjectionRaise builds `objection raise`.
func NewCmdObjectionRaise(f *Factory, runF func(*ObjectionRaiseOptions) error) *cobra.Command {
	opts := &ObjectionRaiseOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "raise --record ID [--record-kind punishment|commitment] --reason TEXT",
		Short: "Record an objection received by your county",
		Long: `Record a subject's objection to a punishment (default) or a commitment, received
by your county. The county owning the record must answer it. The ID is
generated (OBJ-<county>-<date>-<hex>) unless --id is given, and printed.`,
		Example: `  creditctl --county 371324 objection raise --record PUN-330782-20261123-4f9a0c \
      --reason "处罚决定书送达地址错误，申请核查"
  creditctl objection raise --record-kind commitment --record CMT-330782-20261123-4f9a0c --reason "…"`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Fields = objectionRaiseFlags.changed(cmd)
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runObjectionRaise(opts)
		},
	}
	fl := cmd.Flags()
	fileFlag(cmd, &opts.File)
	fl.StringVar(&opts.Req.ID, "id", "", "record ID (default: generated, e.g. OBJ-371324-20261123-4f9a0c)")
	fl.StringVar(&opts.Req.RecordKind, "record-kind", credit.TypePunishment, "punishment or commitment")
	fl.StringVar(&opts.Req.RecordID, "record", "", "ID of the disputed record")
	fl.StringVar(&opts.Req.Reason, "reason", "", "the subject's grounds (required)")
	_ = cmd.RegisterFlagCompletionFunc("record-kind", fixedCompletion(credit.ObjectionKinds...))
	return cmd
}

func runObjectionRaise(o *ObjectionRaiseOptions) error {
	var req credit.RaiseObjectionRequest
	if err := loadRequest(o.File, o.IO.In, &req, &o.Req, o.Fields); err != nil {
		return err
	}
	if req.RecordKind == "" {
		req.RecordKind = credit.TypePunishment
	}
	if err := o.checkThenID(&req.ID, prefixObjection, objectionRaiseFlags, func() error { return req.Validate() }); err != nil {
		return err
	}
	return submitWrite(&o.Base, objectionRaiseFlags, req, "recording objection "+req.ID+" to "+req.RecordKind+" "+req.RecordID, Ledger.RaiseObjection)
}

// ObjectionAnswerOptions are the inputs of `objection answer`.
type ObjectionAnswerOptions struct {
	Base
	File       string
	Req        credit.AnswerObjectionRequest
	Correction credit.Correction // from the --correct-* flags
	Fields     []string
}

var objectionAnswerFlags = flagFields{"decision": "decision", "answer": "answer", "action": "action"}

// correctionFlags are the --correct-* flags and the correction field each sets.
var correctionFlags = flagFields{
	"correct-kind": "punishmentKind", "correct-severity": "severity", "correct-decision-date": "decisionDate",
	"correct-decision-no": "decisionNo", "correct-legal-basis": "legalBasis", "correct-measure": "measures",
}

// NewCmdObjectionAnswer builds `objection answer`.
func NewCmdObjectionAnswer(f *Factory, runF func(*ObjectionAnswerOptions) error) *cobra.Command {
	opts := &ObjectionAnswerOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "answer <id> --decision upheld|dismissed --answer TEXT [--action revoke|correct] [--correct-* …]",
		Short: "Answer an objection (county owning the disputed record only)",
		Long: `Answer an objection. dismissed changes nothing else. upheld on a punishment
needs --action: revoke (the punishment becomes revoked) or correct, with the
corrected fields as --correct-kind, --correct-severity, --correct-decision-date,
--correct-decision-no, --correct-legal-basis, --correct-measure (the periods
are recomputed with the rule set at the decision date and the revision goes
up). upheld on a commitment takes no action: the answer says what was done.`,
		Example: `  creditctl objection answer OBJ-371324-20261123-4f9a0c --decision dismissed \
      --answer "经核查，处罚决定已依法送达，异议不成立"
  creditctl objection answer OBJ-371324-20261123-4f9a0c --decision upheld --action correct \
      --correct-decision-no "义市监罚〔2026〕12-1号" --answer "文书号录入错误，予以更正"`,
		Args: usageArgs(1, "one objection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Req.ID = args[0]
			opts.Fields = append(objectionAnswerFlags.changed(cmd), "id")
			if fs := correctionFlags.changed(cmd); len(fs) > 0 {
				opts.Fields = append(opts.Fields, "correction")
				c := credit.Correction{}
				for _, name := range fs {
					copyJSONField(&c, &opts.Correction, name)
				}
				opts.Req.Correction = &c
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runObjectionAnswer(opts)
		},
	}
	fl := cmd.Flags()
	fileFlag(cmd, &opts.File)
	fl.StringVar(&opts.Req.Decision, "decision", "", "upheld or dismissed")
	fl.StringVar(&opts.Req.Answer, "answer", "", "the office's answer (required)")
	fl.StringVar(&opts.Req.Action, "action", "", "for an upheld objection about a punishment: revoke or correct")
	fl.StringVar(&opts.Correction.PunishmentKind, "correct-kind", "", "corrected punishment kind")
	fl.StringVar(&opts.Correction.Severity, "correct-severity", "", "corrected severity")
	fl.StringVar(&opts.Correction.DecisionDate, "correct-decision-date", "", "corrected decision date (YYYY-MM-DD or relative)")
	fl.StringVar(&opts.Correction.DecisionNo, "correct-decision-no", "", "corrected decision number")
	fl.StringVar(&opts.Correction.LegalBasis, "correct-legal-basis", "", "corrected legal basis")
	fl.StringSliceVar(&opts.Correction.Measures, "correct-measure", nil, "corrected measures (the full list)")
	_ = cmd.RegisterFlagCompletionFunc("decision", fixedCompletion(credit.StateUpheld, credit.StateDismissed))
	_ = cmd.RegisterFlagCompletionFunc("action", fixedCompletion(credit.ActionRevoke, credit.ActionCorrect))
	return cmd
}

func runObjectionAnswer(o *ObjectionAnswerOptions) error {
	var req credit.AnswerObjectionRequest
	if err := loadRequest(o.File, o.IO.In, &req, &o.Req, o.Fields); err != nil {
		return err
	}
	if req.Correction != nil && req.Correction.DecisionDate != "" {
		d, err := parseDateArg("correction.decisionDate (--correct-decision-date)", req.Correction.DecisionDate, o.Now())
		if err != nil {
			return err
		}
		req.Correction.DecisionDate = d
		if err := notAfterToday("correction.decisionDate (--correct-decision-date)", d, o.Now()); err != nil {
			return err
		}
	}
	names := flagFields{}
	for k, v := range objectionAnswerFlags {
		names[k] = v
	}
	for k, v := range correctionFlags {
		names[k] = "correction." + v
	}
	if slices.Contains(o.Fields, "correction") && req.Action == "" && req.Decision == credit.StateUpheld {
		req.Action = credit.ActionCorrect // --correct-* flags imply --action correct
	}
	return submitWrite(&o.Base, names, req, "answering objection "+req.ID, Ledger.AnswerObjection)
}
