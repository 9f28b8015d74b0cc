package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func init() {
	commandAdders = append(commandAdders, NewCmdSubject, NewCmdRecord)
}

// NewCmdSubject is the "subject" noun.
func NewCmdSubject(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "subject <show|history>",
		Short: "A subject's credit profile: every record of every county about it",
		Long: `A subject is an enterprise (its unified social credit code) or a natural person
(--person-id: the ID card number, hashed here with the channel's person key;
the number itself never leaves this machine).`,
	}
	cmd.AddCommand(NewCmdSubjectShow(f, nil), NewCmdSubjectHistory(f, nil), NewCmdSubjectCheck(f, nil))
	return cmd
}

// SubjectCheckOptions are the inputs of `subject check`.
type SubjectCheckOptions struct {
	Base
	Code     string
	Complete bool
}

// NewCmdSubjectCheck builds `subject check`: validate a unified social
// credit code offline (or complete a 17-character prefix with its check
// character), as the ledger would.
func NewCmdSubjectCheck(f *Factory, runF func(*SubjectCheckOptions) error) *cobra.Command {
	opts := &SubjectCheckOptions{Base: f.base()}
	cmd := &cobra.Command{
		Use:   "check <credit code> | --complete <first 17 characters>",
		Short: "Check a unified social credit code offline (GB 32100-2015), or compute its check character",
		Long: `Check a unified social credit code as the ledger does: alphabet, registration
authority and kind, division code, and the check character (mod 31). Nothing is
sent. With --complete, print the code whose first 17 characters are given, with
its check character appended. Exit 2 when the code is invalid.`,
		Example: `  creditctl subject check 91330782MA2K3Y5Q1R
  creditctl subject check --complete 91330782MA2K3Y5Q1`,
		Args: usageArgs(1, "one code"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Code = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSubjectCheck(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Complete, "complete", false, "append the check character to 17 characters and print the code")
	return cmd
}

func runSubjectCheck(o *SubjectCheckOptions) error {
	code := o.Code
	if o.Complete {
		c, err := credit.CreditCodeCheckChar(code)
		if err != nil {
			return &credit.FieldError{Field: "code", Rule: err.Error()}
		}
		code += string(c)
	}
	if _, err := credit.ParseCreditCode("code", code); err != nil {
		return err
	}
	if o.Complete {
		fmt.Fprintln(o.IO.Out, code)
		return nil
	}
	p := o.Printer()
	out := struct {
		Code       string `json:"code"`
		Valid      bool   `json:"valid"`
		HomeCounty string `json:"homeCounty"`
	}{code, true, credit.HomeCounty(code)}
	if p.JSON() {
		return p.WriteJSON(out)
	}
	return p.WriteRecord(out)
}

// SubjectOptions are the inputs of `subject show` and `subject history`.
type SubjectOptions struct {
	Base
	Subject  string
	PersonID string
}

func subjectCmd(f *Factory, opts *SubjectOptions, cmd *cobra.Command, run func(*SubjectOptions) error, runF func(*SubjectOptions) error) *cobra.Command {
	cmd.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 1 {
			return &UsageError{Err: fmt.Errorf("%s takes at most one subject, got %d arguments", cmd.CommandPath(), len(args))}
		}
		return nil
	}
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if len(args) == 1 {
			opts.Subject = args[0]
		}
		if err := f.resolveBase(&opts.Base); err != nil {
			return err
		}
		if runF != nil {
			return runF(opts)
		}
		return run(opts)
	}
	cmd.Flags().StringVar(&opts.PersonID, "person-id", "", "a natural person's ID card number (hashed here; never sent)")
	return cmd
}

// NewCmdSubjectShow builds `subject show`.
func NewCmdSubjectShow(f *Factory, runF func(*SubjectOptions) error) *cobra.Command {
	opts := &SubjectOptions{Base: f.base()}
	return subjectCmd(f, opts, &cobra.Command{
		Use:   "show (<credit code> | --person-id ID)",
		Short: "Show every record about a subject, from every county, with its current state",
		Example: `  creditctl subject show 91330782MA2K3Y5Q1R
  creditctl subject show 91330782MA2K3Y5Q1R --lang zh
  creditctl subject show --person-id 330782199001011234 -o json`,
	}, runSubjectShow, runF)
}

