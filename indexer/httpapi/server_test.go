package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer"
)

// The synthetic fixtures of package indexer (testdata/fixtures.ddt): three
// counties; commitment C-1 (approval, deadline 2026-02-15) in 330782;
// commitment C-2 made, fulfilled and deleted; black-list punishment P-1
// (serious, decided 2026-01-15) of 330782 on subject B00002, with repair
// R-1 applied in 330783.
var (
	subjectC1 = credit.CompleteCreditCode("91330782MA2EXAMPL")
	subjectP1 = credit.CompleteCreditCode("91330782MA2B00002")
)

// fixture opens an in-memory index of the synthetic blocks, with metrics
// wired to its ingest, and a test server over it whose clock is
// 2026-02-20 (UTC+8).
func fixture(t *testing.T) (*indexer.DB, *Metrics, *httptest.Server) {
	t.Helper()
	var db *indexer.DB
	m := NewMetrics(func() uint64 { return db.Height() })
	db, err := indexer.Open("idx", indexer.Options{FS: vfs.NewMem(), OnApply: m.ObserveApply})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Follow(t.Context(), indexer.DirSource{Dir: "../testdata/blocks/synthetic"}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 2, 20, 1, 0, 0, 0, time.UTC) }
	srv := httptest.NewServer(New(db, Options{Now: now, Metrics: m}))
	t.Cleanup(srv.Close)
	return db, m, srv
}

func get(t *testing.T, srv *httptest.Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	_, _, srv := fixture(t)
	tests := []struct {
		name   string
		method string
		path   string
		code   int
		want   []string // substrings of the body
	}{
		{"status", "GET", "/v1/status", 200, []string{`"height":6`, `"namespace":"credit"`, `"invalid":2`}},
		{"subject profile", "GET", "/v1/subjects/" + subjectC1 + "?asOf=2026-02-16", 200,
			[]string{`"asOf":"2026-02-16"`, `"height":6`, `"id":"C-1"`, `"derivedState":"overdue"`}},
		{"subject profile as of today", "GET", "/v1/subjects/" + subjectC1, 200,
			[]string{`"asOf":"2026-02-20"`, `"derivedState":"overdue"`}},
		{"subject with no records", "GET", "/v1/subjects/" + credit.CompleteCreditCode("91330782MA2B99999"), 200, []string{`"records":[]`}},
		{"record", "GET", "/v1/records/commitment/C-1?asOf=2026-02-10", 200, []string{`"kind":"commitment"`, `"derivedState":"made"`}},
		{"deleted record", "GET", "/v1/records/commitment/C-2", 404, []string{`"code":"NOT_FOUND"`}},
		{"history with the delete", "GET", "/v1/records/commitment/C-2/history", 200, []string{`"isDelete":true`, `"record":null`}},
		{"black list", "GET", "/v1/counties/330782/blacklist?asOf=2026-02-01", 200, []string{`"county":"330782"`, `"id":"P-1"`}},
		{"watch list empty", "GET", "/v1/counties/330782/watchlist?asOf=2026-02-01", 200, []string{`"records":[]`}},
		{"overdue", "GET", "/v1/counties/330782/overdue?asOf=2026-02-16", 200, []string{`"id":"C-1"`}},
		{"not yet overdue", "GET", "/v1/counties/330782/overdue?asOf=2026-02-15", 200, []string{`"records":[]`}},
		{"publicity ending, default 30 days", "GET", "/v1/counties/330782/publicity-ending", 200, []string{`"days":30`, `"records":[]`}},
		{"publicity ending within 3 years", "GET", "/v1/counties/330782/publicity-ending?asOf=2026-02-01&days=1100", 200, []string{`"id":"P-1"`}},
		{"repairs awaiting", "GET", "/v1/counties/330782/repairs-awaiting", 200, []string{`"id":"R-1"`, `"state":"applied"`}},
		{"indicators", "GET", "/v1/counties/330782/indicators/2026-01", 200, []string{`"month":"2026-01"`, `"listEntries":1`, `"repairsApplied":1`}},
		{"indicators of all counties", "GET", "/v1/counties/all/indicators/2026-01", 200, []string{`"county":"*"`}},
		{"bad as-of", "GET", "/v1/subjects/" + subjectC1 + "?asOf=2026-02-30", 400, []string{`"code":"INVALID"`, `"field":"asOf"`}},
		{"bad subject", "GET", "/v1/subjects/91330782MA2EXAMPLX", 400, []string{`"code":"INVALID"`, `"field":"subject"`}},
		{"unknown parameter", "GET", "/v1/counties/330782/blacklist?county=1", 400, []string{`"field":"county"`, "is not a parameter"}},
		{"parameter twice", "GET", "/v1/counties/330782/blacklist?asOf=2026-01-01&asOf=2026-01-02", 400, []string{`"field":"asOf"`}},
		{"bad days", "GET", "/v1/counties/330782/publicity-ending?days=x", 400, []string{`"field":"days"`}},
		{"bad county", "GET", "/v1/counties/33078/blacklist", 400, []string{`"field":"county"`}},
		{"bad month", "GET", "/v1/counties/330782/indicators/2026-13", 400, []string{`"field":"month"`}},
		{"bad kind", "GET", "/v1/records/widget/C-1", 400, []string{`"field":"kind"`}},
		{"no such route", "GET", "/v2/anything", 404, []string{`"code":"NOT_FOUND"`}},
		{"writes refused", "POST", "/v1/records/commitment/C-1", 405, []string{`"code":"METHOD_NOT_ALLOWED"`}},
		{"health", "GET", "/healthz", 200, []string{"ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, srv, tc.method, tc.path)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %s:\n%s", w, body)
				}
			}
			if tc.path != "/healthz" && !json.Valid([]byte(body)) {
				t.Errorf("body is not JSON: %s", body)
			}
		})
	}
}

