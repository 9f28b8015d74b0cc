package chaincode

import (
	"fmt"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// TestListByCountyPagesWithBookmarks: records by county and state, paged
// with GetStateByPartialCompositeKeyWithPagination; the bookmark is empty
// after the last page; a derived-state filter (overdue) scans the stored
// state and keeps the matching records.
func TestListByCountyPagesWithBookmarks(t *testing.T) {
	w := newWorld(t)
	w.setDate("2026-03-02")
	for i := 1; i <= 5; i++ {
		deadline := "2026-03-03"
		if i%2 == 0 {
			deadline = "2026-12-31"
		}
		w.ok(w.officerA, "MakeCommitment", js(t, map[string]any{"id": fmt.Sprintf("com-%d", i), "kind": "approval", "subject": subjA, "content": "x", "deadline": deadline}))
	}
	w.ok(w.officerB, "MakeCommitment", js(t, map[string]any{"id": "com-b", "kind": "voluntary", "subject": subjA, "content": "x"}))
	w.ok(w.officerA, "FulfilCommitment", `{"id":"com-5"}`)

	type listPage struct {
		Records  []credit.Header `json:"records"`
		Bookmark string          `json:"bookmark"`
	}
	page := func(state string, size int, bookmark string) listPage {
		return decode[listPage](t, w.ok(w.readerA, "ListByCounty", js(t, map[string]any{"county": codeA, "kind": "commitment", "state": state, "pageSize": size, "bookmark": bookmark})))
	}
	ids := func(r listPage) string {
		var s []string
		for _, rec := range r.Records {
			s = append(s, rec.ID)
		}
		return strings.Join(s, ",")
	}
	var all []string
	bm := ""
	for i := 0; ; i++ {
		r := page("", 2, bm)
		all = append(all, ids(r))
		if r.Bookmark == "" {
			break
		}
		bm = r.Bookmark
		if i > 5 {
			t.Fatal("paging does not end")
		}
	}
	// Key order: state, then ID ("fulfilled" < "made").
	if got := strings.Join(all, "|"); got != "com-5,com-1|com-2,com-3|com-4" {
		t.Fatalf("pages %q", got)
	}
	if got := ids(page("made", 10, "")); got != "com-1,com-2,com-3,com-4" {
		t.Fatalf("made %q", got)
	}
	w.setDate("2026-03-04")
	if got := ids(page("overdue", 10, "")); got != "com-1,com-3" {
		t.Fatalf("overdue %q", got)
	}
	if got := ids(page("made", 10, "")); got != "com-2,com-4" {
		t.Fatalf("made (not overdue) %q", got)
	}
	r := page("overdue", 1, "")
	if ids(r) != "com-1" || r.Bookmark == "" {
		t.Fatalf("first overdue page %q %q", ids(r), r.Bookmark)
	}
	for _, bad := range []struct{ arg, field string }{
		{`{"county":"330782","kind":"commitment","pageSize":0}`, "pageSize"},
		{`{"county":"330782","kind":"commitment","pageSize":1001}`, "pageSize"},
		{`{"county":"330782","kind":"commitment","state":"expired","pageSize":5}`, "state"},
		{`{"county":"33078","kind":"commitment","pageSize":5}`, "county"},
		{`{"county":"330782","kind":"ruleset","pageSize":5}`, "kind"},
	} {
		msg := w.fail(w.readerA, "ListByCounty", bad.arg)
		wantCode(t, msg, credit.ErrInvalid)
		if !strings.Contains(msg, bad.field+":") {
			t.Errorf("%s: message %q does not name %s", bad.arg, msg, bad.field)
		}
	}
}

// TestListStateRawPaging: raw world state of one object type, paged, for
// the indexer's reconcile.
func TestListStateRawPaging(t *testing.T) {
	w := newWorld(t)
	var keys []string
	bm := ""
	for {
		r := decode[credit.ListStateResult](t, w.ok(w.readerA, "ListState", js(t, map[string]any{"objectType": "county", "pageSize": 2, "bookmark": bm})))
		for _, e := range r.Entries {
			keys = append(keys, strings.ReplaceAll(e.Key, "\x00", "/"))
			if !strings.HasPrefix(e.Value, `{"kind":"county"`) {
				t.Fatalf("value %q", e.Value)
			}
		}
		if bm = r.Bookmark; bm == "" {
			break
		}
	}
	if got := strings.Join(keys, " "); got != "/county/330782/ /county/330783/ /county/371321/" {
		t.Fatalf("keys %q", got)
	}
	wantCode(t, w.fail(w.readerA, "ListState", `{"objectType":"secrets","pageSize":2}`), credit.ErrInvalid)
}

// TestRuleSetsAndCalendarsOnLedger: rule sets and calendars are data on the
// ledger, read back by GetRuleSets / GetCalendar.
func TestRuleSetsAndCalendarsOnLedger(t *testing.T) {
	w := newWorld(t)
	sets := decode[[]credit.RuleSet](t, w.ok(w.readerA, "GetRuleSets", `{}`))
	if len(sets) != 1 || sets[0].Version != "ndrc-2019" {
		t.Fatalf("default only: %+v", sets)
	}
	w.ok(w.adminB, "InstallRuleSet", js(t, order58Set(t)))
	wantCode(t, w.fail(w.adminA, "InstallRuleSet", js(t, order58Set(t))), credit.ErrExists)
	sets = decode[[]credit.RuleSet](t, w.ok(w.readerA, "GetRuleSets", `{}`))
	if len(sets) != 2 || sets[0].Version != "ndrc-2019" || sets[1].Version != "ndrc-2023-order58" || !sets[1].NeedsChecking {
		t.Fatalf("after install: %+v", sets)
	}
	wantCode(t, w.fail(w.readerA, "GetCalendar", `{"year":2026}`), credit.ErrNotFound)
	w.ok(w.adminA, "InstallCalendar", js(t, credit.ShippedCalendars()[1]))
	cal := decode[credit.Calendar](t, w.ok(w.readerA, "GetCalendar", `{"year":2026}`))
	if cal.Year != 2026 || len(cal.Workdays) != 6 {
		t.Fatalf("calendar %+v", cal)
	}
	bad := credit.ShippedCalendars()[1]
	bad.Workdays = append(bad.Workdays, "2026-03-02") // a Monday
	msg := w.fail(w.adminA, "InstallCalendar", js(t, bad))
	if !strings.Contains(msg, "workdays[") || !strings.Contains(msg, "Saturday or Sunday") {
		t.Fatalf("message %q", msg)
	}
}

// TestRuleChangeStraddlingDecisionDateOnChain: with Order No. 58 installed,
// a serious punishment decided 2023-04-30 keeps ndrc-2019 (repairable after
// 6 months) and one decided 2023-05-01 takes Order 58 (12 months); the
// completion is judged on the transaction date, the day before and the day
// of each minEnd.
func TestRuleChangeStraddlingDecisionDateOnChain(t *testing.T) {
	w := newWorld(t)
	w.ok(w.adminA, "InstallRuleSet", js(t, order58Set(t)))
	for _, c := range []struct{ id, decision, minEnd, rule string }{
		{"pun-0430", "2023-04-30", "2023-10-30", "ndrc-2019"},
		{"pun-0501", "2023-05-01", "2024-05-01", "ndrc-2023-order58"},
	} {
		t.Run(c.id, func(t *testing.T) {
			w.setDate(c.decision)
			p := decode[credit.Punishment](t, w.ok(w.officerA, "ImposePunishment", js(t, map[string]any{"id": c.id, "subject": subjA, "kind": "blacklist", "severity": "serious",
				"decisionDate": c.decision, "decisionNo": "1", "legalBasis": "x", "measures": []string{"bidding"}})))
			if p.RuleSet != c.rule || p.MinEnd.String() != c.minEnd {
				t.Fatalf("rule %s minEnd %s", p.RuleSet, p.MinEnd)
			}
			w.ok(w.officerA, "ApplyRepair", js(t, map[string]any{"id": "rep-" + c.id, "punishmentId": c.id, "evidence": map[string]string{"identity": h1, "penaltyFulfilled": h2, "repairCommitment": h3, "training": h4, "creditReport": h5}}))
			w.ok(w.officerA, "AcceptRepair", js(t, map[string]string{"id": "rep-" + c.id}))
			w.setDate(credit.MustDate(c.minEnd).AddDays(-1).String())
			wantCode(t, w.fail(w.officerA, "CompleteRepair", js(t, map[string]string{"id": "rep-" + c.id})), credit.ErrTooEarly)
			w.setDate(c.minEnd)
			w.ok(w.officerA, "CompleteRepair", js(t, map[string]string{"id": "rep-" + c.id}))
		})
	}
}

// TestSpecialSeverityNeverRepairedOnChain: seed 001 — specially serious
// records are published for the maximum period and never repaired, even
// after years.
func TestSpecialSeverityNeverRepairedOnChain(t *testing.T) {
	w := newWorld(t)
	w.setDate("2026-01-05")
	w.ok(w.officerA, "ImposePunishment", js(t, map[string]any{"id": "pun-s", "subject": subjA, "kind": "blacklist", "severity": "special",
		"decisionDate": "2026-01-05", "decisionNo": "1", "legalBasis": "吊销食品经营许可证", "measures": []string{"market-access"}}))
	w.ok(w.officerA, "ApplyRepair", js(t, map[string]any{"id": "rep-s", "punishmentId": "pun-s", "evidence": map[string]string{"identity": h1, "penaltyFulfilled": h2, "repairCommitment": h3, "training": h4, "creditReport": h5}}))
	w.ok(w.officerA, "AcceptRepair", `{"id":"rep-s"}`)
	w.setDate("2028-12-31")
	msg := w.fail(w.officerA, "CompleteRepair", `{"id":"rep-s"}`)
	wantCode(t, msg, credit.ErrNotRepairable)
	w.setDate("2029-01-05")
	p := decode[credit.Punishment](t, w.ok(w.readerA, "GetRecord", `{"kind":"punishment","id":"pun-s"}`))
	if p.DerivedState != credit.StateExpired || p.State != credit.StateActive {
		t.Fatalf("at maxEnd: %s/%s", p.State, p.DerivedState)
	}
}

// TestObjectionCorrectionKeepsHistory: DOMAIN — an upheld objection corrects
// the record "with the history kept": RecordHistory returns both versions,
// oldest first.
func TestObjectionCorrectionKeepsHistory(t *testing.T) {
	w := newWorld(t)
	w.setDate("2026-01-05")
	w.ok(w.officerA, "ImposePunishment", js(t, map[string]any{"id": "pun-1", "subject": subjA, "kind": "blacklist", "severity": "serious",
		"decisionDate": "2026-01-05", "decisionNo": "义市监罚〔2026〕1号", "legalBasis": "x", "measures": []string{"bidding"}}))
	w.ok(w.officerC, "RaiseObjection", `{"id":"obj-1","recordKind":"punishment","recordId":"pun-1","reason":"应为一般失信"}`)
	wantCode(t, w.fail(w.officerC, "AnswerObjection", `{"id":"obj-1","decision":"dismissed","answer":"x"}`), credit.ErrForbidden)
	w.setDate("2026-01-20")
	w.ok(w.officerA, "AnswerObjection", js(t, map[string]any{"id": "obj-1", "decision": "upheld", "answer": "异议成立，更正为一般失信", "action": "correct",
		"correction": map[string]any{"severity": "general", "decisionNo": "义市监罚〔2026〕1号(更正)"}}))
	hist := decode[[]credit.HistoryEntry](t, w.ok(w.readerA, "RecordHistory", `{"kind":"punishment","id":"pun-1"}`))
	if len(hist) != 2 {
		t.Fatalf("%d versions", len(hist))
	}
	v1, v2 := decode[credit.Punishment](t, string(hist[0].Record)), decode[credit.Punishment](t, string(hist[1].Record))
	if v1.Severity != "serious" || v1.Revision != 1 || v2.Severity != "general" || v2.Revision != 2 || v2.MinEnd.String() != "2026-04-05" || v2.CorrectedBy != "obj-1" {
		t.Fatalf("versions %+v / %+v", v1, v2)
	}
	if hist[0].Timestamp != "2026-01-05T02:00:00Z" || hist[1].Timestamp != "2026-01-20T02:00:00Z" || hist[0].TxID == hist[1].TxID {
		t.Fatalf("history metadata %+v", hist)
	}
	wantCode(t, w.fail(w.readerA, "RecordHistory", `{"kind":"punishment","id":"nope"}`), credit.ErrNotFound)
}