func (o *SubjectOptions) subject() (string, error) {
	s, err := o.resolveSubject(o.Subject, o.PersonID, true)
	if err != nil {
		return "", err
	}
	if _, err := credit.ParseSubject("subject", s); err != nil {
		return "", err
	}
	return s, nil
}

func runSubjectShow(o *SubjectOptions) error {
	subject, err := o.subject()
	if err != nil {
		return err
	}
	return o.withLedger(func(ctx context.Context, l Ledger) error {
		res, _, err := l.SubjectRecords(ctx, subject)
		if err != nil {
			return err
		}
		p := o.Printer()
		if p.JSON() {
			if res.Records == nil {
				res.Records = credit.Records{}
			}
			return p.WriteJSON(res)
		}
		return p.subjectProfile(subject, res.Records)
	})
}

// subjectProfile prints a subject's summary and one line per record.
func (p *Printer) subjectProfile(subject string, recs credit.Records) error {
	kind, _ := credit.ParseSubject("subject", subject)
	active := 0
	for _, r := range recs {
		if pu, ok := r.(*credit.Punishment); ok && pu.DerivedState == credit.StateActive {
			active++
		}
	}
	summary := [][]string{{p.Label("subject"), subject}}
	if p.Lang == "zh" {
		summary = append(summary,
			[]string{"主体类型", map[string]string{credit.SubjectEnterprise: "法人和非法人组织", credit.SubjectPerson: "自然人"}[kind]},
			[]string{"登记地", credit.HomeCounty(subject)},
			[]string{"记录数", fmt.Sprint(len(recs))},
			[]string{"公示中的惩戒", fmt.Sprint(active)})
	} else {
		summary = append(summary,
			[]string{"subject kind", kind},
			[]string{"home county", credit.HomeCounty(subject)},
			[]string{"records", fmt.Sprint(len(recs))},
			[]string{"active punishments", fmt.Sprint(active)})
	}
	if kind == credit.SubjectPerson {
		summary = append(summary[:2], summary[3:]...) // a person has no home county in the code
	}
	if p.Format == OutputTable {
		if err := p.Table(nil, summary); err != nil {
			return err
		}
		fmt.Fprintln(p.IO.Out)
	}
	headers := []string{p.Label("kind"), p.Label("id"), p.Label("county"), p.Label("state"), p.Label("detail")}
	if p.Lang == "zh" {
		headers[4] = "摘要"
	}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		h := r.Head()
		rows = append(rows, []string{p.Value("kind", h.Kind), h.ID, h.County, p.Value("state", derived(r)), p.describe(r)})
	}
	return p.Table(headers, rows)
}

// derived is a record's derived state (its stored state if none).
func derived(r credit.Record) string {
	b, err := json.Marshal(r)
	if err != nil {
		return r.Head().State
	}
	var d struct {
		DerivedState string `json:"derivedState"`
	}
	if json.Unmarshal(b, &d) != nil || d.DerivedState == "" {
		return r.Head().State
	}
	return d.DerivedState
}

// SubjectHistory is the JSON output of `subject history`.
type SubjectHistory struct {
	Subject string          `json:"subject"`
	Records []RecordHistory `json:"records"`
}

// RecordHistory is one record and every version of it, oldest first.
type RecordHistory struct {
	Kind    string                `json:"kind"`
	ID      string                `json:"id"`
	History []credit.HistoryEntry `json:"history"`
}

// NewCmdSubjectHistory builds `subject history`.
func NewCmdSubjectHistory(f *Factory, runF func(*SubjectOptions) error) *cobra.Command {
	opts := &SubjectOptions{Base: f.base()}
	return subjectCmd(f, opts, &cobra.Command{
		Use:   "history (<credit code> | --person-id ID)",
		Short: "Show every version of every record about a subject: who changed what, when, in which transaction",
		Example: `  creditctl subject history 91330782MA2K3Y5Q1R
  creditctl subject history 91330782MA2K3Y5Q1R -o json`,
	}, runSubjectHistory, runF)
}

