package cli

import (
	"errors"
)

// Exit codes of creditctl. This table is the one documented in the README
// ("Exit codes"); keep them in step.
const (
	ExitOK            = 0  // success
	ExitError         = 1  // any failure not listed below
	ExitInvalid       = 2  // bad input: the message names the field and the rule
	ExitForbidden     = 3  // the caller's county or role may not do this
	ExitNotFound      = 4  // no such record
	ExitExists        = 5  // a record with this ID already exists
	ExitRefused       = 6  // a credit rule refused it (state, too early, not repairable, evidence)
	ExitUsage         = 64 // wrong command line
	ExitUnknownCommit = 75 // submitted, but whether it committed is unknown: check before retrying
)

// UsageError marks a command-line mistake (unknown flag, missing argument).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// exitClassifiers map an error to an exit code; packages wired into the CLI
// register theirs (see ExitCode). The first that returns ok wins.
var exitClassifiers []func(error) (int, bool)

// ExitCode returns the process exit code for err.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	for _, c := range exitClassifiers {
		if code, ok := c(err); ok {
			return code
		}
	}
	return ExitError
}
