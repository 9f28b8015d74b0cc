package credit

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func lookupOf(cals ...Calendar) CalendarLookup {
	return func(y int) *Calendar {
		for i := range cals {
			if cals[i].Year == y {
				return &cals[i]
			}
		}
		return nil
	}
}

func shipped(t *testing.T, year int) Calendar {
	t.Helper()
	for _, c := range ShippedCalendars() {
		if c.Year == year {
			return c
		}
	}
	t.Fatalf("no shipped calendar for %d", year)
	return Calendar{}
}

// TestShippedCalendar2026MatchesStateCouncilNotice checks the 2026 calendar
// against the State Council notice of 2025-11-04: the holiday blocks and
// the make-up working days (调休), each of which must be a weekend day.
func TestShippedCalendar2026MatchesStateCouncilNotice(t *testing.T) {
	c := shipped(t, 2026)
	wantWork := []string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
	if !slices.Equal(c.Workdays, wantWork) {
		t.Fatalf("workdays %v, want %v", c.Workdays, wantWork)
	}
	blocks := []struct {
		name, from string
		days       int
	}{
		{"元旦", "2026-01-01", 3}, {"春节", "2026-02-15", 9}, {"清明", "2026-04-04", 3}, {"劳动节", "2026-05-01", 5},
		{"端午", "2026-06-19", 3}, {"中秋", "2026-09-25", 3}, {"国庆", "2026-10-01", 7},
	}
	total := 0
	for _, b := range blocks {
		d := MustDate(b.from)
		for i := 0; i < b.days; i++ {
			if IsWorkingDay(d.AddDays(i), &c) {
				t.Errorf("%s: %s is a working day", b.name, d.AddDays(i))
			}
		}
		total += b.days
	}
	if len(c.Holidays) != total {
		t.Errorf("%d holidays, want %d", len(c.Holidays), total)
	}
	for _, s := range wantWork {
		if !IsWorkingDay(MustDate(s), &c) {
			t.Errorf("make-up day %s is not a working day", s)
		}
	}
	if c.Note == "" || !strings.Contains(c.Source, "2026") {
		t.Errorf("source/note missing: %q / %q", c.Source, c.Note)
	}
}

// TestShippedCalendar2025IsMarkedForChecking: the 2025 calendar was written
// from memory of the notice and says so.
func TestShippedCalendar2025IsMarkedForChecking(t *testing.T) {
	c := shipped(t, 2025)
	if !strings.Contains(c.Note, "check against the official text") {
		t.Fatalf("note %q", c.Note)
	}
	for _, s := range []string{"2025-01-28", "2025-02-04", "2025-10-08"} {
		if IsWorkingDay(MustDate(s), &c) {
			t.Errorf("%s should be a holiday", s)
		}
	}
	for _, s := range []string{"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"} {
		if !IsWorkingDay(MustDate(s), &c) {
			t.Errorf("%s should be a make-up working day", s)
		}
	}
}

// TestMissingMaterialsDeadlineSpringFestival2026: seed 004 — "书面承诺在7个
// 工作日内提供". A commitment made on Thursday 2026-02-12 is due on Saturday
// 2026-02-28. Counting working days after the 12th: Fri 13th (1), Sat 14th
// (2, a make-up working day), Sun 15th - Mon 23rd the Spring Festival
// holiday, Tue 24th (3), Wed 25th (4), Thu 26th (5), Fri 27th (6), Sat 28th
// (7, a make-up working day). Weekends only, it would be Mon 23rd.
func TestMissingMaterialsDeadlineSpringFestival2026(t *testing.T) {
	c := shipped(t, 2026)
	d, used := AddWorkingDays(MustDate("2026-02-12"), DefaultMissingMaterialsDays, lookupOf(c))
	if d.String() != "2026-02-28" || !slices.Equal(used, []string{"2026"}) {
		t.Fatalf("deadline %s using %v, want 2026-02-28 using [2026]", d, used)
	}
	d, used = AddWorkingDays(MustDate("2026-02-12"), DefaultMissingMaterialsDays, lookupOf())
	if d.String() != "2026-02-23" || !slices.Equal(used, []string{"2026:weekends-only"}) {
		t.Fatalf("weekends only: deadline %s using %v", d, used)
	}
}

