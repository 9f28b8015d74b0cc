package credit

import (
	"testing"
)

// TestDefaultRuleSetIsNDRC2019: seed 001, the NDRC notice effective
// 2019-07-01 — general 3 months min / 1 year max, repairable; serious 6
// months / 3 years, repairable with training and a credit report; specially
// serious published for the 3-year maximum, never repairable.
func TestDefaultRuleSetIsNDRC2019(t *testing.T) {
	rs := DefaultRuleSet()
	if rs.Version != "ndrc-2019" || rs.EffectiveFrom != "2019-07-01" || rs.NeedsChecking {
		t.Fatalf("header %+v", rs)
	}
	want := map[string]SeverityRule{
		SeverityGeneral: {MinMonths: 3, MaxMonths: 12, Repairable: true},
		SeveritySerious: {MinMonths: 6, MaxMonths: 36, Repairable: true, RequiresTrainingAndReport: true},
		SeveritySpecial: {MinMonths: 0, MaxMonths: 36, Repairable: false},
	}
	for _, sev := range Severities {
		if got, _ := rs.Rule(sev); got != want[sev] {
			t.Errorf("%s: %+v, want %+v", sev, got, want[sev])
		}
	}
}

// TestPublicityPeriodsFromDecisionDate: seed 001 — periods run from the
// decision date (自行政处罚决定之日起).
func TestPublicityPeriodsFromDecisionDate(t *testing.T) {
	tests := []struct {
		severity, decision, minEnd, maxEnd string
		repairable                         bool
	}{
		{SeverityGeneral, "2026-01-31", "2026-04-30", "2027-01-31", true},
		{SeveritySerious, "2024-02-29", "2024-08-29", "2027-02-28", true}, // leap day
		{SeveritySpecial, "2026-02-06", "", "2029-02-06", false},
	}
	for _, tt := range tests {
		t.Run(tt.severity, func(t *testing.T) {
			p := impose(t, "p-"+tt.severity, tt.severity, tt.decision, "2026-03-01", defaultRules())
			if p.MinEnd.String() != tt.minEnd || p.MaxEnd.String() != tt.maxEnd || p.Repairable != tt.repairable || p.RuleSet != "ndrc-2019" {
				t.Fatalf("got min %s max %s repairable %v rule %s", p.MinEnd, p.MaxEnd, p.Repairable, p.RuleSet)
			}
		})
	}
}

// TestRuleSetAtDecisionDate: each record keeps the rule set in force at its
// decision date; a decision before the earliest effective date uses the
// earliest rule set.
func TestRuleSetAtDecisionDate(t *testing.T) {
	sets := WithDefault([]RuleSet{order58(t)})
	tests := []struct{ date, want string }{
		{"2018-01-01", "ndrc-2019"}, // before every rule set: the earliest
		{"2019-07-01", "ndrc-2019"},
		{"2023-04-30", "ndrc-2019"},
		{"2023-05-01", "ndrc-2023-order58"},
		{"2026-02-06", "ndrc-2023-order58"},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			if got := RuleSetAt(sets, MustDate(tt.date)).Version; got != tt.want {
				t.Fatalf("rule set at %s = %s, want %s", tt.date, got, tt.want)
			}
		})
	}
}

