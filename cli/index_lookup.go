package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/httpapi"
	"github.com/countycredit/creditledger/indexer/keys"
)

// The index lookups: the same questions as the ledger commands (subject
// show, <noun> list …), answered from the index folder, or by a running
// `index serve` (--server). Output is the ledger commands' own: the same
// tables, and with -o json the records exactly as the chaincode returns
// them.

// indexReader is what the lookups read: *indexer.DB, or httpReader over a
// running server.
type indexReader interface {
	SubjectProfile(subject string, asOf credit.Date) (*indexer.Profile, error)
	Record(kind, id string, asOf credit.Date) (credit.Record, error)
	RecordHistory(kind, id string) ([]indexer.HistoryEntry, error)
	BlackList(county string, asOf credit.Date) ([]*credit.Punishment, error)
	WatchList(county string, asOf credit.Date) ([]*credit.Punishment, error)
	OverdueCommitments(county string, asOf credit.Date) ([]*credit.Commitment, error)
	PublicityEnding(county string, asOf credit.Date, days int) ([]*credit.Punishment, error)
	RepairsAwaitingDecision(county string, asOf credit.Date) ([]*credit.Repair, error)
	Indicators(county string, month keys.Month) (*indexer.Indicators, error)
	Close() error
}

var _ indexReader = (*indexer.DB)(nil)

// reader opens the index folder, or returns a client of --server.
func (o *IndexOptions) reader() (indexReader, error) {
	if o.Server != "" {
		u, err := url.Parse(o.Server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &credit.FieldError{Field: "--server", Rule: fmt.Sprintf("%q is not an http(s) URL such as http://127.0.0.1:7580", o.Server)}
		}
		return &httpReader{base: strings.TrimSuffix(o.Server, "/"), c: &http.Client{Timeout: 30 * time.Second}}, nil
	}
	dir, err := o.dir()
	if err != nil {
		return nil, err
	}
	if _, err := indexStat(dir); err != nil {
		return nil, err
	}
	db, _, err := o.openIndex(indexer.Options{})
	return db, err
}

// indexStat checks that the folder holds an index, so that a lookup never
// creates an empty one.
func indexStat(dir string) (string, error) {
	db := filepath.Join(dir, indexDBDir)
	if _, err := os.Stat(db); err != nil {
		return "", fmt.Errorf("no index in %s: build one with `creditctl index run` (or name the folder with --dir, or ask a server with --server): %w", dir, err)
	}
	return db, nil
}

// httpReader asks a running `index serve`.
type httpReader struct {
	base string
	c    *http.Client
}

func (h *httpReader) Close() error { return nil }

