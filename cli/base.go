package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// Base is what every ledger command's Options embed: its streams and its
// dependencies, each replaceable in tests.
type Base struct {
	IO *IOStreams
	// Ledger connects as the caller; commands call it only after their
	// input has passed every check, so bad input never reaches the network.
	Ledger func(context.Context) (Ledger, error)
	// Now is the clock for generated IDs, relative dates and local checks.
	Now func() time.Time
	// County returns the caller's county code (from the settings).
	County func() (string, error)
	// PersonKey returns the channel's person key (--person-key-file).
	PersonKey func() ([]byte, error)
	// Output ("" = table on a terminal, plain otherwise) and Lang.
	Output string
	Lang   string
}

// base returns the Base of a command built by f; resolveBase fills the
// settings once the flags are parsed.
func (f *Factory) base() Base {
	return Base{IO: f.IO, Ledger: f.Ledger, Now: f.Now, County: f.CountyCode, PersonKey: f.personKey}
}

// resolveBase fills the output settings after flag parsing (RunE).
func (f *Factory) resolveBase(b *Base) error {
	s, err := f.Settings()
	if err != nil {
		return err
	}
	b.Output, b.Lang = s.Output, s.Lang
	return nil
}

// Printer returns the command's printer.
func (b *Base) Printer() *Printer { return NewPrinter(b.IO, b.Output, b.Lang) }

// withLedger connects, runs fn and closes the connection.
func (b *Base) withLedger(fn func(context.Context, Ledger) error) error {
	ctx, cancel := signalContext()
	defer cancel()
	l, err := b.Ledger(ctx)
	if err != nil {
		return err
	}
	defer l.Close()
	return fn(ctx, l)
}

// personKey reads the person key file named by the settings: its content,
// surrounding white space removed, is the key (at least 16 bytes).
func (f *Factory) personKey() ([]byte, error) {
	s, err := f.Settings()
	if err != nil {
		return nil, err
	}
	if s.PersonKeyFile == "" {
		return nil, &credit.FieldError{Field: "--person-id", Rule: "needs the channel's person key: give --person-key-file or set CREDITCTL_PERSON_KEY_FILE"}
	}
	b, err := os.ReadFile(s.PersonKeyFile)
	if err != nil {
		return nil, &credit.FieldError{Field: "--person-key-file", Rule: err.Error()}
	}
	key := []byte(strings.TrimSpace(string(b)))
	if len(key) < 16 {
		return nil, &credit.FieldError{Field: "--person-key-file", Rule: fmt.Sprintf("the person key in %s has %d bytes, at least 16 are needed", s.PersonKeyFile, len(key))}
	}
	return key, nil
}

// resolveSubject returns the subject: the --subject as given, or the keyed
// hash of --person-id (computed here: the ID number never leaves the
// machine). Exactly one may be given; required says whether none is an
// error.
func (b *Base) resolveSubject(subject, personID string, required bool) (string, error) {
	switch {
	case subject != "" && personID != "":
		return "", &credit.FieldError{Field: "subject", Rule: "give --subject or --person-id, not both"}
	case personID != "":
		key, err := b.PersonKey()
		if err != nil {
			return "", err
		}
		s, err := credit.PersonSubject(key, personID)
		if err != nil {
			return "", &credit.FieldError{Field: "--person-id", Rule: err.Error()}
		}
		return s, nil
	case subject == "" && required:
		return "", &credit.FieldError{Field: "subject", Rule: "is required: give --subject <unified social credit code> or --person-id <ID card number>"}
	}
	return subject, nil
}

// Record ID prefixes of generated IDs.
const (
	prefixCommitment  = "CMT"
	prefixPunishment  = "PUN"
	prefixEnforcement = "ENF"
	prefixRepair      = "REP"
	prefixObjection   = "OBJ"
)

// newID makes a readable record ID: PREFIX-<county>-<yyyymmdd>-<6 hex>,
// e.g. PUN-330782-20261123-4f9a0c. The date is today in UTC+8.
func newID(prefix, county string, now time.Time) string {
	var r [3]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic("creditctl: no randomness: " + err.Error())
	}
	d := credit.DateOf(now)
	return fmt.Sprintf("%s-%s-%04d%02d%02d-%s", prefix, county, d.Year(), d.Month(), d.Day(), hex.EncodeToString(r[:]))
}

// checkThenID validates a new record's request before anything else: with
// a stand-in ID when none was given (so bad input is reported without
// reading the profile), then fills the generated ID. validate closes over
// the request that id points into.
func (b *Base) checkThenID(id *string, prefix string, ff flagFields, validate func() error) error {
	if *id == "" {
		*id = prefix + "-000000-00000000-000000"
		err := validate()
		*id = ""
		if err != nil {
			return ff.nameFlag(err)
		}
	}
	return b.ensureID(id, prefix)
}

// ensureID fills *id with a generated one (PREFIX-county-date-hex) when
// empty; the command prints the record, so the operator sees it.
func (b *Base) ensureID(id *string, prefix string) error {
	if *id != "" {
		return nil
	}
	county, err := b.County()
	if err != nil {
		return err
	}
	*id = newID(prefix, county, b.Now())
	return nil
}