func runSubjectHistory(o *SubjectOptions) error {
	subject, err := o.subject()
	if err != nil {
		return err
	}
	out := SubjectHistory{Subject: subject, Records: []RecordHistory{}}
	err = o.withLedger(func(ctx context.Context, l Ledger) error {
		res, _, err := l.SubjectRecords(ctx, subject)
		if err != nil {
			return err
		}
		for _, r := range res.Records {
			h := r.Head()
			hist, _, err := l.RecordHistory(ctx, h.Kind, h.ID)
			if err != nil {
				return err
			}
			if hist == nil {
				hist = []credit.HistoryEntry{}
			}
			out.Records = append(out.Records, RecordHistory{Kind: h.Kind, ID: h.ID, History: hist})
		}
		return nil
	})
	if err != nil {
		return err
	}
	p := o.Printer()
	if p.JSON() {
		return p.WriteJSON(out)
	}
	for i, r := range out.Records {
		if p.Format == OutputTable {
			if i > 0 {
				fmt.Fprintln(p.IO.Out)
			}
			fmt.Fprintf(p.IO.Out, "%s %s\n", p.Value("kind", r.Kind), r.ID)
		}
		if err := p.historyTable(r.Kind, r.ID, r.History); err != nil {
			return err
		}
	}
	return nil
}

// historyTable prints the versions of one record.
func (p *Printer) historyTable(kind, id string, hist []credit.HistoryEntry) error {
	headers := []string{p.Label("timestamp"), p.Label("state"), p.Label("updatedAt"), p.Label("txId")}
	if p.Format == OutputPlain {
		headers = nil
	}
	rows := make([][]string, 0, len(hist))
	for _, h := range hist {
		var head credit.Header
		_ = json.Unmarshal(h.Record, &head)
		state := p.Value("state", head.State)
		if h.IsDelete {
			state = "deleted"
		}
		row := []string{h.Timestamp, state, head.UpdatedAt, h.TxID}
		if p.Format == OutputPlain {
			row = append([]string{kind, id}, row...)
		}
		rows = append(rows, row)
	}
	return p.Table(headers, rows)
}

// NewCmdRecord is the "record" noun: any record by kind, including the
// dishonesty records a breach creates.
func NewCmdRecord(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "record <show|history> <kind> <id>",
		Short: "Any record by kind and ID (commitment, dishonesty, punishment, enforcement, repair, objection)",
	}
	cmd.AddCommand(NewCmdRecordShow(f, nil), NewCmdRecordHistory(f, nil))
	return cmd
}

// NewCmdRecordShow builds `record show <kind> <id>`.
func NewCmdRecordShow(f *Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{Base: f.base()}
	return &cobra.Command{
		Use:   "show <kind> <id>",
		Short: "Show one record of any kind, with its derived state",
		Example: `  creditctl record show dishonesty CMT-330782-20261123-4f9a0c.breach
  creditctl record show punishment PUN-330782-20261123-4f9a0c -o json`,
		Args: usageArgs(2, "a kind and an ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kind, opts.ID = args[0], args[1]
			if !credit.IsRecordKind(opts.Kind) {
				return &credit.FieldError{Field: "kind", Rule: fmt.Sprintf("%q is not one of %v", opts.Kind, credit.RecordKinds)}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runShow(opts)
		},
	}
}

// NewCmdRecordHistory builds `record history <kind> <id>`.
func NewCmdRecordHistory(f *Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{Base: f.base()}
	return &cobra.Command{
		Use:   "history <kind> <id>",
		Short: "Show every version of a record, oldest first",
		Example: `  creditctl record history punishment PUN-330782-20261123-4f9a0c
  creditctl record history repair REP-330182-20261123-4f9a0c -o json`,
		Args: usageArgs(2, "a kind and an ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kind, opts.ID = args[0], args[1]
			if !credit.IsRecordKind(opts.Kind) {
				return &credit.FieldError{Field: "kind", Rule: fmt.Sprintf("%q is not one of %v", opts.Kind, credit.RecordKinds)}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRecordHistory(opts)
		},
	}
}

func runRecordHistory(o *ShowOptions) error {
	if err := credit.ValidateRef("id", o.ID); err != nil {
		return err
	}
	return o.withLedger(func(ctx context.Context, l Ledger) error {
		hist, _, err := l.RecordHistory(ctx, o.Kind, o.ID)
		if err != nil {
			return err
		}
		p := o.Printer()
		if p.JSON() {
			if hist == nil {
				hist = []credit.HistoryEntry{}
			}
			return p.WriteJSON(hist)
		}
		return p.historyTable(o.Kind, o.ID, hist)
	})
}
