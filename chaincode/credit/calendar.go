package credit

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Calendar is the working-day calendar of one year, as data: public holidays
// and the weekend days worked instead (调休 make-up days). Any other Saturday
// or Sunday is a day off; any other weekday is a working day.
type Calendar struct {
	Year     int      `json:"year"`
	Holidays []string `json:"holidays"` // "YYYY-MM-DD", sorted
	Workdays []string `json:"workdays"` // "YYYY-MM-DD", sorted
	Source   string   `json:"source"`
	Note     string   `json:"note,omitempty"`
}

// WeekendsOnly marks, in a commitment's Calendars, a year counted without an
// installed calendar: weekends off, every weekday worked.
const WeekendsOnly = "weekends-only"

// DefaultMissingMaterialsDays is the default deadline of a missing-materials
// commitment: "书面承诺在7个工作日内提供" (seed 004).
const DefaultMissingMaterialsDays = 7

//go:embed calendars/*.json
var shippedCalendarFiles embed.FS

// ShippedCalendars returns the calendars built into the chaincode, sorted by
// year. They are not in force until an admin installs them with
// InstallCalendar (the network bootstrap does). A fresh copy each call.
func ShippedCalendars() []Calendar {
	entries, err := shippedCalendarFiles.ReadDir("calendars")
	if err != nil {
		panic("credit: shipped calendars: " + err.Error())
	}
	var out []Calendar
	for _, e := range entries { // ReadDir sorts by name: 2025.json, 2026.json
		b, err := shippedCalendarFiles.ReadFile("calendars/" + e.Name())
		if err != nil {
			panic("credit: shipped calendars: " + err.Error())
		}
		var c Calendar
		if err := DecodeRequest(b, &c); err != nil {
			panic(fmt.Sprintf("credit: shipped calendar %s: %v", e.Name(), err))
		}
		if err := c.Validate(); err != nil {
			panic(fmt.Sprintf("credit: shipped calendar %s: %v", e.Name(), err))
		}
		out = append(out, c)
	}
	return out
}

// Validate checks a calendar: a year in range, every date in that year, no
// duplicates, no date both a holiday and a make-up day, every make-up day a
// Saturday or Sunday, and a source. It sorts the lists.
func (c *Calendar) Validate() error {
	if c.Year < minYear || c.Year > maxYear {
		return invalid("year", "%d must be between %d and %d", c.Year, minYear, maxYear)
	}
	if err := validateText("source", c.Source, true, maxText); err != nil {
		return err
	}
	if err := validateText("note", c.Note, false, maxText); err != nil {
		return err
	}
	if c.Holidays == nil {
		c.Holidays = []string{}
	}
	if c.Workdays == nil {
		c.Workdays = []string{}
	}
	check := func(field string, list []string) error {
		for i, s := range list {
			f := fmt.Sprintf("%s[%d]", field, i)
			d, err := validateDateField(f, s, true)
			if err != nil {
				return err
			}
			if d.Year() != c.Year {
				return invalid(f, "%s is not in %d", d, c.Year)
			}
		}
		// "YYYY-MM-DD" strings sort in date order.
		slices.Sort(list)
		for i := 1; i < len(list); i++ {
			if list[i] == list[i-1] {
				return invalid(field, "%s is listed twice", list[i])
			}
		}
		return nil
	}
	if err := check("holidays", c.Holidays); err != nil {
		return err
	}
	if err := check("workdays", c.Workdays); err != nil {
		return err
	}
	for i, s := range c.Workdays {
		d := MustDate(s)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return invalid(fmt.Sprintf("workdays[%d]", i), "%s is a %s; a make-up working day (调休) is a Saturday or Sunday", d, wd)
		}
		if _, found := slices.BinarySearch(c.Holidays, s); found {
			return invalid(fmt.Sprintf("workdays[%d]", i), "%s is also listed as a holiday", d)
		}
	}
	return nil
}

// IsWorkingDay reports whether d is a working day under cal, which must be
// the calendar of d's year or nil (weekends only).
func IsWorkingDay(d Date, cal *Calendar) bool {
	if cal != nil {
		s := d.String()
		if _, found := slices.BinarySearch(cal.Holidays, s); found {
			return false
		}
		if _, found := slices.BinarySearch(cal.Workdays, s); found {
			return true
		}
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// CalendarLookup returns the installed calendar of a year, or nil.
type CalendarLookup func(year int) *Calendar

// AddWorkingDays returns the n-th working day after start (start itself not
// counted), and the calendars used: the year for an installed calendar,
// "<year>:weekends-only" for a year without one.
func AddWorkingDays(start Date, n int, lookup CalendarLookup) (Date, []string) {
	var used []string
	cache := map[int]*Calendar{}
	calFor := func(y int) *Calendar {
		if c, ok := cache[y]; ok {
			return c
		}
		var c *Calendar
		if lookup != nil {
			c = lookup(y)
		}
		cache[y] = c
		if c != nil {
			used = append(used, strconv.Itoa(y))
		} else {
			used = append(used, strconv.Itoa(y)+":"+WeekendsOnly)
		}
		return c
	}
	d := start
	calFor(d.Year())
	for n > 0 {
		d = d.AddDays(1)
		if IsWorkingDay(d, calFor(d.Year())) {
			n--
		}
	}
	return d, used
}

// MarshalCalendar returns the stored JSON of a calendar.
func MarshalCalendar(c *Calendar) []byte { return mustJSON(c) }

// InstallCalendar validates a calendar for the ledger. Only an admin may
// install one. A year may be installed again to correct it: deadlines already
// computed keep their dates, and the key's history keeps every version.
func InstallCalendar(c Calendar, a Actor, tx Tx) (Change, error) {
	if err := requireAdmin(a, "install calendar"); err != nil {
		return Change{}, err
	}
	if err := c.Validate(); err != nil {
		return Change{}, err
	}
	return Change{
		Puts:   []Put{{Key: CalendarKey(c.Year), Value: mustJSON(&c)}},
		Event:  Event{Name: "CalendarInstalled", Action: "CalendarInstalled", Kind: TypeCalendar, ID: strconv.Itoa(c.Year), County: a.County, TxTime: Instant(tx.Time)},
		Result: &c,
	}, nil
}

// UnmarshalCalendar decodes a stored calendar.
func UnmarshalCalendar(b []byte) (*Calendar, error) {
	var c Calendar
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode calendar: %w", err)
	}
	return &c, nil
}
