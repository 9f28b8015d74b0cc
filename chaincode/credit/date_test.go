package credit

import (
	"encoding/json"
	"testing"
	"time"
)

// TestAddMonthsClampsToMonthEnd: DESIGN §2 — same day n months later,
// clamped to the month's last day; leap years included.
func TestAddMonthsClampsToMonthEnd(t *testing.T) {
	tests := []struct {
		name, from string
		months     int
		want       string
	}{
		{"plain", "2026-02-06", 6, "2026-08-06"},
		{"leap day plus a year", "2024-02-29", 12, "2025-02-28"},
		{"leap day plus four years", "2024-02-29", 48, "2028-02-29"},
		{"31st into a leap February", "2023-08-31", 6, "2024-02-29"},
		{"31st into a common February", "2024-08-31", 6, "2025-02-28"},
		{"31st into a 30-day month", "2026-01-31", 3, "2026-04-30"},
		{"year boundary", "2025-11-15", 3, "2026-02-15"},
		{"three years", "2026-02-06", 36, "2029-02-06"},
		{"backwards", "2026-03-31", -1, "2026-02-28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MustDate(tt.from).AddMonths(tt.months).String(); got != tt.want {
				t.Fatalf("%s + %d months = %s, want %s", tt.from, tt.months, got, tt.want)
			}
		})
	}
}

// TestDateOfInstantIsChinaStandardTime: DESIGN §2 — the date of an instant
// is its UTC+8 calendar date, without tzdata.
func TestDateOfInstantIsChinaStandardTime(t *testing.T) {
	tests := []struct {
		instant, want string
	}{
		{"2026-02-11T15:59:59Z", "2026-02-11"},
		{"2026-02-11T16:00:00Z", "2026-02-12"},
		{"2024-02-28T16:00:00Z", "2024-02-29"},
		{"2025-12-31T16:00:00Z", "2026-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.instant, func(t *testing.T) {
			ts, _ := time.Parse(time.RFC3339, tt.instant)
			if got := DateOf(ts).String(); got != tt.want {
				t.Fatalf("DateOf(%s) = %s, want %s", tt.instant, got, tt.want)
			}
		})
	}
	ts := time.Date(2026, 2, 11, 16, 0, 0, 999, time.UTC)
	if got := Instant(ts); got != "2026-02-11T16:00:00Z" {
		t.Fatalf("Instant = %s", got)
	}
}

func TestParseDateRefusesImpossibleDates(t *testing.T) {
	for _, s := range []string{"2025-02-29", "2026-13-01", "2026-1-1", "20260101", "1899-12-31", "2200-01-01", "", "2026-02-30"} {
		t.Run(s, func(t *testing.T) {
			if _, err := ParseDate(s); err == nil {
				t.Fatalf("ParseDate(%q) succeeded", s)
			}
		})
	}
	if _, err := ParseDate("2024-02-29"); err != nil {
		t.Fatal(err)
	}
}

func TestDateComparisonsAndJSON(t *testing.T) {
	a, b := MustDate("2026-02-28"), MustDate("2026-03-01")
	if !a.Before(b) || !b.After(a) || a.Equal(b) || a.Compare(a) != 0 || a.AddDays(1) != b {
		t.Fatal("comparisons")
	}
	var v struct {
		D Date `json:"d"`
		E Date `json:"e,omitzero"`
	}
	v.D = a
	out, _ := json.Marshal(v)
	if string(out) != `{"d":"2026-02-28"}` {
		t.Fatalf("json %s", out)
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-03-01"}`), &v); err != nil || v.D != b {
		t.Fatalf("unmarshal %v %v", v.D, err)
	}
}
