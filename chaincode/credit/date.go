package credit

import (
	"encoding/json"
	"fmt"
	"time"
)

// CST is China Standard Time, a fixed UTC+8 zone. Fixed on purpose: the
// chaincode must not depend on the tzdata of the machine it runs on.
var CST = time.FixedZone("CST", 8*60*60)

// Date is a civil date (year, month, day) in China Standard Time. The zero
// Date means "no date"; JSON "YYYY-MM-DD" (tag it omitzero when optional).
type Date struct {
	y int
	m time.Month
	d int
}

// Years outside this range are refused by ParseDate: every date in this
// system is an administrative date of the present era, and the bound keeps
// month arithmetic far from overflow.
const (
	minYear = 1900
	maxYear = 2199
)

// NewDate returns the date y-m-d, normalising out-of-range days and months
// the way time.Date does (2026-02-30 becomes 2026-03-02).
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

// DateOf returns the calendar date of the instant t in UTC+8.
func DateOf(t time.Time) Date {
	y, m, d := t.In(CST).Date()
	return Date{y, m, d}
}

// ParseDate parses "YYYY-MM-DD", refusing impossible dates (2025-02-29) and
// years outside 1900-2199. The error is a plain description, without a
// field name; callers wrap it in a *FieldError.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 {
		return Date{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a valid date YYYY-MM-DD", s)
	}
	if t.Year() < minYear || t.Year() > maxYear {
		return Date{}, fmt.Errorf("%q: year must be between %d and %d", s, minYear, maxYear)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// MustDate is ParseDate for constants in tests and tables; it panics on error.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Year, Month and Day return the parts of the date.
func (d Date) Year() int         { return d.y }
func (d Date) Month() time.Month { return d.m }
func (d Date) Day() int          { return d.d }

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d.y == 0 && d.m == 0 && d.d == 0 }

func (d Date) time() time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC) }

// String returns "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.y, int(d.m), d.d)
}

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.time().Weekday() }

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return NewDate(d.y, d.m, d.d+n) }

// AddMonths returns the same day of the month n months later, clamped to the
// last day of the target month: 2024-02-29 + 12 = 2025-02-28,
// 2023-08-31 + 6 = 2024-02-29 (DESIGN §2).
func (d Date) AddMonths(n int) Date {
	total := d.y*12 + int(d.m-1) + n
	y, m := total/12, time.Month(total%12+1)
	day := d.d
	if last := daysIn(y, m); day > last {
		day = last
	}
	return Date{y, m, day}
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.y != e.y:
		return cmpInt(d.y, e.y)
	case d.m != e.m:
		return cmpInt(int(d.m), int(e.m))
	default:
		return cmpInt(d.d, e.d)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Equal reports whether d and e are the same date.
func (d Date) Equal(e Date) bool { return d == e }

// MarshalJSON writes "YYYY-MM-DD" (or "" for the zero Date).
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD"; "" gives the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a JSON string YYYY-MM-DD")
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Instant formats a transaction time as DESIGN §2 wants it: RFC 3339 in UTC
// with second precision.
func Instant(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }
