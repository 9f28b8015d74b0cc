package credit

import (
	"testing"
)

func imposeReq() ImposePunishmentRequest {
	return ImposePunishmentRequest{
		ID: "pun-1", Subject: subject, Kind: PunishmentBlacklist, Severity: SeveritySerious, DecisionDate: "2026-02-06",
		DecisionNo: "义市监罚〔2026〕12号", LegalBasis: "《食品安全法》", Measures: []string{"procurement", "bidding"},
	}
}

// TestDecisionDateAfterTransactionRefused: DOMAIN "Time" — a decision date
// after the transaction time is refused; the transaction date itself is fine.
func TestDecisionDateAfterTransactionRefused(t *testing.T) {
	r := imposeReq()
	r.DecisionDate = "2026-02-07"
	_, err := ImposePunishment(r, nil, defaultRules(), officerA, txOn("2026-02-06"))
	wantField(t, err, "decisionDate", "must not be after the transaction date")
	r.DecisionDate = "2026-02-06"
	if _, err := ImposePunishment(r, nil, defaultRules(), officerA, txOn("2026-02-06")); err != nil {
		t.Fatal(err)
	}
}

// TestImposePunishmentValidation: a punishment's kind, severity, measure
// codes, decision date, number, legal basis and subject are checked, each
// error naming its field and rule.
// Source: DOMAIN.md (punishments), seed 004 (joint measure codes); docs/RULES.md.
func TestImposePunishmentValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*ImposePunishmentRequest)
		field string
		rule  string
	}{
		{"unknown measure", func(r *ImposePunishmentRequest) { r.Measures = []string{"bidding", "jail"} }, "measures[1]", "not a measure code"},
		{"duplicate measure", func(r *ImposePunishmentRequest) { r.Measures = []string{"bidding", "bidding"} }, "measures[1]", "twice"},
		{"unknown kind", func(r *ImposePunishmentRequest) { r.Kind = "redlist" }, "kind", "not one of"},
		{"unknown severity", func(r *ImposePunishmentRequest) { r.Severity = "grave" }, "severity", "not one of"},
		{"no decision date", func(r *ImposePunishmentRequest) { r.DecisionDate = "" }, "decisionDate", "required"},
		{"no decision number", func(r *ImposePunishmentRequest) { r.DecisionNo = "" }, "decisionNo", "required"},
		{"no legal basis", func(r *ImposePunishmentRequest) { r.LegalBasis = "" }, "legalBasis", "required"},
		{"bad subject", func(r *ImposePunishmentRequest) { r.Subject = "P123" }, "subject", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := imposeReq()
			tt.edit(&r)
			_, err := ImposePunishment(r, nil, defaultRules(), officerA, txOn("2026-03-01"))
			wantField(t, err, tt.field, tt.rule)
		})
	}
}

// TestPunishmentCitesDishonestyOfSameSubject: a breached commitment is the
// usual source of a punishment (seeds 003/004); the cited record must exist
// and be about the same subject.
func TestPunishmentCitesDishonestyOfSameSubject(t *testing.T) {
	d := &Dishonesty{Header: Header{Kind: TypeDishonesty, ID: "c-1.breach", Subject: subject, County: "330782"}}
	r := imposeReq()
	r.DishonestyID = "c-1.breach"
	if _, err := ImposePunishment(r, d, defaultRules(), officerA, txOn("2026-03-01")); err != nil {
		t.Fatal(err)
	}
	_, err := ImposePunishment(r, nil, defaultRules(), officerA, txOn("2026-03-01"))
	wantErr(t, err, ErrNotFound)
	d.Subject = other
	_, err = ImposePunishment(r, d, defaultRules(), officerA, txOn("2026-03-01"))
	wantField(t, err, "dishonestyId", "is about subject")
}

