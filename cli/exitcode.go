package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
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
	ExitCertInvalid   = 7  // cert verify: the certificate is invalid (the reasons are printed)
	ExitCertUndecided = 8  // cert verify: cannot tell (evidence missing, ledger unavailable)
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

func init() {
	exitClassifiers = append(exitClassifiers, ledgerExitCode)
}

// ledgerExitCode maps the client's and the chaincode's sentinels to the
// table of DESIGN §6. A commit whose outcome is unknown comes first: the
// operator must check it before anything else.
func ledgerExitCode(err error) (int, bool) {
	if errors.Is(err, client.ErrCommitUnknown) {
		return ExitUnknownCommit, true
	}
	switch credit.Code(err) {
	case "INVALID":
		return ExitInvalid, true
	case "FORBIDDEN":
		return ExitForbidden, true
	case "NOT_FOUND":
		return ExitNotFound, true
	case "EXISTS":
		return ExitExists, true
	case "STATE", "TOO_EARLY", "NOT_REPAIRABLE", "EVIDENCE_MISSING":
		return ExitRefused, true
	}
	return 0, false
}

// refusalWords say, for an operator, why the ledger refused.
var refusalWords = map[string]string{
	"INVALID":          "invalid input",
	"FORBIDDEN":        "forbidden",
	"NOT_FOUND":        "not found",
	"EXISTS":           "already exists",
	"STATE":            "not in this state",
	"TOO_EARLY":        "too early",
	"NOT_REPAIRABLE":   "not repairable",
	"EVIDENCE_MISSING": "evidence missing",
}

// reportError prints err for the operator. A refusal by the ledger reads
//
//	creditctl: refused (too early): complete repair R1: the minimum publicity period … ends on 2027-04-23 …
//	  transaction 9224…: nothing was written
//
// bad input caught before sending says that nothing was sent, and a
// transaction of unknown fate gives its ID and how to check it.
func reportError(w io.Writer, err error) {
	var te *client.TxError
	isTx := errors.As(err, &te)
	code := credit.Code(err)
	switch {
	case errors.Is(err, client.ErrCommitUnknown):
		fmt.Fprintf(w, "creditctl: %v\n", err)
		txID := "<txid>"
		if isTx && te.TxID != "" {
			txID = te.TxID
		}
		fmt.Fprintf(w, "  the transaction was sent, but whether it committed is unknown.\n")
		fmt.Fprintf(w, "  check it before doing anything else:  creditctl tx status %s\n", txID)
		fmt.Fprintf(w, "  (running the command again with the same record ID is safe: if the first one committed, it is refused as \"already exists\")\n")
	case isTx && code != "" && te.Kind != nil:
		msg := chaincodeText(te.Kind.Error(), code)
		if te.Stage == client.StageEvaluate {
			fmt.Fprintf(w, "creditctl: %s: %s\n", refusalWords[code], msg)
			return
		}
		fmt.Fprintf(w, "creditctl: refused (%s): %s\n", refusalWords[code], msg)
		if te.TxID != "" {
			fmt.Fprintf(w, "  transaction %s: nothing was written\n", te.TxID)
		}
	case code == "INVALID" && !isTx:
		fmt.Fprintf(w, "creditctl: %v\n", err)
		fmt.Fprintf(w, "  nothing was sent\n")
	case errors.Is(err, client.ErrUnavailable):
		fmt.Fprintf(w, "creditctl: %v\n", err)
		fmt.Fprintf(w, "  the peer could not be reached; is the network up? (creditctl network status)\n")
	default:
		fmt.Fprintf(w, "creditctl: %v\n", err)
	}
}

// chaincodeText trims a chaincode message for display: the "[CODE] "
// prefix, the sentinel's words at the end (already said), and an action
// repeated by the binding and the domain ("complete repair: complete repair R1: …").
func chaincodeText(msg, code string) string {
	if i := strings.Index(msg, "["+code+"] "); i >= 0 {
		msg = msg[i+len(code)+3:]
	}
	if s := credit.Sentinel(code); s != nil {
		msg = strings.TrimSuffix(msg, ": "+s.Error())
	}
	if head, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(rest, head) {
		msg = rest
	}
	return msg
}

// codedError is an error that carries its own exit code, for a command
// whose outcome is not a refusal of the ledger (e.g. `tx status` reporting
// a transaction the ledger does not hold).
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func init() {
	exitClassifiers = append([]func(error) (int, bool){func(err error) (int, bool) {
		var ce *codedError
		if errors.As(err, &ce) {
			return ce.code, true
		}
		return 0, false
	}}, exitClassifiers...)
}
