package chaincode

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
)

// storyA sets up, in county A, a commitment, a serious punishment with an
// accepted repair, and an objection raised in county B — the records county
// B then tries to touch.
func storyA(t testing.TB) *world {
	t.Helper()
	w := newWorld(t)
	w.setDate("2026-01-05")
	w.ok(w.officerA, "MakeCommitment", js(t, map[string]any{"id": "com-1", "kind": "voluntary", "subject": subjA, "content": "守法经营承诺"}))
	w.ok(w.officerA, "MakeCommitment", js(t, map[string]any{"id": "com-2", "kind": "voluntary", "subject": subjA, "content": "守法经营承诺"}))
	w.ok(w.officerA, "ImposePunishment", js(t, map[string]any{"id": "pun-1", "subject": subjA, "kind": "publicity", "severity": "general",
		"decisionDate": "2026-01-05", "decisionNo": "义市监罚〔2026〕1号", "legalBasis": "《行政处罚法》", "measures": []string{"bidding"}}))
	w.ok(w.officerB, "ApplyRepair", js(t, map[string]any{"id": "rep-1", "punishmentId": "pun-1", "evidence": map[string]string{"identity": h1, "penaltyFulfilled": h2, "repairCommitment": h3}}))
	w.ok(w.officerB, "RaiseObjection", `{"id":"obj-1","recordKind":"punishment","recordId":"pun-1","reason":"已缴纳罚款"}`)
	w.setDate("2026-04-06")
	return w
}

// TestCrossCountyWritesForbidden: DOMAIN — only the county that imposed a
// punishment (made a commitment) may repair, revoke or correct it; other
// counties may only enforce and read. County B gets FORBIDDEN on every
// owner-only transaction over county A's records, and nothing is written.
func TestCrossCountyWritesForbidden(t *testing.T) {
	w := storyA(t)
	tests := []struct{ fn, arg string }{
		{"FulfilCommitment", `{"id":"com-1"}`},
		{"BreachCommitment", `{"id":"com-1","reason":"违诺"}`},
		{"RevokePunishment", `{"id":"pun-1","reason":"x"}`},
		{"AcceptRepair", `{"id":"rep-1"}`},
		{"CompleteRepair", `{"id":"rep-1"}`},
		{"RejectRepair", `{"id":"rep-1","reason":"x"}`},
		{"AnswerObjection", `{"id":"obj-1","decision":"upheld","answer":"x","action":"revoke"}`},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			before := len(w.state)
			resp, stub := w.invoke(w.officerB, tt.fn, tt.arg)
			wantCode(t, resp.Message, credit.ErrForbidden)
			if len(stub.writes)+len(stub.deletes) != 0 || len(w.state) != before || stub.eventCalls != 0 {
				t.Fatalf("a refused transaction wrote %d keys, %d events", len(stub.writes)+len(stub.deletes), stub.eventCalls)
			}
		})
	}
	// The owner can do each of them.
	w.ok(w.officerA, "FulfilCommitment", `{"id":"com-1"}`)
	w.ok(w.officerA, "BreachCommitment", `{"id":"com-2","reason":"违诺"}`)
	w.ok(w.officerA, "AcceptRepair", `{"id":"rep-1"}`)
	w.ok(w.officerA, "CompleteRepair", `{"id":"rep-1"}`)
}