var relDate = regexp.MustCompile(`^([+-]?)(\d{1,4})([dwmy])$`)

// parseDateArg resolves a date flag: YYYY-MM-DD as it is, "today",
// "yesterday", or a relative form counted from today in UTC+8: -4m (four
// months ago), -10d, -2w, -1y, +7d. Months and years use the ledger's month
// arithmetic (clamped to the month's last day). "" stays "".
func parseDateArg(field, s string, now time.Time) (string, error) {
	today := credit.DateOf(now)
	switch s {
	case "":
		return "", nil
	case "today":
		return today.String(), nil
	case "yesterday":
		return today.AddDays(-1).String(), nil
	}
	if m := relDate.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[2])
		if m[1] == "-" {
			n = -n
		}
		switch m[3] {
		case "d":
			return today.AddDays(n).String(), nil
		case "w":
			return today.AddDays(7 * n).String(), nil
		case "m":
			return today.AddMonths(n).String(), nil
		case "y":
			return today.AddMonths(12 * n).String(), nil
		}
	}
	if _, err := credit.ParseDate(s); err != nil {
		return "", &credit.FieldError{Field: field, Rule: fmt.Sprintf("%q is not a date: use YYYY-MM-DD, today, yesterday or a relative form like -4m, -10d, -2w, -1y (%v)", s, err)}
	}
	return s, nil
}

// notAfterToday refuses a date after today by the local clock, the check
// the chaincode makes against the transaction date; done here so the
// mistake is caught before anything is sent.
func notAfterToday(field, s string, now time.Time) error {
	if s == "" {
		return nil
	}
	d, err := credit.ParseDate(s)
	if err != nil {
		return nil // reported by the request's Validate
	}
	if today := credit.DateOf(now); d.After(today) {
		return &credit.FieldError{Field: field, Rule: fmt.Sprintf("%s must not be after today, %s (a decision is recorded after it is taken)", d, today)}
	}
	return nil
}

// hashFile returns the SHA-256 (lower-case hex) of a document; only this
// digest goes on the ledger. field names the request field the digest
// fills.
func hashFile(field, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return "", &credit.FieldError{Field: field, Rule: fmt.Sprintf("cannot read the document: %v", err)}
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", &credit.FieldError{Field: field, Rule: fmt.Sprintf("cannot read the document %s: %v", path, err)}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// flagFields maps flags to the JSON field they set in a request.
type flagFields map[string]string

// changed lists the JSON fields whose flags were given on the command line.
func (m flagFields) changed(cmd *cobra.Command) []string {
	var out []string
	for flag, fieldName := range m {
		if cmd.Flags().Changed(flag) {
			out = append(out, fieldName)
		}
	}
	return out
}

// flagFor returns the flag that sets a JSON field.
func (m flagFields) flagFor(fieldName string) string {
	for flag, f := range m {
		if f == fieldName {
			return flag
		}
	}
	return ""
}

// nameFlag adds the flag to a *credit.FieldError naming a request field,
// e.g. "decisionDate (--decision-date): …", so the operator knows what to
// change.
func (m flagFields) nameFlag(err error) error {
	var fe *credit.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	root, _, _ := strings.Cut(fe.Field, "[")
	if flag := m.flagFor(root); flag != "" {
		return &credit.FieldError{Field: fe.Field + " (--" + flag + ")", Rule: fe.Rule}
	}
	return err
}

// loadRequest builds a request: from the JSON file when one is given (the
// same JSON the chaincode takes; unknown fields refused), then the fields
// given as flags on top. dst and fromFlags point to the same struct type.
func loadRequest(file string, in io.Reader, dst, fromFlags any, fields []string) error {
	if file == "" {
		reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(fromFlags).Elem())
		return nil
	}
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(in)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return &credit.FieldError{Field: "--file", Rule: err.Error()}
	}
	if err := credit.DecodeRequest(b, dst); err != nil {
		var fe *credit.FieldError
		if errors.As(err, &fe) {
			return &credit.FieldError{Field: fe.Field + " (in " + file + ")", Rule: fe.Rule}
		}
		return err
	}
	for _, name := range fields {
		copyJSONField(dst, fromFlags, name)
	}
	return nil
}

// copyJSONField copies the field with JSON name name from *src to *dst
// (same struct type).
func copyJSONField(dst, src any, name string) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	i := jsonFieldIndex(dv.Type(), name)
	if i < 0 {
		panic("creditctl: no field " + name + " in " + dv.Type().String())
	}
	dv.Field(i).Set(sv.Field(i))
}

// jsonFieldIndex finds the struct field with JSON name name.
func jsonFieldIndex(t reflect.Type, name string) int {
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == name {
			return i
		}
	}
	return -1
}

// usageArgs checks the number of positional arguments, as a usage error.
func usageArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &UsageError{Err: fmt.Errorf("%s takes %s (%d), got %d argument(s)", cmd.CommandPath(), names, n, len(args))}
		}
		return nil
	}
}