// get fetches path and decodes the JSON answer into out; an error answer
// becomes the sentinel its code names.
func (h *httpReader) get(path string, q url.Values, out any) error {
	u := h.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	resp, err := h.c.Get(u)
	if err != nil {
		return fmt.Errorf("index server: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("index server: %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message, Field string } `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return fmt.Errorf("index server: %s: %s", u, resp.Status)
		}
		if s := credit.Sentinel(e.Error.Code); s != nil {
			return fmt.Errorf("index server: %s: %w", e.Error.Message, s)
		}
		return fmt.Errorf("index server: %s (%s)", e.Error.Message, e.Error.Code)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("index server: decode %s: %w", u, err)
	}
	return nil
}

func asOfQuery(asOf credit.Date) url.Values { return url.Values{"asOf": {asOf.String()}} }

func (h *httpReader) SubjectProfile(subject string, asOf credit.Date) (*indexer.Profile, error) {
	var p struct {
		indexer.Profile
		Records credit.Records `json:"records"`
	}
	if err := h.get("/v1/subjects/"+url.PathEscape(subject), asOfQuery(asOf), &p); err != nil {
		return nil, err
	}
	p.Profile.Records = p.Records
	return &p.Profile, nil
}

func (h *httpReader) Record(kind, id string, asOf credit.Date) (credit.Record, error) {
	var raw json.RawMessage
	if err := h.get("/v1/records/"+url.PathEscape(kind)+"/"+url.PathEscape(id), asOfQuery(asOf), &raw); err != nil {
		return nil, err
	}
	return credit.DecodeRecord(raw)
}

func (h *httpReader) RecordHistory(kind, id string) ([]indexer.HistoryEntry, error) {
	var out []indexer.HistoryEntry
	err := h.get("/v1/records/"+url.PathEscape(kind)+"/"+url.PathEscape(id)+"/history", nil, &out)
	return out, err
}

func httpList[T any](h *httpReader, county, list string, q url.Values) ([]T, error) {
	var out httpapi.List[T]
	if err := h.get("/v1/counties/"+url.PathEscape(county)+"/"+list, q, &out); err != nil {
		return nil, err
	}
	return out.Records, nil
}

func (h *httpReader) BlackList(county string, asOf credit.Date) ([]*credit.Punishment, error) {
	return httpList[*credit.Punishment](h, county, "blacklist", asOfQuery(asOf))
}

func (h *httpReader) WatchList(county string, asOf credit.Date) ([]*credit.Punishment, error) {
	return httpList[*credit.Punishment](h, county, "watchlist", asOfQuery(asOf))
}

func (h *httpReader) OverdueCommitments(county string, asOf credit.Date) ([]*credit.Commitment, error) {
	return httpList[*credit.Commitment](h, county, "overdue", asOfQuery(asOf))
}

func (h *httpReader) PublicityEnding(county string, asOf credit.Date, days int) ([]*credit.Punishment, error) {
	q := asOfQuery(asOf)
	q.Set("days", strconv.Itoa(days))
	return httpList[*credit.Punishment](h, county, "publicity-ending", q)
}

func (h *httpReader) RepairsAwaitingDecision(county string, asOf credit.Date) ([]*credit.Repair, error) {
	return httpList[*credit.Repair](h, county, "repairs-awaiting", asOfQuery(asOf))
}

func (h *httpReader) Indicators(county string, month keys.Month) (*indexer.Indicators, error) {
	var out indexer.Indicators
	if county == string(keys.AllCounties) {
		county = "all"
	}
	err := h.get("/v1/counties/"+url.PathEscape(county)+"/indicators/"+month.String(), nil, &out)
	return &out, err
}

// IndexLookupOptions are the inputs of the index lookups.
type IndexLookupOptions struct {
	IndexOptions
	// What is the lookup: subject, record, history, blacklist, watchlist,
	// overdue, ending, repairs, indicators.
	What     string
	Args     []string
	PersonID string
	AsOf     string
	Days     int
	Month    string
}

// lookupSpec describes one lookup command.
type lookupSpec struct {
	what, use, short, long, example string
	args                            int // positional arguments (subject: 0 or 1)
	asOf, county                    bool
}

var lookupSpecs = []lookupSpec{
	{what: "subject", use: "subject (<credit code> | --person-id ID) [--as-of DATE]", args: 1, asOf: true,
		short: "Every record of a subject, from the index (as `subject show`)",
		long:  "Every record about a subject, from every county, with its state as of --as-of (default today), read from the index.",
		example: `  creditctl index subject 91330782MA2K3Y5Q1R
  creditctl index subject 91330782MA2K3Y5Q1R --as-of 2026-12-31 -o json`},
	{what: "record", use: "record <kind> <id> [--as-of DATE]", args: 2, asOf: true,
		short:   "One record with its state as of a date, from the index (as `<noun> show`)",
		long:    "One record (kind: commitment, punishment, dishonesty, enforcement, repair, objection) with its derived state as of --as-of (default today), read from the index.",
		example: `  creditctl index record punishment PUN-330782-20261123-4f9a0c`},
	{what: "history", use: "history <kind> <id>", args: 2,
		short:   "Every write of a record, block by block, from the index",
		long:    "Every write of a record (or county, ruleset, calendar) in block order: block, transaction, time and the value written.",
		example: `  creditctl index history commitment CMT-330782-20261123-1a2b3c -o json`},
	{what: "blacklist", use: "blacklist [--county CODE] [--as-of DATE]", asOf: true, county: true,
		short:   "The county's black list (严重失信主体名单) in publicity on a date",
		long:    "The black-list punishments the county imposed that are in publicity on --as-of (default today): active, not expired.",
		example: `  creditctl index blacklist --county 330782 --lang zh`},
	{what: "watchlist", use: "watchlist [--county CODE] [--as-of DATE]", asOf: true, county: true,
		short:   "The county's watch list (重点关注名单) in publicity on a date",
		long:    "The watch-list punishments the county imposed that are in publicity on --as-of (default today).",
		example: `  creditctl index watchlist --county 330782`},
	{what: "overdue", use: "overdue [--county CODE] [--as-of DATE]", asOf: true, county: true,
		short:   "The county's commitments overdue on a date",
		long:    "The county's commitments still made (not fulfilled or breached) whose deadline is before --as-of (default today), by deadline.",
		example: `  creditctl index overdue --county 330782 --as-of 2026-12-31`},
	{what: "ending", use: "ending [--county CODE] [--days N] [--as-of DATE]", asOf: true, county: true,
		short:   "The county's punishments whose publicity ends within N days",
		long:    "The county's active punishments (any kind) still in publicity on --as-of whose publicity ends at most --days days later (days 1: the last day is --as-of), by end date.",
		example: `  creditctl index ending --county 330782 --days 30`},
	{what: "repairs", use: "repairs [--county CODE]", asOf: true, county: true,
		short:   "The county's credit repairs awaiting its decision",
		long:    "The repair applications for the county's punishments that await its decision: applied (accept or reject), then accepted (complete or reject).",
		example: `  creditctl index repairs --county 330782`},
	{what: "indicators", use: "indicators [--county CODE|all] [--month YYYY-MM]", county: true,
		short: "The county credit indicators of a month (seed 002 Linyi, seed 004 Shaanxi)",
		long: `The county credit indicators of a month (default: this month, UTC+8), maintained by
the index at ingest: list totals, their share of all counties, new entries,
exits (repaired, revoked, expired) and their share, repairs applied and
completed, commitments made, fulfilled, breached and overdue, and commitment
coverage. --county all gives all counties together. Definitions:
docs/INDEXER.md.`,
		example: `  creditctl index indicators --county 330782 --month 2026-11 --lang zh
  creditctl index indicators --county all -o json`},
}

func indexLookupCommands(f *Factory) []*cobra.Command {
	var cmds []*cobra.Command
	for _, s := range lookupSpecs {
		cmds = append(cmds, NewCmdIndexLookup(f, s.what, nil))
	}
	return cmds
}

// NewCmdIndexLookup builds the lookup command what.
func NewCmdIndexLookup(f *Factory, what string, runF func(*IndexLookupOptions) error) *cobra.Command {
	var spec lookupSpec
	for _, s := range lookupSpecs {
		if s.what == what {
			spec = s
		}
	}
	if spec.what == "" {
		panic("creditctl: no index lookup " + what)
	}
	opts := &IndexLookupOptions{IndexOptions: newIndexOptions(f), What: what}
	cmd := &cobra.Command{
		Use:     spec.use,
		Short:   spec.short,
		Long:    spec.long + "\n\nThe index folder is opened (--dir), or a running `index serve` asked (--server).",
		Example: spec.example,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexLookup(opts)
		},
	}
	switch {
	case what == "subject":
		cmd.Args = func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &UsageError{Err: fmt.Errorf("%s takes at most one subject, got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		}
		cmd.Flags().StringVar(&opts.PersonID, "person-id", "", "a natural person's ID card number (hashed here; never sent)")
	case spec.args == 2:
		cmd.Args = usageArgs(2, "a record kind and an ID")
	default:
		cmd.Args = usageArgs(0, "no arguments")
	}
	indexFlags(cmd, &opts.IndexOptions, true)
	if spec.asOf {
		cmd.Flags().StringVar(&opts.AsOf, "as-of", "", "the date the states are computed for: YYYY-MM-DD, today, -10d, +1m … (default today)")
	}
	if what == "ending" {
		cmd.Flags().IntVar(&opts.Days, "days", 30, "publicity ending within this many days (0-3660)")
	}
	if what == "indicators" {
		cmd.Flags().StringVar(&opts.Month, "month", "", "the month, YYYY-MM (default this month)")
	}
	return cmd
}

func runIndexLookup(o *IndexLookupOptions) error {
	// Validate everything before opening anything.
	asOfS, err := parseDateArg("--as-of", o.AsOf, o.Now())
	if err != nil {
		return err
	}
	asOf := credit.DateOf(o.Now())
	if asOfS != "" {
		if asOf, err = credit.ParseDate(asOfS); err != nil {
			return &credit.FieldError{Field: "--as-of", Rule: err.Error()}
		}
	}
	var county, subject string
	var month keys.Month
	switch o.What {
	case "subject":
		if len(o.Args) == 1 {
			subject = o.Args[0]
		}
		if subject, err = o.resolveSubject(subject, o.PersonID, true); err != nil {
			return err
		}
		if _, err := credit.ParseSubject("subject", subject); err != nil {
			return err
		}
	case "record", "history":
		if o.What == "record" && !credit.IsRecordKind(o.Args[0]) {
			return &credit.FieldError{Field: "kind", Rule: fmt.Sprintf("%q must be one of %v", o.Args[0], credit.RecordKinds)}
		}
		if err := credit.ValidateRef("id", o.Args[1]); err != nil {
			return err
		}
	default:
		if county, err = o.County(); err != nil {
			return err
		}
		if o.What == "indicators" && (county == "all" || county == "*") {
			county = string(keys.AllCounties)
		} else if err := credit.ValidateCountyCode("--county", county); err != nil {
			return err
		}
		if o.What == "indicators" {
			month = toKeysMonth(credit.DateOf(o.Now()))
			if o.Month != "" {
				if month, err = keys.ParseMonth(o.Month); err != nil {
					return &credit.FieldError{Field: "--month", Rule: err.Error()}
				}
			}
		}
		if o.What == "ending" && (o.Days < 0 || o.Days > 3660) {
			return &credit.FieldError{Field: "--days", Rule: "must be between 0 and 3660"}
		}
	}

	r, err := o.reader()
	if err != nil {
		return err
	}
	defer r.Close()
	p := o.Printer()
	switch o.What {
	case "subject":
		prof, err := r.SubjectProfile(subject, asOf)
		if err != nil {
			return err
		}
		if p.JSON() {
			return p.WriteJSON(credit.SubjectRecordsResult{Subject: prof.Subject, Records: prof.Records})
		}
		return p.subjectProfile(subject, prof.Records)
	case "record":
		rec, err := r.Record(o.Args[0], o.Args[1], asOf)
		if err != nil {
			return err
		}
		return p.WriteRecord(rec)
	case "history":
		hs, err := r.RecordHistory(o.Args[0], o.Args[1])
		if err != nil {
			return err
		}
		if p.JSON() {
			return p.WriteJSON(hs)
		}
		rows := make([][]string, 0, len(hs))
		for _, h := range hs {
			state := "deleted"
			if !h.IsDelete {
				var head struct {
					State string `json:"state"`
				}
				_ = json.Unmarshal(h.Record, &head)
				state = p.Value("state", head.State)
			}
			rows = append(rows, []string{strconv.FormatUint(h.Block, 10), h.Timestamp, state, h.TxID})
		}
		return p.Table([]string{p.Label("block"), p.Label("timestamp"), p.Label("state"), p.Label("txId")}, rows)
	case "indicators":
		ind, err := r.Indicators(county, month)
		if err != nil {
			return err
		}
		if p.JSON() {
			return p.WriteJSON(ind)
		}
		return printIndicators(p, ind)
	}
	var recs credit.Records
	kind := credit.TypePunishment
	switch o.What {
	case "blacklist":
		recs, err = asRecords(r.BlackList(county, asOf))
	case "watchlist":
		recs, err = asRecords(r.WatchList(county, asOf))
	case "ending":
		recs, err = asRecords(r.PublicityEnding(county, asOf, o.Days))
	case "overdue":
		kind = credit.TypeCommitment
		recs, err = asRecords(r.OverdueCommitments(county, asOf))
	case "repairs":
		kind = credit.TypeRepair
		recs, err = asRecords(r.RepairsAwaitingDecision(county, asOf))
	}
	if err != nil {
		return err
	}
	if p.JSON() {
		return p.WriteJSON(credit.ListByCountyResult{Records: recs})
	}
	if err := p.recordTable(listColumns[kind], recs); err != nil {
		return err
	}
	if len(recs) == 0 {
		p.Progressf("no records: %s of county %s as of %s", o.What, county, asOf)
	}
	return nil
}

func asRecords[T credit.Record](xs []T, err error) (credit.Records, error) {
	out := credit.Records{}
	for _, x := range xs {
		out = append(out, x)
	}
	return out, err
}

func toKeysMonth(d credit.Date) keys.Month {
	return keys.Month(d.Year()*100 + int(d.Month()))
}

// printIndicators prints one row per indicator.
func printIndicators(p *Printer, ind *indexer.Indicators) error {
	ratio := func(r indexer.Ratio) string {
		if r.Den == 0 {
			return fmt.Sprintf("%d/0", r.Num)
		}
		return fmt.Sprintf("%.2f%% (%d/%d)", 100*r.Value(), r.Num, r.Den)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	county := ind.County
	if county == string(keys.AllCounties) && p.Lang == "zh" {
		county = "全部"
	}
	rows := [][]string{
		{"county", county}, {"month", ind.Month}, {"height", strconv.FormatUint(ind.Height, 10)},
		{"listActive", n(ind.ListActive)}, {"listShare", ratio(ind.ListShare)},
		{"listEntries", n(ind.ListEntries)}, {"listExits", n(ind.ListExits)},
		{"listExitsRepaired", n(ind.ListExitsRepaired)}, {"listExitsRevoked", n(ind.ListExitsRevoked)},
		{"listExitsExpired", n(ind.ListExitsExpired)}, {"exitShare", ratio(ind.ExitShare)},
		{"listSubjectShare", ratio(ind.ListSubjectShare)},
		{"repairsApplied", n(ind.RepairsApplied)}, {"repairsCompleted", n(ind.RepairsCompleted)},
		{"repairTraining", n(ind.RepairTraining)},
		{"commitmentsMade", n(ind.CommitmentsMade)}, {"commitmentsFulfilled", n(ind.CommitmentsFulfilled)},
		{"commitmentsBreached", n(ind.CommitmentsBreached)}, {"overdueEntries", n(ind.OverdueEntries)},
		{"overdueActive", n(ind.OverdueActive)},
		{"subjectsSeen", n(ind.SubjectsSeen)}, {"subjectsCommitted", n(ind.SubjectsCommitted)},
		{"coverage", ratio(ind.Coverage)},
	}
	for _, r := range rows {
		r[0] = indexLabel(p, r[0])
	}
	return p.Table(nil, rows)
}
