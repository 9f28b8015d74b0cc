package credit

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by this package and by the chaincode
// wraps exactly one of them; errors.Is tells the caller why an operation was
// refused. Code maps each one to the bracket code of DESIGN §6.
var (
	// ErrInvalid: bad input. The error is (or wraps) a *FieldError naming
	// the field and the rule.
	ErrInvalid = errors.New("invalid input")
	// ErrForbidden: the caller's county or role may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with this ID exists.
	ErrExists = errors.New("already exists")
	// ErrState: not allowed in the record's current state.
	ErrState = errors.New("not allowed in this state")
	// ErrTooEarly: the minimum publicity period is not yet over.
	ErrTooEarly = errors.New("minimum publicity period not over")
	// ErrNotRepairable: the severity or the rule set forbids repair.
	ErrNotRepairable = errors.New("not repairable")
	// ErrEvidenceMissing: a serious case lacks the training certificate or
	// the credit report.
	ErrEvidenceMissing = errors.New("evidence missing")
)

// codes pairs each sentinel with its stable bracket code, in DESIGN §6 order.
var codes = []struct {
	code string
	err  error
}{
	{"INVALID", ErrInvalid},
	{"FORBIDDEN", ErrForbidden},
	{"NOT_FOUND", ErrNotFound},
	{"EXISTS", ErrExists},
	{"STATE", ErrState},
	{"TOO_EARLY", ErrTooEarly},
	{"NOT_REPAIRABLE", ErrNotRepairable},
	{"EVIDENCE_MISSING", ErrEvidenceMissing},
}

// Code returns the bracket code (without brackets) of the first sentinel err
// wraps, e.g. "TOO_EARLY", or "" if it wraps none.
func Code(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// Sentinel returns the sentinel error for a bracket code ("INVALID", …), or
// nil if the code is unknown.
func Sentinel(code string) error {
	for _, c := range codes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

// Message formats err the way the chaincode returns it: "[CODE] text".
// An error that wraps no sentinel is returned as plain text.
func Message(err error) string {
	if c := Code(err); c != "" {
		return "[" + c + "] " + err.Error()
	}
	return err.Error()
}

// codedError is an error rebuilt from a message: it keeps the text and
// unwraps to the sentinel.
type codedError struct {
	msg      string
	sentinel error
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.sentinel }

// ErrorFromMessage finds the first known "[CODE]" in msg, for instance in the
// peer's "chaincode response 500, [TOO_EARLY] complete repair r1: …", and
// returns an error with the whole text that errors.Is the matching sentinel.
// A message without a known code gives a plain error with the text; an empty
// message gives nil.
func ErrorFromMessage(msg string) error {
	if msg == "" {
		return nil
	}
	rest := msg
	for {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			return errors.New(msg)
		}
		rest = rest[i+1:]
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return errors.New(msg)
		}
		if s := Sentinel(rest[:j]); s != nil {
			return &codedError{msg: msg, sentinel: s}
		}
	}
}

// FieldError is bad input: Field names the request field (JSON name, with an
// index for list items, e.g. "measures[2]" or "evidence.training") and Rule
// says what the value broke. It wraps ErrInvalid.
type FieldError struct {
	Field string
	Rule  string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Rule }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// invalid builds a *FieldError with a formatted rule.
func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Rule: fmt.Sprintf(format, args...)}
}

// prefixField re-roots a *FieldError under a parent field ("evidence" +
// "training" = "evidence.training"); other errors pass through.
func prefixField(parent string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: parent + "." + fe.Field, Rule: fe.Rule}
	}
	return err
}
