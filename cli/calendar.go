package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
)

func init() {
	commandAdders = append(commandAdders, NewCmdCalendar)
}

// NewCmdCalendar is the "calendar" noun.
func NewCmdCalendar(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calendar <install|show>",
		Short: "Working-day calendars (holidays and 调休 make-up days) used for deadlines",
		Long: `Deadlines in working days (a missing-materials commitment: 7 working days)
count with the installed calendar of each year: public holidays off, make-up
weekend days (调休) worked. A year without one counts weekends only.
creditctl network up installs the shipped 2025 and 2026 calendars.`,
	}
	cmd.AddCommand(NewCmdCalendarInstall(f, nil), NewCmdCalendarShow(f, nil))
	return cmd
}

// CalendarInstallOptions are the inputs of `calendar install`.
type CalendarInstallOptions struct {
	Base
	File string
}

// NewCmdCalendarInstall builds `calendar install`.
func NewCmdCalendarInstall(f *Factory, runF func(*CalendarInstallOptions) error) *cobra.Command {
	opts := &CalendarInstallOptions{Base: f.base()}
	opts.Ledger = f.AdminLedger
	cmd := &cobra.Command{
		Use:   "install -f YEAR.json",
		Short: "Install (or correct) one year's calendar (admin)",
		Long: `Install a year's calendar from a JSON file: {"year", "holidays": [dates],
"workdays": [make-up weekend dates], "source", "note"}. Installing a year again
corrects it; deadlines already computed keep their dates. Runs as the county's
admin unless --user or --msp is given.`,
		Example: `  creditctl calendar install -f chaincode/credit/calendars/2026.json
  creditctl calendar install -f 2027.json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return &UsageError{Err: fmt.Errorf("calendar install needs -f YEAR.json")}
			}
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCalendarInstall(opts)
		},
	}
	fileFlag(cmd, &opts.File)
	return cmd
}

// calendarRequest gives credit.Calendar's pointer Validate a value receiver.
type calendarRequest struct{ cal *credit.Calendar }

func (r calendarRequest) Validate() error { return r.cal.Validate() }

func runCalendarInstall(o *CalendarInstallOptions) error {
	var cal credit.Calendar
	if err := loadRequest(o.File, o.IO.In, &cal, &credit.Calendar{}, nil); err != nil {
		return err
	}
	return submitWrite(&o.Base, nil, calendarRequest{&cal}, "installing the calendar of "+strconv.Itoa(cal.Year),
		func(l Ledger, ctx context.Context, r calendarRequest) (*credit.Calendar, client.Result, error) {
			return l.InstallCalendar(ctx, *r.cal)
		})
}

// CalendarShowOptions are the inputs of `calendar show`.
type CalendarShowOptions struct {
	Base
	Year string
}

// NewCmdCalendarShow builds `calendar show`.
func NewCmdCalendarShow(f *Factory, runF func(*CalendarShowOptions) error) *cobra.Command {
	opts := &CalendarShowOptions{Base: f.base()}
	return &cobra.Command{
		Use:   "show <year>",
		Short: "Show the installed calendar of a year",
		Example: `  creditctl calendar show 2026
  creditctl calendar show 2026 -o json`,
		Args: usageArgs(1, "one year"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Year = args[0]
			if err := f.resolveBase(&opts.Base); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCalendarShow(opts)
		},
	}
}

func runCalendarShow(o *CalendarShowOptions) error {
	year, err := strconv.Atoi(o.Year)
	if err != nil || year < 1900 || year > 2200 {
		return &credit.FieldError{Field: "year", Rule: fmt.Sprintf("%q is not a year", o.Year)}
	}
	return o.withLedger(func(ctx context.Context, l Ledger) error {
		cal, _, err := l.GetCalendar(ctx, year)
		if err != nil {
			return err
		}
		return o.Printer().WriteRecord(cal)
	})
}