// TestEveryRecordKeyHasOwnerEndorsementPolicy: defence in depth — every
// record key and county key carries a key-level policy requiring a peer of
// the owning county (statebased, RoleTypePeer), so a peer of another county
// cannot alter it. Index keys (subject, bycounty, countymsp), rule sets and
// calendars carry none: the chaincode-level MAJORITY policy guards them. The
// index keys must stay without one, or a creation's endorsement plan would
// drop MAJORITY (see credit.recordWrites) and fail validation.
func TestEveryRecordKeyHasOwnerEndorsementPolicy(t *testing.T) {
	w := storyA(t)
	w.ok(w.officerB, "RecordEnforcement", `{"id":"enf-1","punishmentId":"pun-1","measure":"bidding","date":"2026-04-06"}`)
	w.ok(w.adminA, "InstallCalendar", js(t, credit.ShippedCalendars()[1]))
	mspOf := map[string]string{codeA: mspA, codeB: mspB, codeC: mspC}
	checked, unguarded := 0, 0
	for key, value := range w.state {
		stub := &fakeStub{net: w.fakeNet}
		objectType, attrs, err := stub.SplitCompositeKey(key)
		if err != nil {
			t.Fatal(err)
		}
		var owner string
		switch objectType {
		case credit.TypeRuleSet, credit.TypeCalendar, credit.TypeCountyMSP, credit.TypeSubject, credit.TypeByCounty, credit.TypeOpenRepair:
			if p := w.sbe[key]; p != nil {
				t.Errorf("%s %v has a key-level policy; it must be guarded by MAJORITY only", objectType, attrs)
			}
			unguarded++
			continue
		case credit.TypeCounty:
			owner = attrs[0]
		default:
			var h credit.Header
			if err := json.Unmarshal(value, &h); err != nil {
				t.Fatal(err)
			}
			owner = h.County
		}
		pol := w.sbe[key]
		if pol == nil {
			t.Errorf("%s %v: no key-level endorsement policy", objectType, attrs)
			continue
		}
		ep, err := statebased.NewStateEP(pol)
		if err != nil {
			t.Fatal(err)
		}
		if orgs := ep.ListOrgs(); !slices.Equal(orgs, []string{mspOf[owner]}) {
			t.Errorf("%s %v: policy names %v, want [%s]", objectType, attrs, orgs, mspOf[owner])
		}
		checked++
	}
	// 3 county keys + 7 records (com-1, com-2, pun-1, rep-1,
	// rep-1.commitment, obj-1, enf-1) = 10 guarded keys; 3 countymsp + 7
	// subject + 7 bycounty index keys + 1 calendar + the open-repair lock of
	// pun-1 = 19 unguarded.
	if checked != 10 || unguarded != 19 {
		t.Fatalf("%d guarded and %d unguarded keys, want 10 and 19", checked, unguarded)
	}
	// The repair and the objection raised in county B belong to county A;
	// the enforcement recorded by B belongs to B.
	for _, c := range []struct{ kind, id, county string }{{"repair", "rep-1", codeA}, {"objection", "obj-1", codeA}, {"enforcement", "enf-1", codeB}, {"commitment", "rep-1.commitment", codeA}} {
		var h credit.Header
		if err := json.Unmarshal([]byte(w.ok(w.readerA, "GetRecord", js(t, map[string]string{"kind": c.kind, "id": c.id}))), &h); err != nil {
			t.Fatal(err)
		}
		if h.County != c.county {
			t.Errorf("%s %s owned by %s, want %s", c.kind, c.id, h.County, c.county)
		}
	}
}