// TestOrder58ChangesOnlyLaterDecisions: NDRC Order No. 58 (in force
// 2023-05-01, example file) lengthens the serious minimum to 12 months.
// Installing it changes nothing for a decision of 2023-04-30 (repairable
// after 6 months, on 2023-10-30) and moves the 2023-05-01 one to 12 months
// (2024-05-01): a rule change straddling the decision date.
func TestOrder58ChangesOnlyLaterDecisions(t *testing.T) {
	ex := order58(t)
	if !ex.NeedsChecking || ex.EffectiveFrom != "2023-05-01" || ex.Note == "" {
		t.Fatalf("the example must be marked as needing checking: %+v", ex)
	}
	if err := ex.Validate(); err != nil {
		t.Fatal(err)
	}
	before := defaultRules()
	after := WithDefault([]RuleSet{ex})
	tests := []struct {
		name, severity, decision string
		minBefore, minAfter      string
	}{
		{"serious decided the day before", SeveritySerious, "2023-04-30", "2023-10-30", "2023-10-30"},
		{"serious decided on the effective date", SeveritySerious, "2023-05-01", "2023-11-01", "2024-05-01"},
		{"serious decided later", SeveritySerious, "2025-03-31", "2025-09-30", "2026-03-31"},
		{"general unchanged", SeverityGeneral, "2023-05-01", "2023-08-01", "2023-08-01"},
		{"special unchanged", SeveritySpecial, "2023-05-01", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p0 := impose(t, "pun-0", tt.severity, tt.decision, "2026-03-01", before)
			p1 := impose(t, "pun-1", tt.severity, tt.decision, "2026-03-01", after)
			if p0.MinEnd.String() != tt.minBefore || p1.MinEnd.String() != tt.minAfter {
				t.Fatalf("minEnd without/with Order 58: %s / %s, want %s / %s", p0.MinEnd, p1.MinEnd, tt.minBefore, tt.minAfter)
			}
			if tt.decision < "2023-05-01" && p1.RuleSet != "ndrc-2019" {
				t.Fatalf("a decision before the effective date took rule set %s", p1.RuleSet)
			}
		})
	}
	// Repair completion on the transaction date follows the stored minEnd.
	p := impose(t, "pun-2", SeveritySerious, "2023-05-01", "2023-05-01", after)
	r := acceptedRepair(t, p, true)
	_, err := CompleteRepair(r, p, CompleteRepairRequest{ID: r.ID}, officerA, txOn("2023-11-01"))
	wantErr(t, err, ErrTooEarly) // would have been allowed under ndrc-2019
	if _, err := CompleteRepair(r, p, CompleteRepairRequest{ID: r.ID}, officerA, txOn("2024-05-01")); err != nil {
		t.Fatal(err)
	}
	q := impose(t, "pun-3", SeveritySerious, "2023-04-30", "2023-04-30", after)
	rq := acceptedRepair(t, q, true)
	if _, err := CompleteRepair(rq, q, CompleteRepairRequest{ID: rq.ID}, officerA, txOn("2023-10-30")); err != nil {
		t.Fatal(err)
	}
}

// TestInstallRuleSetGovernance: rule sets are installed by admins only; an
// existing version cannot be redefined; the specially serious severity can
// never be made repairable (seed 001).
func TestInstallRuleSetGovernance(t *testing.T) {
	tx := txOn("2026-03-01")
	ex := order58(t)
	if _, err := InstallRuleSet(ex, nil, officerA, tx); err == nil {
		t.Fatal("officer installed a rule set")
	} else {
		wantErr(t, err, ErrForbidden)
	}
	ch, err := InstallRuleSet(ex, nil, adminA, tx)
	if err != nil || ch.Event.Name != "RuleSetInstalled" {
		t.Fatalf("%+v %v", ch, err)
	}
	_, err = InstallRuleSet(ex, []RuleSet{ex}, adminA, tx)
	wantErr(t, err, ErrExists)
	def := DefaultRuleSet()
	def.General.MaxMonths = 24
	_, err = InstallRuleSet(def, nil, adminA, tx)
	wantErr(t, err, ErrExists)
	same := ex
	same.Version = "another"
	_, err = InstallRuleSet(same, []RuleSet{ex}, adminA, tx)
	wantField(t, err, "effectiveFrom", "already takes effect")

	bad := []struct {
		name  string
		edit  func(*RuleSet)
		field string
	}{
		{"special repairable", func(r *RuleSet) { r.Special.Repairable = true; r.Special.MinMonths = 6 }, "special.repairable"},
		{"min above max", func(r *RuleSet) { r.General.MinMonths = 13 }, "general.minMonths"},
		{"max zero", func(r *RuleSet) { r.Serious.MaxMonths = 0 }, "serious.maxMonths"},
		{"repairable without minimum", func(r *RuleSet) { r.General.MinMonths = 0 }, "general.minMonths"},
		{"bad date", func(r *RuleSet) { r.EffectiveFrom = "2023-02-30" }, "effectiveFrom"},
		{"bad version", func(r *RuleSet) { r.Version = "a b" }, "version"},
		{"no source", func(r *RuleSet) { r.Source = "" }, "source"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := order58(t)
			r.Version = "v-" + tt.field
			tt.edit(&r)
			_, err := InstallRuleSet(r, nil, adminA, tx)
			wantField(t, err, tt.field, "")
		})
	}
}
