package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
)

// Shared behaviour of the record commands: send a validated write, show a
// record, list a county's records.

// validator is a request with context-free checks (credit's Validate).
type validator interface{ Validate() error }

// submitWrite runs req's checks, then connects, sends it with call, and
// prints the transaction envelope. Nothing is sent when a check fails.
func submitWrite[R validator, T any](b *Base, ff flagFields, req R, what string,
	call func(Ledger, context.Context, R) (*T, client.Result, error)) error {
	if err := req.Validate(); err != nil {
		return ff.nameFlag(err)
	}
	p := b.Printer()
	p.Progressf("%s…", what)
	return b.withLedger(func(ctx context.Context, l Ledger) error {
		rec, res, err := call(l, ctx, req)
		if err != nil {
			return err
		}
		p.Progressf("committed in block %d (transaction %s)", res.BlockNumber, res.TxID)
		return p.WriteTx(res, rec)
	})
}

// fileFlag registers -f/--file.
func fileFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVarP(file, "file", "f", "", "read the request from a JSON file (the chaincode's request JSON; - for stdin); flags override its fields")
}

// ShowOptions are the inputs of every `<noun> show <id>`.
type ShowOptions struct {
	Base
	Kind string
	ID   string
}

// newCmdShow builds `<noun> show <id>` for a record kind.
func newCmdShow(f *Factory, kind, example string, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{Base: f.base(), Kind: kind}
	cmd := &cobra.Command{
		Use:   "show <id>",
		Short: "Show a " + kind + " with its current (derived) state",
		Long: `Show one ` + kind + ` record as the ledger holds it, with derivedState computed
at the time of the query (e.g. a commitment past its deadline reads overdue, a
punishment past its maximum publicity period reads expired).`,
		Example: example,
		Args:    usageArgs(1, "one record ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runShow(opts)
		},
	}
	return cmd
}

func runShow(o *ShowOptions) error {
	if err := credit.ValidateRef("id", o.ID); err != nil {
		return err
	}
	return o.withLedger(func(ctx context.Context, l Ledger) error {
		rec, _, err := l.GetRecord(ctx, o.Kind, o.ID)
		if err != nil {
			return err
		}
		return o.Printer().WriteRecord(rec)
	})
}

// ListOptions are the inputs of every `<noun> list`.
type ListOptions struct {
	Base
	Kind   string
	County string // "" = the caller's
	State  string
	Limit  int // 0 = all
}

// listColumns are the columns of each kind's list table (JSON keys).
var listColumns = map[string][]string{
	credit.TypeCommitment:  {"id", "commitmentKind", "subject", "derivedState", "madeOn", "deadline", "department"},
	credit.TypePunishment:  {"id", "punishmentKind", "severity", "subject", "derivedState", "decisionDate", "minEnd", "maxEnd"},
	credit.TypeEnforcement: {"id", "punishmentId", "punishmentCounty", "measure", "date", "subject", "department"},
	credit.TypeRepair:      {"id", "punishmentId", "severity", "derivedState", "receivedBy", "subject", "updatedAt"},
	credit.TypeObjection:   {"id", "recordKind", "recordId", "derivedState", "receivedBy", "subject", "updatedAt"},
	credit.TypeDishonesty:  {"id", "commitmentId", "date", "subject", "department"},
}

// newCmdList builds `<noun> list` for a record kind.
func newCmdList(f *Factory, kind, states, example string, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Base: f.base(), Kind: kind}
	cmd := &cobra.Command{
		Use:   "list [--state STATE] [--of-county CODE] [--limit N]",
		Short: "List a county's " + kind + " records",
		Long: `List the ` + kind + ` records a county owns (default: your county), optionally in
one state (` + states + `). The state filter matches the derived
state, as the ledger computes it at the time of the query.`,
		Example: example,
		Args:    usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Limit < 0 {
				return &UsageError{Err: fmt.Errorf("--limit %d: must be 0 (all) or more", opts.Limit)}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().StringVar(&opts.State, "state", "", "only records in this (derived) state: "+states)
	cmd.Flags().StringVar(&opts.County, "of-county", "", "list another county's records (division code); default your own")
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "at most this many records (0: all)")
	return cmd
}