// TestOneEventPerWriteTransaction: DESIGN §5 — exactly one event per write,
// named after the action, payload {"action","kind","id","subject","county","txTime"}.
func TestOneEventPerWriteTransaction(t *testing.T) {
	w := newWorld(t)
	w.setDate("2026-02-06")
	steps := []struct {
		who                  *fakeIdentity
		fn, arg              string
		event, kind, id, cty string
	}{
		{w.adminA, "InstallCalendar", js(t, credit.ShippedCalendars()[1]), "CalendarInstalled", "calendar", "2026", codeA},
		{w.adminA, "InstallRuleSet", js(t, order58Set(t)), "RuleSetInstalled", "ruleset", "ndrc-2023-order58", codeA},
		{w.officerA, "MakeCommitment", js(t, map[string]any{"id": "com-1", "kind": "missing-materials", "subject": subjA, "content": "补交"}), "CommitmentMade", "commitment", "com-1", codeA},
		{w.officerA, "BreachCommitment", `{"id":"com-1","reason":"逾期未补交"}`, "CommitmentBreached", "commitment", "com-1", codeA},
		{w.officerA, "ImposePunishment", js(t, map[string]any{"id": "pun-1", "subject": subjA, "kind": "blacklist", "severity": "general", "decisionDate": "2026-02-06", "decisionNo": "1", "legalBasis": "x", "measures": []string{"bidding"}, "dishonestyId": "com-1.breach"}), "PunishmentImposed", "punishment", "pun-1", codeA},
		{w.officerB, "RecordEnforcement", `{"id":"enf-1","punishmentId":"pun-1","measure":"bidding","date":"2026-02-06"}`, "EnforcementRecorded", "enforcement", "enf-1", codeB},
		{w.officerB, "ApplyRepair", js(t, map[string]any{"id": "rep-1", "punishmentId": "pun-1", "evidence": map[string]string{"identity": h1, "penaltyFulfilled": h2, "repairCommitment": h3}}), "RepairApplied", "repair", "rep-1", codeA},
		{w.officerA, "AcceptRepair", `{"id":"rep-1"}`, "RepairAccepted", "repair", "rep-1", codeA},
		{w.officerA, "RejectRepair", `{"id":"rep-1","reason":"材料不全"}`, "RepairRejected", "repair", "rep-1", codeA},
		{w.officerC, "RaiseObjection", `{"id":"obj-1","recordKind":"punishment","recordId":"pun-1","reason":"x"}`, "ObjectionRaised", "objection", "obj-1", codeA},
		{w.officerA, "AnswerObjection", `{"id":"obj-1","decision":"dismissed","answer":"维持"}`, "ObjectionAnswered", "objection", "obj-1", codeA},
		{w.officerA, "RevokePunishment", `{"id":"pun-1","reason":"复议撤销"}`, "PunishmentRevoked", "punishment", "pun-1", codeA},
		{w.officerA, "MakeCommitment", js(t, map[string]any{"id": "com-2", "kind": "voluntary", "subject": subjA, "content": "x"}), "CommitmentMade", "commitment", "com-2", codeA},
		{w.officerA, "FulfilCommitment", `{"id":"com-2"}`, "CommitmentFulfilled", "commitment", "com-2", codeA},
	}
	for _, s := range steps {
		t.Run(s.fn, func(t *testing.T) {
			resp, stub := w.invoke(s.who, s.fn, s.arg)
			if resp.Status != 200 {
				t.Fatalf("%s: %s", s.fn, resp.Message)
			}
			if stub.eventCalls != 1 || stub.eventName != s.event {
				t.Fatalf("events: %d calls, last %q, want one %q", stub.eventCalls, stub.eventName, s.event)
			}
			var ev map[string]string
			if err := json.Unmarshal(stub.eventPayload, &ev); err != nil {
				t.Fatal(err)
			}
			if ev["action"] != s.event || ev["kind"] != s.kind || ev["id"] != s.id || ev["county"] != s.cty || ev["txTime"] != "2026-02-06T02:00:00Z" {
				t.Fatalf("payload %s", stub.eventPayload)
			}
			if s.kind != "calendar" && s.kind != "ruleset" && ev["subject"] != subjA {
				t.Fatalf("payload subject %s", stub.eventPayload)
			}
			if !strings.HasPrefix(string(stub.eventPayload), `{"action":`) {
				t.Fatalf("field order: %s", stub.eventPayload)
			}
		})
	}
	// Reads set no event.
	_, stub := w.invoke(w.readerA, "GetRecord", `{"kind":"punishment","id":"pun-1"}`)
	if stub.eventCalls != 0 {
		t.Fatal("a read set an event")
	}
}

// TestRolesFromIdentity: DESIGN §4 — the county comes from the registry
// lookup of the MSP ID, the role and department from the Fabric CA attribute
// extension; an MSP admin (NodeOU admin) counts as admin; no role reads only;
// only admins register and install; only officers write records.
func TestRolesFromIdentity(t *testing.T) {
	w := newWorld(t)
	unregistered := w.identity("County999999MSP", "officerX", "client", map[string]string{"role": "officer", "dept": "market"})
	attrAdmin := w.identity(mspA, "attrAdmin", "client", map[string]string{"role": "admin"})
	weirdRole := w.identity(mspA, "weird", "client", map[string]string{"role": "boss", "dept": "market"})
	noDept := w.identity(mspA, "nodept", "client", map[string]string{"role": "officer"})
	commit := js(t, map[string]any{"id": "com-1", "kind": "voluntary", "subject": subjA, "content": "x"})
	for _, c := range []struct {
		name string
		who  *fakeIdentity
	}{
		{"no role", w.readerA}, {"auditor", w.auditorA}, {"MSP admin", w.adminA}, {"attribute admin", attrAdmin},
		{"unknown role", weirdRole}, {"officer without dept", noDept}, {"unregistered MSP", unregistered},
	} {
		t.Run("write as "+c.name, func(t *testing.T) {
			wantCode(t, w.fail(c.who, "MakeCommitment", commit), credit.ErrForbidden)
		})
	}
	for _, who := range []*fakeIdentity{w.officerA, w.readerA, w.auditorA} {
		wantCode(t, w.fail(who, "InstallCalendar", js(t, credit.ShippedCalendars()[0])), credit.ErrForbidden)
		wantCode(t, w.fail(who, "InstallRuleSet", js(t, order58Set(t))), credit.ErrForbidden)
	}
	w.ok(attrAdmin, "InstallCalendar", js(t, credit.ShippedCalendars()[0]))
	// Reads need no role, not even a registered county.
	w.ok(w.officerA, "MakeCommitment", commit)
	w.ok(unregistered, "GetRecord", `{"kind":"commitment","id":"com-1"}`)
	// Registration: an admin registers its own MSP, once; a code once.
	newAdmin := w.identity("County330781MSP", "Admin", "admin", nil)
	wantCode(t, w.fail(w.officerA, "RegisterCounty", `{"code":"330781","name":"兰溪市"}`), credit.ErrForbidden)
	wantCode(t, w.fail(newAdmin, "RegisterCounty", `{"code":"330782","name":"义乌市"}`), credit.ErrExists)
	wantCode(t, w.fail(w.adminA, "RegisterCounty", `{"code":"330781","name":"兰溪市"}`), credit.ErrExists)
	wantCode(t, w.fail(newAdmin, "RegisterCounty", `{"code":"990781","name":"x"}`), credit.ErrInvalid)
	w.ok(newAdmin, "RegisterCounty", `{"code":"330781","name":"兰溪市"}`)
	counties := decode[[]credit.County](t, w.ok(w.readerA, "ListCounties", `{}`))
	var codes []string
	for _, c := range counties {
		codes = append(codes, c.Code+"="+c.MSPID)
	}
	if got := strings.Join(codes, " "); got != "330781=County330781MSP 330782=County330782MSP 330783=County330783MSP 371321=County371321MSP" {
		t.Fatalf("counties %s", got)
	}
}

