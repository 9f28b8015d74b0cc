package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// endorseFailure builds the gRPC error a peer Gateway returns when the
// chaincode refuses a proposal: a generic status message with one
// ErrorDetail per endorser carrying the chaincode's words.
func endorseFailure(t *testing.T, msgs ...string) error {
	t.Helper()
	st := status.New(codes.Aborted, "failed to endorse transaction, see attached details for more info")
	for i, m := range msgs {
		var err error
		st, err = st.WithDetails(&gateway.ErrorDetail{
			Address: "127.0.0.1:705" + string(rune('1'+i)),
			MspId:   "County330782MSP",
			Message: m,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st.Err()
}

func TestChaincodeRefusalMapsToCreditSentinel(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		want error
	}{
		{"too early", "chaincode response 500, [TOO_EARLY] complete repair r1: minimum publicity period ends 2027-01-15", credit.ErrTooEarly},
		{"forbidden", "chaincode response 500, [FORBIDDEN] complete repair r1: county 330182 did not impose punishment p1", credit.ErrForbidden},
		{"invalid", "chaincode response 500, [INVALID] subject: check character is \"X\", want \"3\"", credit.ErrInvalid},
		{"not repairable", "chaincode response 500, [NOT_REPAIRABLE] complete repair r2: specially serious", credit.ErrNotRepairable},
		{"evidence", "chaincode response 500, [EVIDENCE_MISSING] complete repair r3: evidence.training", credit.ErrEvidenceMissing},
		{"exists", "chaincode response 500, [EXISTS] punishment p1", credit.ErrExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := newTxError("CompleteRepair", StageEndorse, "tx1", endorseFailure(t, tc.msg))
			if !errors.Is(err, tc.want) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.want)
			}
			if err.TxID != "tx1" || err.Stage != StageEndorse {
				t.Fatalf("tx/stage lost: %+v", err)
			}
			// The message is the chaincode's, from its code on, with the
			// transaction and stage in front.
			want := "CompleteRepair (tx tx1): endorse: " + tc.msg[strings.Index(tc.msg, "["):]
			if err.Error() != want {
				t.Fatalf("Error() = %q\nwant      %q", err.Error(), want)
			}
		})
	}
}

func TestEvaluateRefusalInStatusMessage(t *testing.T) {
	// Evaluate errors carry the chaincode message in the status itself.
	raw := status.Error(codes.Unknown, "evaluate call to endorser returned error: chaincode response 500, [NOT_FOUND] punishment p9 not found")
	err := newTxError("GetRecord", StageEvaluate, "tx2", raw)
	if !errors.Is(err, credit.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	if got := err.Error(); got != "GetRecord (tx tx2): evaluate: [NOT_FOUND] punishment p9 not found" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestValidationCodesClassified(t *testing.T) {
	cases := []struct {
		code peer.TxValidationCode
		want []error
	}{
		{peer.TxValidationCode_MVCC_READ_CONFLICT, []error{ErrConflict}},
		{peer.TxValidationCode_PHANTOM_READ_CONFLICT, []error{ErrConflict}},
		{peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE, []error{ErrRejected, credit.ErrForbidden}},
		{peer.TxValidationCode_DUPLICATE_TXID, []error{ErrRejected}},
	}
	for _, tc := range cases {
		t.Run(tc.code.String(), func(t *testing.T) {
			err := newTxError("ImposePunishment", StageCommit, "tx3", &client.CommitError{TransactionID: "tx3", Code: tc.code})
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("errors.Is(%v, %v) = false", err, w)
				}
			}
			if err.Code != tc.code {
				t.Errorf("code %v, want %v", err.Code, tc.code)
			}
		})
	}
}

func TestUncertainOutcomesAreCommitUnknown(t *testing.T) {
	cases := []struct {
		name  string
		stage Stage
		err   error
		want  error
	}{
		{"commit status timeout", StageCommitStatus, status.Error(codes.DeadlineExceeded, "context deadline exceeded"), ErrCommitUnknown},
		{"submit unavailable", StageSubmit, status.Error(codes.Unavailable, "orderer down"), ErrCommitUnknown},
		{"submit refused", StageSubmit, status.Error(codes.FailedPrecondition, "BAD_REQUEST"), ErrRejected},
		{"endorse unreachable", StageEndorse, status.Error(codes.Unavailable, "connection refused"), ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := newTxError("MakeCommitment", tc.stage, "tx4", tc.err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.want)
			}
		})
	}
}

func TestSubmitRetriesReadConflictsOnly(t *testing.T) {
	conflict := newTxError("MakeCommitment", StageCommit, "", &client.CommitError{Code: peer.TxValidationCode_MVCC_READ_CONFLICT})
	refused := newTxError("MakeCommitment", StageEndorse, "", endorseFailure(t, "chaincode response 500, [EXISTS] commitment c1"))
	cases := []struct {
		name     string
		results  []error // per attempt; nil = success
		attempts int
		wantErr  error
		waits    []time.Duration
	}{
		{"success first time", []error{nil}, 1, nil, nil},
		{"conflict then success", []error{conflict, conflict, nil}, 3, nil, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{"conflict every time", []error{conflict, conflict, conflict, conflict, conflict}, 5, ErrConflict,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		{"refusal is not retried", []error{refused}, 1, credit.ErrExists, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var waits []time.Duration
			calls := 0
			c := &Client{cfg: Config{Retry: DefaultRetry}}
			c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			c.submitOne = func(_ context.Context, fn string, arg []byte) ([]byte, Result, error) {
				err := tc.results[calls]
				calls++
				res := Result{TxID: "tx" + string(rune('0'+calls))}
				if err != nil {
					return nil, res, err
				}
				return []byte(`{"id":"c1"}`), res, nil
			}
			var out struct{ ID string }
			res, err := c.Submit(context.Background(), "MakeCommitment", map[string]string{"id": "c1"}, &out)
			if calls != tc.attempts || res.Attempts != tc.attempts {
				t.Fatalf("attempts: calls %d, result %d, want %d", calls, res.Attempts, tc.attempts)
			}
			if tc.wantErr == nil {
				if err != nil || out.ID != "c1" {
					t.Fatalf("err %v, out %+v", err, out)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if len(waits) != len(tc.waits) {
				t.Fatalf("waits %v, want %v", waits, tc.waits)
			}
			for i := range waits {
				if waits[i] != tc.waits[i] {
					t.Fatalf("waits %v, want %v", waits, tc.waits)
				}
			}
		})
	}
}
