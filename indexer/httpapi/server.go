package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/keys"
)

// Status is the ingest status of an index: what `creditctl index status`
// prints and /v1/status returns.
type Status struct {
	Namespace string `json:"namespace"`
	// Height is the number of blocks applied (the next block expected);
	// LastBlock and LastTxID describe the checkpoint (when Height > 0).
	Height    uint64 `json:"height"`
	LastBlock uint64 `json:"lastBlock"`
	LastTxID  string `json:"lastTxId"`
	// PeerHeight is the peer's ledger height (0: unknown) and Lag the
	// blocks the index is behind it.
	PeerHeight uint64 `json:"peerHeight"`
	Lag        uint64 `json:"lag"`
	// BlocksPerSecond and TxsPerSecond are the recent ingest rate of the
	// process following the channel (0 when none is, or it is idle).
	BlocksPerSecond float64 `json:"blocksPerSecond"`
	TxsPerSecond    float64 `json:"txsPerSecond"`
	// Following says a process is following the channel into this index;
	// Error is its last ingest error ("" if none).
	Following bool   `json:"following"`
	Error     string `json:"error,omitempty"`
	// Counts since block 0 (indexer.Stats).
	Txs       uint64 `json:"txs"`
	Valid     uint64 `json:"valid"`
	Invalid   uint64 `json:"invalid"`
	Config    uint64 `json:"config"`
	CreditTxs uint64 `json:"creditTxs"`
	Writes    uint64 `json:"writes"`
	Deletes   uint64 `json:"deletes"`
	// UpdatedAt is when this status was read (RFC 3339 UTC).
	UpdatedAt string `json:"updatedAt"`
}

// StatusOf fills a Status from an index's counters.
func StatusOf(s indexer.Stats) Status {
	st := Status{Namespace: s.Namespace, Height: s.Height,
		Txs: s.Txs, Valid: s.Valid, Invalid: s.Invalid, Config: s.Config, CreditTxs: s.CreditTxs,
		Writes: s.Writes, Deletes: s.Deletes}
	if s.Height > 0 {
		st.LastBlock, st.LastTxID = s.Checkpoint.Block, s.Checkpoint.TxID
	}
	return st
}

// List is the answer of the per-county lists.
type List[T any] struct {
	County  string      `json:"county"`
	AsOf    credit.Date `json:"asOf"`
	Days    int         `json:"days,omitempty"` // publicity-ending only
	Records []T         `json:"records"`
}

// Options configure a Server.
type Options struct {
	// Now gives the default as-of date (today in UTC+8); nil: time.Now.
	Now func() time.Time
	// Metrics, if set, are served at /metrics and record every request.
	Metrics *Metrics
	// Status, if set, gives /v1/status; nil: the index's counters alone.
	Status func() Status
}

// Server is the HTTP handler of an index. It only reads: every request
// is one lookup on one snapshot of the index.
type Server struct {
	db   *indexer.DB
	opts Options
	mux  *http.ServeMux
}

// New returns the handler serving db.
func New(db *indexer.DB, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{db: db, opts: opts, mux: http.NewServeMux()}
	s.route("status", "/v1/status", nil, s.status)
	s.route("subject", "/v1/subjects/{subject}", []string{"asOf"}, s.subject)
	s.route("record", "/v1/records/{kind}/{id}", []string{"asOf"}, s.record)
	s.route("history", "/v1/records/{kind}/{id}/history", nil, s.history)
	s.route("blacklist", "/v1/counties/{county}/blacklist", []string{"asOf"}, s.blacklist)
	s.route("watchlist", "/v1/counties/{county}/watchlist", []string{"asOf"}, s.watchlist)
	s.route("overdue", "/v1/counties/{county}/overdue", []string{"asOf"}, s.overdue)
	s.route("publicity-ending", "/v1/counties/{county}/publicity-ending", []string{"asOf", "days"}, s.ending)
	s.route("repairs-awaiting", "/v1/counties/{county}/repairs-awaiting", []string{"asOf"}, s.repairs)
	s.route("indicators", "/v1/counties/{county}/indicators/{month}", nil, s.indicators)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.Ping(); err != nil {
			s.fail(w, "healthz", err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	if opts.Metrics != nil {
		s.mux.Handle("GET /metrics", opts.Metrics.Handler())
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, "none", http.StatusNotFound, "NOT_FOUND", "", fmt.Sprintf("no route %s; see /v1/status and the routes in `go doc ./indexer/httpapi`", r.URL.Path))
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// handler answers one route: it returns the value to encode, or an error.
type handler func(r *http.Request, q query) (any, error)

// route registers a GET route whose query may hold only params, timing
// the handler as lookup name.
func (s *Server) route(name, pattern string, params []string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.writeError(w, name, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "", r.Method+" is not allowed; the API only reads")
			return
		}
		q, err := parseQuery(r, params)
		if err != nil {
			s.fail(w, name, err)
			return
		}
		t0 := time.Now()
		v, err := h(r, q)
		if s.opts.Metrics != nil && name != "status" {
			s.opts.Metrics.observeLookup(name, time.Since(t0))
		}
		if err != nil {
			s.fail(w, name, err)
			return
		}
		s.write(w, name, http.StatusOK, v)
	})
}