// TestRetriedCreateIsExists: DESIGN §5 — IDs are chosen by the client, so a
// retried transaction cannot create a second record.
func TestRetriedCreateIsExists(t *testing.T) {
	w := storyA(t)
	tests := []struct {
		who     *fakeIdentity
		fn, arg string
	}{
		{w.officerA, "MakeCommitment", js(t, map[string]any{"id": "com-1", "kind": "voluntary", "subject": subjA, "content": "x"})},
		{w.officerA, "ImposePunishment", js(t, map[string]any{"id": "pun-1", "subject": subjA, "kind": "publicity", "severity": "general", "decisionDate": "2026-01-05", "decisionNo": "1", "legalBasis": "x", "measures": []string{}})},
		{w.officerB, "ApplyRepair", js(t, map[string]any{"id": "rep-1", "punishmentId": "pun-1", "evidence": map[string]string{"identity": h1, "penaltyFulfilled": h2, "repairCommitment": h3}})},
		{w.officerB, "RaiseObjection", `{"id":"obj-1","recordKind":"punishment","recordId":"pun-1","reason":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			wantCode(t, w.fail(tt.who, tt.fn, tt.arg), credit.ErrExists)
		})
	}
}

// TestBadInputWritesNothing: STYLE — bad input gets an error naming the
// field and the rule, and nothing is written.
func TestBadInputWritesNothing(t *testing.T) {
	w := storyA(t)
	tests := []struct {
		name, fn, arg, want string
	}{
		{"unknown field", "MakeCommitment", `{"id":"com-9","kind":"voluntary","subject":"` + subjA + `","content":"x","colour":"red"}`, "colour: is not a known field"},
		{"bad check character", "MakeCommitment", `{"id":"com-9","kind":"voluntary","subject":"91330782MA2EXAMPL0","content":"x"}`, `subject: check character is "0"`},
		{"bad measure", "ImposePunishment", js(t, map[string]any{"id": "pun-9", "subject": subjA, "kind": "publicity", "severity": "general", "decisionDate": "2026-01-05", "decisionNo": "1", "legalBasis": "x", "measures": []string{"bidding", "prison"}}), "measures[1]: \"prison\" is not a measure code"},
		{"future decision", "ImposePunishment", js(t, map[string]any{"id": "pun-9", "subject": subjA, "kind": "publicity", "severity": "general", "decisionDate": "2026-04-07", "decisionNo": "1", "legalBasis": "x", "measures": []string{}}), "decisionDate: 2026-04-07 must not be after the transaction date 2026-04-06"},
		{"not JSON", "GetRecord", `kind=commitment`, "request: must be a JSON object"},
		{"wrong type", "ListByCounty", `{"county":"330782","kind":"commitment","pageSize":"10"}`, "pageSize: must be a JSON number"},
		{"no args", "GetRecord", ``, "request: must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, stub := w.invoke(w.officerA, tt.fn, tt.arg)
			wantCode(t, resp.Message, credit.ErrInvalid)
			if !strings.Contains(resp.Message, tt.want) {
				t.Fatalf("message %q, want it to contain %q", resp.Message, tt.want)
			}
			if len(stub.writes)+len(stub.deletes)+len(stub.sbeWrites) != 0 || stub.eventCalls != 0 {
				t.Fatal("bad input wrote state")
			}
		})
	}
	if resp, _ := w.invoke(w.officerA, "NoSuchFunction", `{}`); resp.Status == 200 {
		t.Fatal("an unknown function succeeded")
	}
	if resp, _ := w.invoke(w.officerA, "GetRecord", `{"kind":"commitment","id":"nope"}`); !strings.HasPrefix(resp.Message, "[NOT_FOUND]") {
		t.Fatalf("missing record: %q", resp.Message)
	}
}

// TestKeyLevelPolicySetOnlyAtCreation: a record's key-level policy is set by
// the transaction that creates it and by no later one. Re-setting it would
// make two updates of one key in the same block fail validation with
// ENDORSEMENT_POLICY_FAILURE (fabric's statebased validator: a validation
// parameter changed by a preceding transaction) instead of an MVCC conflict
// the client can retry. And no county writes another county's existing
// record: a repair application received by county B writes only new keys
// (the repair, its commitment, the open-repair lock of A's punishment), so
// the Gateway's endorsement plan never has to find the owner by itself.
func TestKeyLevelPolicySetOnlyAtCreation(t *testing.T) {
	w := storyA(t)
	punKey, err := (&fakeStub{net: w.fakeNet}).CreateCompositeKey(credit.TypePunishment, []string{"pun-1"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		who      *fakeIdentity
		fn, arg  string
		creates  int // keys given a key-level policy
		writesPn bool
	}{
		{w.officerA, "FulfilCommitment", `{"id":"com-1"}`, 0, false},
		{w.officerA, "BreachCommitment", `{"id":"com-2","reason":"逾期未补交材料"}`, 1, false}, // creates com-2.breach
		{w.officerA, "AcceptRepair", `{"id":"rep-1"}`, 0, false},
		{w.officerA, "CompleteRepair", `{"id":"rep-1"}`, 0, true},
		{w.officerB, "ImposePunishment", js(t, map[string]any{"id": "pun-b", "subject": subjA, "kind": "watchlist", "severity": "general",
			"decisionDate": "2026-04-01", "decisionNo": "东市监罚〔2026〕3号", "legalBasis": "《行政处罚法》", "measures": []string{}}), 1, false},
		{w.officerC, "ApplyRepair", js(t, map[string]any{"id": "rep-b", "punishmentId": "pun-b", "evidence": map[string]string{"identity": h1, "penaltyFulfilled": h2, "repairCommitment": h3}}), 2, false},
		{w.officerB, "RejectRepair", `{"id":"rep-b","reason":"材料不全"}`, 0, false},
	}
	for _, s := range steps {
		resp, stub := w.invoke(s.who, s.fn, s.arg)
		if resp.Status != 200 {
			t.Fatalf("%s: %s", s.fn, resp.Message)
		}
		if len(stub.sbeWrites) != s.creates {
			t.Errorf("%s set %d key-level policies, want %d (only for keys it creates)", s.fn, len(stub.sbeWrites), s.creates)
		}
		if _, wrote := stub.writes[punKey]; wrote != s.writesPn {
			t.Errorf("%s wrote punishment pun-1: %v, want %v", s.fn, wrote, s.writesPn)
		}
	}
}
