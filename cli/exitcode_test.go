package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/network"
)

// refusal builds the error the client returns for a chaincode refusal.
func refusal(code string, stage client.Stage) error {
	kind := credit.ErrorFromMessage("[" + code + "] complete repair: complete repair R1: it was refused: " + credit.Sentinel(code).Error())
	return &client.TxError{Op: "CompleteRepair", Stage: stage, TxID: fakeTx, Kind: kind, Err: errors.New("rpc error")}
}

// TestExitCodePerSentinel: the table of DESIGN §6, across the network
// (client.TxError unwrapping to the credit sentinels) and locally.
func TestExitCodePerSentinel(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"invalid from the chaincode", refusal("INVALID", client.StageEndorse), ExitInvalid},
		{"invalid caught locally", &credit.FieldError{Field: "subject", Rule: "x"}, ExitInvalid},
		{"forbidden", refusal("FORBIDDEN", client.StageEndorse), ExitForbidden},
		{"forbidden at validation", &client.TxError{Stage: client.StageCommit, Kind: errors.Join(client.ErrRejected, credit.ErrForbidden)}, ExitForbidden},
		{"not found", refusal("NOT_FOUND", client.StageEvaluate), ExitNotFound},
		{"exists", refusal("EXISTS", client.StageEndorse), ExitExists},
		{"state", refusal("STATE", client.StageEndorse), ExitRefused},
		{"too early", refusal("TOO_EARLY", client.StageEndorse), ExitRefused},
		{"not repairable", refusal("NOT_REPAIRABLE", client.StageEndorse), ExitRefused},
		{"evidence missing", refusal("EVIDENCE_MISSING", client.StageEndorse), ExitRefused},
		{"commit unknown", &client.TxError{Stage: client.StageCommitStatus, TxID: fakeTx, Kind: client.ErrCommitUnknown}, ExitUnknownCommit},
		{"unavailable", &client.TxError{Stage: client.StageEndorse, Kind: client.ErrUnavailable}, ExitError},
		{"read conflicts exhausted", &client.TxError{Stage: client.StageCommit, Kind: client.ErrConflict}, ExitError},
		{"usage", &UsageError{Err: errors.New("bad flag")}, ExitUsage},
		{"county not in the profile", fmt.Errorf("county: %w", network.ErrInvalid), ExitInvalid},
		{"anything else", errors.New("disk full"), ExitError},
		{"wrapped", fmt.Errorf("complete repair: %w", refusal("TOO_EARLY", client.StageEndorse)), ExitRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestReportError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"refusal says why and that nothing was written", refusal("TOO_EARLY", client.StageEndorse),
			[]string{"creditctl: refused (too early): complete repair R1: it was refused\n", "transaction " + fakeTx + ": nothing was written"}},
		{"read refusal is one line", refusal("NOT_FOUND", client.StageEvaluate),
			[]string{"creditctl: not found: complete repair R1: it was refused\n"}},
		{"commit unknown gives the command to check it", &client.TxError{Op: "ImposePunishment", Stage: client.StageCommitStatus, TxID: fakeTx, Kind: client.ErrCommitUnknown, Err: errors.New("deadline exceeded")},
			[]string{"creditctl tx status " + fakeTx, "already exists"}},
		{"local bad input says nothing was sent", &credit.FieldError{Field: "subject (--subject)", Rule: `check character is "0", want "R"`},
			[]string{"creditctl: subject (--subject): check character", "nothing was sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			reportError(&b, tt.err)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// TestMainExitCodes runs whole command lines against a fake ledger.
func TestMainExitCodes(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		err   error
		want  int
		calls int
	}{
		{"shows a record", []string{"punishment", "show", "PUN-1"}, nil, ExitNotFound, 1},
		{"refused too early", []string{"repair", "complete", "REP-1"}, refusal("TOO_EARLY", client.StageEndorse), ExitRefused, 1},
		{"refused forbidden", []string{"repair", "complete", "REP-1"}, refusal("FORBIDDEN", client.StageEndorse), ExitForbidden, 1},
		{"bad check character", []string{"punishment", "impose", "--subject", "91330782MA2K3Y5Q10", "--kind", "publicity"}, nil, ExitInvalid, 0},
		{"unknown command", []string{"punishment", "forgive"}, nil, ExitUsage, 0},
		{"unknown noun", []string{"forgive"}, nil, ExitUsage, 0},
		{"missing argument", []string{"repair", "accept"}, nil, ExitUsage, 0},
		{"unknown output", []string{"-o", "xml", "county", "list"}, nil, ExitUsage, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &fakeLedger{err: tt.err}
			ios, _, _, errOut := Test()
			f := &Factory{IO: ios, Getenv: func(string) string { return "" }, Clock: func() time.Time { return fixedNow },
				Connect: func(ctx context.Context) (Ledger, error) { return l, nil }}
			if got := Main(f, tt.args); got != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, tt.want, errOut)
			}
			if len(l.calls) != tt.calls {
				t.Errorf("ledger calls %v, want %d", l.calls, tt.calls)
			}
		})
	}
}
