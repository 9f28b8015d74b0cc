package credit

import (
	"slices"
	"testing"
)

func cal2026(t *testing.T) CalendarLookup { return lookupOf(shipped(t, 2026)) }

// TestCommitmentDeadlinesByKind: DOMAIN table (seeds 003/004) — approval
// substitution needs the verification date set by the office; missing
// materials defaults to 7 working days; voluntary and industry may have a
// deadline; repair commitments come only from ApplyRepair.
func TestCommitmentDeadlinesByKind(t *testing.T) {
	tests := []struct {
		name, kind, deadline string
		wantDeadline         string
		wantField            string
	}{
		{"approval with verification date", CommitmentApproval, "2026-03-15", "2026-03-15", ""},
		{"approval without verification date", CommitmentApproval, "", "", "deadline"},
		{"missing materials default", CommitmentMissingMaterials, "", "2026-02-28", ""},
		{"missing materials set by office", CommitmentMissingMaterials, "2026-02-20", "2026-02-20", ""},
		{"voluntary without deadline", CommitmentVoluntary, "", "", ""},
		{"industry with deadline", CommitmentIndustry, "2026-12-31", "2026-12-31", ""},
		{"repair refused", CommitmentRepair, "", "", "kind"},
		{"unknown kind", "promise", "", "", "kind"},
		{"deadline in the past", CommitmentVoluntary, "2026-02-11", "", "deadline"},
		{"impossible deadline", CommitmentVoluntary, "2026-02-30", "", "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := MakeCommitment(MakeCommitmentRequest{ID: "c-1", Kind: tt.kind, Subject: subject, Content: "承诺", Deadline: tt.deadline}, officerA, txOn("2026-02-12"), cal2026(t))
			if tt.wantField != "" {
				wantField(t, err, tt.wantField, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := ch.Result.(*Commitment)
			if c.Deadline.String() != tt.wantDeadline || c.State != StateMade || c.MadeOn.String() != "2026-02-12" {
				t.Fatalf("deadline %s state %s madeOn %s", c.Deadline, c.State, c.MadeOn)
			}
		})
	}
}

// TestMissingMaterialsDefaultRecordsCalendar: seed 004's 7 working days,
// counted over the 2026 Spring Festival (see
// TestMissingMaterialsDeadlineSpringFestival2026 for the day-by-day count);
// the commitment records the calendar it used, or weekends-only.
func TestMissingMaterialsDefaultRecordsCalendar(t *testing.T) {
	ch, err := MakeCommitment(MakeCommitmentRequest{ID: "c-1", Kind: CommitmentMissingMaterials, Subject: subject, Content: "补交材料"}, officerA, txOn("2026-02-12"), cal2026(t))
	if err != nil {
		t.Fatal(err)
	}
	c := ch.Result.(*Commitment)
	if c.Deadline.String() != "2026-02-28" || !slices.Equal(c.Calendars, []string{"2026"}) || c.DeadlineBasis == "" {
		t.Fatalf("%s %v %q", c.Deadline, c.Calendars, c.DeadlineBasis)
	}
	ch, err = MakeCommitment(MakeCommitmentRequest{ID: "c-2", Kind: CommitmentMissingMaterials, Subject: subject, Content: "补交材料"}, officerA, txOn("2027-02-04"), cal2026(t))
	if err != nil {
		t.Fatal(err)
	}
	c = ch.Result.(*Commitment)
	if c.Deadline.String() != "2027-02-15" || !slices.Equal(c.Calendars, []string{"2027:weekends-only"}) {
		t.Fatalf("%s %v", c.Deadline, c.Calendars)
	}
}

// TestCommitmentOverdueIsDerived: DOMAIN — a commitment past its deadline
// and still open reads overdue (from the day after the deadline); it is
// never stored.
func TestCommitmentOverdueIsDerived(t *testing.T) {
	ch, _ := MakeCommitment(MakeCommitmentRequest{ID: "c-1", Kind: CommitmentApproval, Subject: subject, Content: "x", Deadline: "2026-03-02"}, officerA, txOn("2026-02-12"), nil)
	c := roundTrip(t, ch.Result.(*Commitment))
	for date, want := range map[string]string{"2026-03-02": StateMade, "2026-03-03": StateOverdue} {
		c.Derive(MustDate(date))
		if c.DerivedState != want || c.State != StateMade {
			t.Errorf("%s: derived %s stored %s, want %s", date, c.DerivedState, c.State, want)
		}
	}
	// An overdue commitment can still be closed; closed ones are never overdue.
	if _, err := FulfilCommitment(c, FulfilCommitmentRequest{ID: "c-1", Note: "补正完成"}, officerA, txOn("2026-03-05")); err != nil {
		t.Fatal(err)
	}
	c.Derive(MustDate("2026-03-05"))
	if c.DerivedState != StateFulfilled {
		t.Fatalf("derived %s", c.DerivedState)
	}
}

// TestCommitmentClosedLoop: seeds 003/004 闭环管理 — a commitment ends
// fulfilled or breached, once; only the owning county closes it; a breach
// creates the dishonesty record "<id>.breach" a punishment can cite.
func TestCommitmentClosedLoop(t *testing.T) {
	mk := func() *Commitment {
		ch, err := MakeCommitment(MakeCommitmentRequest{ID: "c-1", Kind: CommitmentVoluntary, Subject: subject, Content: "x"}, officerA, txOn("2026-02-12"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return roundTrip(t, ch.Result.(*Commitment))
	}
	c := mk()
	_, err := FulfilCommitment(c, FulfilCommitmentRequest{ID: "c-1"}, officerB, txOn("2026-02-13"))
	wantErr(t, err, ErrForbidden)
	_, err = BreachCommitment(c, BreachCommitmentRequest{ID: "c-1", Reason: "违诺"}, officerB, txOn("2026-02-13"))
	wantErr(t, err, ErrForbidden)
	_, err = BreachCommitment(c, BreachCommitmentRequest{ID: "c-1"}, officerA, txOn("2026-02-13"))
	wantField(t, err, "reason", "required")
	ch, err := BreachCommitment(c, BreachCommitmentRequest{ID: "c-1", Reason: "虚假承诺"}, officerA, txOn("2026-02-13"))
	if err != nil {
		t.Fatal(err)
	}
	if c.State != StateBreached || c.DishonestyID != "c-1.breach" || ch.Event.Name != "CommitmentBreached" {
		t.Fatalf("%+v", c)
	}
	var d Dishonesty
	found := false
	for _, p := range ch.Puts {
		if p.Key.ObjectType == TypeDishonesty {
			mustUnmarshal(t, p.Value, &d)
			found = true
		}
	}
	if !found || d.ID != "c-1.breach" || d.Subject != subject || d.County != "330782" || d.CommitmentID != "c-1" || d.State != StateRecorded {
		t.Fatalf("dishonesty %+v", d)
	}
	// The stored state moved: the bycounty index key of "made" is deleted.
	if len(ch.Dels) != 1 || ch.Dels[0].Attrs[2] != StateMade {
		t.Fatalf("index deletes %v", ch.Dels)
	}
	_, err = FulfilCommitment(c, FulfilCommitmentRequest{ID: "c-1"}, officerA, txOn("2026-02-14"))
	wantErr(t, err, ErrState)
	_, err = BreachCommitment(c, BreachCommitmentRequest{ID: "c-1", Reason: "again"}, officerA, txOn("2026-02-14"))
	wantErr(t, err, ErrState)
}

// TestOnlyOfficersWrite: DESIGN §4 — only officers of a registered county
// write records; auditors, admins and identities without a role read only.
func TestOnlyOfficersWrite(t *testing.T) {
	for _, a := range []Actor{auditorA, adminA, readerA, strangerOfficer, {MSPID: "County330782MSP", County: "330782", Role: RoleOfficer, ID: "nodept"}, {MSPID: "County330782MSP", County: "330782", Role: RoleOfficer, Dept: "Market!", ID: "baddept"}} {
		t.Run(a.ID, func(t *testing.T) {
			_, err := MakeCommitment(MakeCommitmentRequest{ID: "c-1", Kind: CommitmentVoluntary, Subject: subject, Content: "x"}, a, txOn("2026-02-12"), nil)
			wantErr(t, err, ErrForbidden)
		})
	}
}

// TestRecordDepartment: DESIGN §4 — a record's department is the officer's;
// the credit office may record for any department, others only their own.
func TestRecordDepartment(t *testing.T) {
	tests := []struct {
		name   string
		actor  Actor
		dept   string
		want   string
		wantFE bool
		forbid bool
	}{
		{"own department", officerA, "", "market", false, false},
		{"own department named", officerA, "market", "market", false, false},
		{"other department", officerA, "tax", "", false, true},
		{"credit office for tax", creditA, "tax", "tax", false, false},
		{"credit office bad code", creditA, "Tax Bureau", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := MakeCommitment(MakeCommitmentRequest{ID: "c-1", Kind: CommitmentVoluntary, Subject: subject, Content: "x", Department: tt.dept}, tt.actor, txOn("2026-02-12"), nil)
			switch {
			case tt.forbid:
				wantErr(t, err, ErrForbidden)
			case tt.wantFE:
				wantField(t, err, "department", "")
			case err != nil:
				t.Fatal(err)
			default:
				if got := ch.Result.(*Commitment).Department; got != tt.want {
					t.Fatalf("department %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// TestMakeCommitmentValidation: a commitment's ID, subject, content and
// content hash are checked, each error naming its field.
// Source: DESIGN §5 (input validation); docs/RULES.md.
func TestMakeCommitmentValidation(t *testing.T) {
	base := MakeCommitmentRequest{ID: "c-1", Kind: CommitmentVoluntary, Subject: subject, Content: "x"}
	tests := []struct {
		name  string
		edit  func(*MakeCommitmentRequest)
		field string
	}{
		{"short id", func(r *MakeCommitmentRequest) { r.ID = "c" }, "id"},
		{"id with slash", func(r *MakeCommitmentRequest) { r.ID = "c/1" }, "id"},
		{"bad subject", func(r *MakeCommitmentRequest) { r.Subject = "91330782MA2EXAMPL0" }, "subject"},
		{"no content", func(r *MakeCommitmentRequest) { r.Content = "" }, "content"},
		{"NUL in content", func(r *MakeCommitmentRequest) { r.Content = "a\x00b" }, "content"},
		{"bad hash", func(r *MakeCommitmentRequest) { r.ContentHash = "xyz" }, "contentHash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			_, err := MakeCommitment(r, officerA, txOn("2026-02-12"), nil)
			wantField(t, err, tt.field, "")
		})
	}
}