// TestWorkingDaysAcrossYearWithoutCalendar: a year with no calendar counts
// weekends only, and the commitment records that it did.
func TestWorkingDaysAcrossYearWithoutCalendar(t *testing.T) {
	c := shipped(t, 2026)
	// Mon 2026-12-28: Tue 29 (1), Wed 30 (2), Thu 31 (3), Fri 2027-01-01 (4,
	// no 2027 calendar: 元旦 is not known), Mon 4 (5), Tue 5 (6), Wed 6 (7).
	d, used := AddWorkingDays(MustDate("2026-12-28"), 7, lookupOf(c))
	if d.String() != "2027-01-06" || !slices.Equal(used, []string{"2026", "2027:weekends-only"}) {
		t.Fatalf("deadline %s using %v", d, used)
	}
	// National Day 2026: made Wed 2026-09-30; 1-7 Oct are off → Thu 8 Oct
	// (1), Fri 9 (2), Sat 10 (3, make-up), Mon 12 (4), Tue 13 (5), Wed 14
	// (6), Thu 15 (7).
	d, _ = AddWorkingDays(MustDate("2026-09-30"), 7, lookupOf(c))
	if d.String() != "2026-10-15" {
		t.Fatalf("national day: %s", d)
	}
}

// TestCalendarValidation: a calendar's holidays and make-up working days are checked.
// Source: DOMAIN.md (working-day calendar with 调休 as data); docs/RULES.md.
func TestCalendarValidation(t *testing.T) {
	base := func() Calendar {
		return Calendar{Year: 2026, Holidays: []string{"2026-01-01"}, Workdays: []string{"2026-01-04"}, Source: "notice"}
	}
	tests := []struct {
		name  string
		edit  func(*Calendar)
		field string
	}{
		{"year out of range", func(c *Calendar) { c.Year = 1800 }, "year"},
		{"no source", func(c *Calendar) { c.Source = "" }, "source"},
		{"bad date", func(c *Calendar) { c.Holidays = []string{"2026-02-30"} }, "holidays[0]"},
		{"other year", func(c *Calendar) { c.Holidays = []string{"2025-12-31"} }, "holidays[0]"},
		{"duplicate", func(c *Calendar) { c.Holidays = []string{"2026-01-01", "2026-01-01"} }, "holidays"},
		{"make-up day on a weekday", func(c *Calendar) { c.Workdays = []string{"2026-01-05"} }, "workdays[0]"},
		{"both holiday and workday", func(c *Calendar) { c.Holidays = []string{"2026-01-04"} }, "workdays[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c)
			err := c.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
		})
	}
	c := base()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestInstallCalendarNeedsAdmin: DESIGN §4 — only admins install calendars.
func TestInstallCalendarNeedsAdmin(t *testing.T) {
	tx := Tx{ID: "t", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := shipped(t, 2026)
	if _, err := InstallCalendar(c, Actor{Role: RoleOfficer, County: "330782", Dept: "market"}, tx); !errors.Is(err, ErrForbidden) {
		t.Fatalf("officer: %v", err)
	}
	ch, err := InstallCalendar(c, Actor{Role: RoleAdmin}, tx)
	if err != nil || len(ch.Puts) != 1 || ch.Puts[0].Owner != "" || ch.Event.Name != "CalendarInstalled" {
		t.Fatalf("admin: %+v %v", ch, err)
	}
}

// TestWorkingDaysAcrossLeapDay: 29 February of a leap year is a day like
// any other, counted when it is a working day; 2027 is not a leap year.
// Source: DOMAIN.md (deadlines in working days; edge cases: leap years).
func TestWorkingDaysAcrossLeapDay(t *testing.T) {
	// Fri 2028-02-25: Mon 28 (1), Tue 29 (2), Wed 2028-03-01 (3). No 2028
	// calendar: weekends only.
	d, _ := AddWorkingDays(MustDate("2028-02-25"), 3, lookupOf())
	if d.String() != "2028-03-01" {
		t.Fatalf("across 2028-02-29: %s, want 2028-03-01", d)
	}
	d, _ = AddWorkingDays(MustDate("2028-02-28"), 1, lookupOf())
	if d.String() != "2028-02-29" {
		t.Fatalf("the working day after 2028-02-28: %s, want 2028-02-29", d)
	}
	// Fri 2027-02-26: Mon 2027-03-01 (1).
	d, _ = AddWorkingDays(MustDate("2027-02-26"), 1, lookupOf())
	if d.String() != "2027-03-01" {
		t.Fatalf("after 2027-02-26: %s, want 2027-03-01", d)
	}
	// A calendar can list the leap day as a holiday.
	c := Calendar{Year: 2028, Holidays: []string{"2028-02-29"}, Source: "test calendar"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d, _ = AddWorkingDays(MustDate("2028-02-28"), 1, lookupOf(c))
	if d.String() != "2028-03-01" {
		t.Fatalf("with 2028-02-29 a holiday: %s, want 2028-03-01", d)
	}
}