// query holds the parsed query parameters.
type query struct{ vals map[string]string }

func parseQuery(r *http.Request, allowed []string) (query, error) {
	q := query{vals: map[string]string{}}
	for k, vs := range r.URL.Query() {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			rule := "is not a parameter of this route"
			if len(allowed) > 0 {
				rule += fmt.Sprintf(" (it takes %v)", allowed)
			}
			return q, &credit.FieldError{Field: k, Rule: rule}
		}
		if len(vs) != 1 {
			return q, &credit.FieldError{Field: k, Rule: "give it once"}
		}
		q.vals[k] = vs[0]
	}
	return q, nil
}

// asOf is the asOf parameter, today (UTC+8) when absent.
func (s *Server) asOf(q query) (credit.Date, error) {
	v, ok := q.vals["asOf"]
	if !ok {
		return credit.DateOf(s.opts.Now()), nil
	}
	d, err := credit.ParseDate(v)
	if err != nil {
		return credit.Date{}, &credit.FieldError{Field: "asOf", Rule: err.Error()}
	}
	return d, nil
}

func (s *Server) status(_ *http.Request, _ query) (any, error) {
	if s.opts.Status != nil {
		return s.opts.Status(), nil
	}
	st := StatusOf(s.db.Stats())
	st.UpdatedAt = credit.Instant(s.opts.Now())
	return st, nil
}

func (s *Server) subject(r *http.Request, q query) (any, error) {
	asOf, err := s.asOf(q)
	if err != nil {
		return nil, err
	}
	return s.db.SubjectProfile(r.PathValue("subject"), asOf)
}

func (s *Server) record(r *http.Request, q query) (any, error) {
	asOf, err := s.asOf(q)
	if err != nil {
		return nil, err
	}
	return s.db.Record(r.PathValue("kind"), r.PathValue("id"), asOf)
}

func (s *Server) history(r *http.Request, _ query) (any, error) {
	return s.db.RecordHistory(r.PathValue("kind"), r.PathValue("id"))
}

// countyList answers a per-county list.
func countyList[T any](s *Server, r *http.Request, q query, days int, fn func(county string, asOf credit.Date) ([]T, error)) (any, error) {
	asOf, err := s.asOf(q)
	if err != nil {
		return nil, err
	}
	county := r.PathValue("county")
	recs, err := fn(county, asOf)
	if err != nil {
		return nil, err
	}
	return List[T]{County: county, AsOf: asOf, Days: days, Records: recs}, nil
}

func (s *Server) blacklist(r *http.Request, q query) (any, error) {
	return countyList(s, r, q, 0, s.db.BlackList)
}

func (s *Server) watchlist(r *http.Request, q query) (any, error) {
	return countyList(s, r, q, 0, s.db.WatchList)
}

func (s *Server) overdue(r *http.Request, q query) (any, error) {
	return countyList(s, r, q, 0, s.db.OverdueCommitments)
}

func (s *Server) repairs(r *http.Request, q query) (any, error) {
	return countyList(s, r, q, 0, s.db.RepairsAwaitingDecision)
}

// DefaultEndingDays is the window of publicity-ending without days.
const DefaultEndingDays = 30

func (s *Server) ending(r *http.Request, q query) (any, error) {
	days := DefaultEndingDays
	if v, ok := q.vals["days"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, &credit.FieldError{Field: "days", Rule: fmt.Sprintf("%q is not a whole number of days", v)}
		}
		days = n
	}
	return countyList(s, r, q, days, func(county string, asOf credit.Date) ([]*credit.Punishment, error) {
		return s.db.PublicityEnding(county, asOf, days)
	})
}

func (s *Server) indicators(r *http.Request, _ query) (any, error) {
	county := r.PathValue("county")
	if county == "all" {
		county = string(keys.AllCounties)
	}
	m, err := keys.ParseMonth(r.PathValue("month"))
	if err != nil {
		return nil, &credit.FieldError{Field: "month", Rule: err.Error()}
	}
	return s.db.Indicators(county, m)
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// fail answers an error with the status its kind calls for.
func (s *Server) fail(w http.ResponseWriter, route string, err error) {
	var fe *credit.FieldError
	field := ""
	if errors.As(err, &fe) {
		field = fe.Field
	}
	switch {
	case errors.Is(err, credit.ErrInvalid):
		s.writeError(w, route, http.StatusBadRequest, "INVALID", field, err.Error())
	case errors.Is(err, credit.ErrNotFound):
		s.writeError(w, route, http.StatusNotFound, "NOT_FOUND", "", err.Error())
	case errors.Is(err, indexer.ErrClosed):
		s.writeError(w, route, http.StatusServiceUnavailable, "UNAVAILABLE", "", err.Error())
	default:
		s.writeError(w, route, http.StatusInternalServerError, "INTERNAL", "", err.Error())
	}
}

func (s *Server) writeError(w http.ResponseWriter, route string, code int, errCode, field, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = errCode, msg, field
	s.write(w, route, code, b)
}

func (s *Server) write(w http.ResponseWriter, route string, code int, v any) {
	if s.opts.Metrics != nil {
		s.opts.Metrics.countRequest(route, code)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away: nothing more to do
}