// listPage is the page size of list queries.
const listPage = 200

func runList(o *ListOptions) error {
	county := o.County
	if county == "" {
		var err error
		if county, err = o.Base.County(); err != nil {
			return err
		}
	}
	if err := credit.ValidateCountyCode("--of-county", county); err != nil {
		return err
	}
	var all credit.Records
	var bookmark string
	err := o.withLedger(func(ctx context.Context, l Ledger) error {
		req := credit.ListByCountyRequest{County: county, Kind: o.Kind, State: o.State, PageSize: listPage}
		for {
			page, _, err := l.ListByCounty(ctx, req)
			if err != nil {
				return err
			}
			all = append(all, page.Records...)
			bookmark = page.Bookmark
			if bookmark == "" || (o.Limit > 0 && len(all) >= o.Limit) {
				return nil
			}
			req.Bookmark = bookmark
		}
	})
	if err != nil {
		return err
	}
	if o.Limit > 0 && len(all) > o.Limit {
		all = all[:o.Limit]
	}
	if all == nil {
		all = credit.Records{}
	}
	p := o.Printer()
	if p.JSON() {
		return p.WriteJSON(credit.ListByCountyResult{Records: all, Bookmark: bookmark})
	}
	if err := p.recordTable(listColumns[o.Kind], all); err != nil {
		return err
	}
	if len(all) == 0 {
		p.Progressf("no %s records of county %s%s", o.Kind, county, map[bool]string{true: " in state " + o.State}[o.State != ""])
	}
	return nil
}

// recordTable prints records as rows of the given columns (JSON keys).
func (p *Printer) recordTable(cols []string, recs credit.Records) error {
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = p.Label(c)
	}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		fields, err := flattenJSON(r)
		if err != nil {
			return err
		}
		m := fieldMap(fields)
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = p.Value(c, m[c])
		}
		rows = append(rows, row)
	}
	return p.Table(headers, rows)
}

func fieldMap(fs []field) map[string]string {
	m := make(map[string]string, len(fs))
	for _, f := range fs {
		m[f.key] = f.value
	}
	return m
}

// describe is a one-line account of a record for mixed lists (subject
// show): what it is and its key dates.
func (p *Printer) describe(rec credit.Record) string {
	fields, err := flattenJSON(rec)
	if err != nil {
		return ""
	}
	m := fieldMap(fields)
	v := func(k string) string { return p.Value(k, m[k]) }
	var parts []string
	add := func(label, value string) {
		if value != "" {
			parts = append(parts, p.Label(label)+" "+value)
		}
	}
	switch rec.Head().Kind {
	case credit.TypeCommitment:
		parts = append(parts, v("commitmentKind"))
		add("deadline", m["deadline"])
		add("repairId", m["repairId"])
		add("dishonestyId", m["dishonestyId"])
	case credit.TypePunishment:
		parts = append(parts, v("punishmentKind")+" / "+v("severity"))
		add("decisionDate", m["decisionDate"])
		add("minEnd", m["minEnd"])
		add("maxEnd", m["maxEnd"])
		add("measures", v("measures"))
	case credit.TypeEnforcement:
		parts = append(parts, v("measure"))
		add("punishmentId", m["punishmentId"])
		add("date", m["date"])
	case credit.TypeRepair:
		add("punishmentId", m["punishmentId"])
		add("severity", v("severity"))
		add("receivedBy", m["receivedBy"])
	case credit.TypeObjection:
		add("recordId", v("recordKind")+" "+m["recordId"])
		add("receivedBy", m["receivedBy"])
	case credit.TypeDishonesty:
		add("commitmentId", m["commitmentId"])
		add("date", m["date"])
	}
	sep := "; "
	if p.Lang == "zh" {
		sep = ";"
	}
	return strings.Join(parts, sep)
}