// TestRecordMatchesLookup: the API's record is the index's record, field
// for field, as the chaincode's GetRecord JSON.
func TestRecordMatchesLookup(t *testing.T) {
	db, _, srv := fixture(t)
	asOf := credit.NewDate(2026, 2, 16)
	rec, err := db.Record(credit.TypePunishment, "P-1", asOf)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(rec)
	code, body := get(t, srv, "GET", "/v1/records/punishment/P-1?asOf=2026-02-16")
	if code != 200 || strings.TrimSpace(body) != string(want) {
		t.Fatalf("status %d body\n%s\nwant\n%s", code, body, want)
	}
}

func TestMetrics(t *testing.T) {
	db, m, srv := fixture(t)
	get(t, srv, "GET", "/v1/subjects/"+subjectP1)
	get(t, srv, "GET", "/v1/subjects/"+subjectP1)
	get(t, srv, "GET", "/v1/records/commitment/nope")
	m.SetPeerHeight(9)
	code, body := get(t, srv, "GET", "/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, w := range []string{
		"creditindex_height 6",
		"creditindex_peer_height 9",
		"creditindex_lag_blocks 3",
		"creditindex_blocks_applied_total 6",
		`creditindex_transactions_applied_total{validity="invalid"} 2`,
		`creditindex_transactions_applied_total{validity="valid"} 12`,
		"creditindex_apply_seconds_count 6",
		`creditindex_lookup_seconds_count{lookup="subject"} 2`,
		`creditindex_lookup_seconds_count{lookup="record"} 1`,
		`creditindex_http_requests_total{code="404",route="record"} 1`,
		`creditindex_http_requests_total{code="200",route="subject"} 2`,
		"go_goroutines",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, srv, "GET", "/v1/subjects/"+subjectP1); code != 503 || !strings.Contains(body, "UNAVAILABLE") {
		t.Fatalf("after close: %d %s", code, body)
	}
	if code, _ := get(t, srv, "GET", "/healthz"); code != 503 {
		t.Fatalf("healthz after close: %d", code)
	}
}

func TestLag(t *testing.T) {
	tests := []struct {
		name         string
		peer, height uint64
		want         uint64
	}{
		{"unknown peer", 0, 5, 0},
		{"behind", 9, 5, 4},
		{"level", 5, 5, 0},
		{"ahead of the peer", 4, 5, 0},
	}
	for _, tc := range tests {
		if got := Lag(tc.peer, tc.height); got != tc.want {
			t.Errorf("%s: Lag(%d, %d) = %d, want %d", tc.name, tc.peer, tc.height, got, tc.want)
		}
	}
}