// TestPunishmentExpiresAtMaxEnd: DESIGN §2 / seed 001 — when the maximum
// publicity period ends the record reads expired (from maxEnd on) but stays
// in history; repaired and revoked records keep their state.
func TestPunishmentExpiresAtMaxEnd(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2024-02-29", "2024-02-29", defaultRules())
	if p.MaxEnd.String() != "2025-02-28" {
		t.Fatalf("maxEnd %s", p.MaxEnd)
	}
	for date, want := range map[string]string{"2025-02-27": StateActive, "2025-02-28": StateExpired, "2030-01-01": StateExpired} {
		p.Derive(MustDate(date))
		if p.DerivedState != want || p.State != StateActive {
			t.Errorf("%s: derived %s, want %s", date, p.DerivedState, want)
		}
	}
	p.State = StateRepaired
	p.Derive(MustDate("2030-01-01"))
	if p.DerivedState != StateRepaired {
		t.Fatalf("repaired reads %s", p.DerivedState)
	}
}

// TestOnlyImposingCountyRevokes: DOMAIN — only the county that imposed a
// punishment may repair, revoke or correct it.
func TestOnlyImposingCountyRevokes(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	_, err := RevokePunishment(p, RevokePunishmentRequest{ID: "pun-1", Reason: "x"}, officerB, txOn("2026-01-11"))
	wantErr(t, err, ErrForbidden)
	_, err = RevokePunishment(p, RevokePunishmentRequest{ID: "pun-1"}, officerA, txOn("2026-01-11"))
	wantField(t, err, "reason", "required")
	ch, err := RevokePunishment(p, RevokePunishmentRequest{ID: "pun-1", Reason: "决定被撤销"}, officerA, txOn("2026-01-11"))
	if err != nil || p.State != StateRevoked || ch.Event.Name != "PunishmentRevoked" {
		t.Fatalf("%v %s", err, p.State)
	}
	_, err = RevokePunishment(p, RevokePunishmentRequest{ID: "pun-1", Reason: "again"}, officerA, txOn("2026-01-12"))
	wantErr(t, err, ErrState)
}

// TestEnforcementAcrossCounties: seed 004 跨区域联合惩戒 — another county
// records that it applied one of the punishment's measures; it owns that
// record. Refused for a measure the punishment lacks, an unknown code, or a
// punishment that is no longer active (expired, repaired, revoked).
func TestEnforcementAcrossCounties(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	req := RecordEnforcementRequest{ID: "enf-1", PunishmentID: "pun-1", Measure: "bidding", Date: "2026-02-01", Detail: "取消投标资格"}
	ch, err := RecordEnforcement(p, req, officerB, txOn("2026-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	e := ch.Result.(*Enforcement)
	if e.County != "330783" || e.PunishmentCounty != "330782" || e.Subject != subject || ch.Puts[0].Owner != "330783" {
		t.Fatalf("%+v", e)
	}
	bad := []struct {
		name  string
		edit  func(*RecordEnforcementRequest)
		field string
	}{
		{"measure not on the punishment", func(r *RecordEnforcementRequest) { r.Measure = "subsidy" }, "measure"},
		{"unknown measure", func(r *RecordEnforcementRequest) { r.Measure = "fine" }, "measure"},
		{"date in the future", func(r *RecordEnforcementRequest) { r.Date = "2026-02-02" }, "date"},
		{"date before decision", func(r *RecordEnforcementRequest) { r.Date = "2026-01-09" }, "date"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			tt.edit(&r)
			_, err := RecordEnforcement(p, r, officerB, txOn("2026-02-01"))
			wantField(t, err, tt.field, "")
		})
	}
	_, err = RecordEnforcement(p, RecordEnforcementRequest{ID: "enf-2", PunishmentID: "pun-1", Measure: "bidding", Date: "2027-01-10"}, officerB, txOn("2027-01-10"))
	wantErr(t, err, ErrState) // expired on maxEnd
	p.State = StateRevoked
	_, err = RecordEnforcement(p, RecordEnforcementRequest{ID: "enf-3", PunishmentID: "pun-1", Measure: "bidding", Date: "2026-02-01"}, officerB, txOn("2026-02-01"))
	wantErr(t, err, ErrState)
}
