package client

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
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
			c := &Client{cfg: Config{Retry: DefaultRetry}, now: time.Now}
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

// TestSubmitWaitsForLaggingPeers: refusals that a peer lagging behind the
// others can cause are tried again for a bounded time, since nothing
// reached the orderer: a NOT_FOUND at endorsement (the record was just
// committed through another county's peer) for Retry.NotFound, and a
// missing endorsement plan (discovery not converged) for Retry.NoPlan.
// The same refusals after the deadline, or NOT_FOUND after commit, are
// returned.
func TestSubmitWaitsForLaggingPeers(t *testing.T) {
	notFound := newTxError("RecordEnforcement", StageEndorse, "", endorseFailure(t, "chaincode response 500, [NOT_FOUND] record enforcement e1: punishment p1 not found"))
	noPlan := newTxError("MakeCommitment", StageEndorse, "", status.Error(codes.FailedPrecondition,
		"no combination of peers can be derived which satisfy the endorsement policy: no peer combination can satisfy the endorsement policy"))
	if !errors.Is(noPlan, ErrNoPlan) {
		t.Fatalf("no plan not classified: %v", noPlan)
	}
	cases := []struct {
		name     string
		fail     error
		failures int // failing attempts before success; -1 = always
		attempts int
		wantErr  error
		elapsed  time.Duration // fake time spent pausing
	}{
		{"reference appears after 3 tries", notFound, 3, 4, nil, 600 * time.Millisecond},
		{"reference never appears", notFound, -1, 11, credit.ErrNotFound, 2 * time.Second},
		{"discovery converges", noPlan, 2, 3, nil, 4 * time.Second},
		{"discovery never converges", noPlan, -1, 31, ErrNoPlan, 60 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
			start := clock
			c := &Client{cfg: Config{Retry: DefaultRetry}}
			c.now = func() time.Time { return clock }
			c.sleep = func(_ context.Context, d time.Duration) error { clock = clock.Add(d); return nil }
			retries := 0
			c.cfg.OnRetry = func(error, time.Duration) { retries++ }
			calls := 0
			c.submitOne = func(context.Context, string, []byte) ([]byte, Result, error) {
				calls++
				if tc.failures < 0 || calls <= tc.failures {
					return nil, Result{}, tc.fail
				}
				return []byte(`{}`), Result{TxID: "ok"}, nil
			}
			_, err := c.Submit(context.Background(), "X", struct{}{}, nil)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if calls != tc.attempts || retries != calls-1 {
				t.Fatalf("%d attempts (%d retries announced), want %d", calls, retries, tc.attempts)
			}
			if got := clock.Sub(start); got != tc.elapsed {
				t.Fatalf("paused %v in all, want %v", got, tc.elapsed)
			}
		})
	}
	// A NOT_FOUND that is not an endorsement refusal is not retried.
	c := &Client{cfg: Config{Retry: DefaultRetry}, now: time.Now, sleep: func(context.Context, time.Duration) error { return nil }}
	calls := 0
	c.submitOne = func(context.Context, string, []byte) ([]byte, Result, error) {
		calls++
		return nil, Result{}, &TxError{Op: "X", Stage: StageEvaluate, Kind: credit.ErrNotFound}
	}
	if _, err := c.Submit(context.Background(), "X", struct{}{}, nil); !errors.Is(err, credit.ErrNotFound) || calls != 1 {
		t.Fatalf("evaluate-stage not found: %d calls, %v", calls, err)
	}
}

// TestResubmitWhileNoOrdererTakesIt: while the Gateway answers
// Unavailable (no orderer could take the transaction: an election after
// the leader was lost), the same transaction is sent again every 500 ms,
// up to Retry.Ordering, and OnRetry hears ErrOrderingUnavailable; any
// other answer is returned at once; past Retry.Ordering, the
// Unavailable answer is returned, and Submit reports ErrCommitUnknown.
func TestResubmitWhileNoOrdererTakesIt(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "no orderers could successfully process transaction")
	aborted := status.Error(codes.Aborted, "received unsuccessful response from orderer: status=BAD_REQUEST")
	cases := []struct {
		name    string
		answers []error // per send; nil = taken
		sends   int
		want    error // nil: taken
	}{
		{"taken at once", []error{nil}, 1, nil},
		{"taken after an election", []error{unavailable, unavailable, unavailable, nil}, 4, nil},
		{"refused by the orderer: not sent again", []error{aborted}, 1, aborted},
		{"no orderer for longer than Retry.Ordering", slices.Repeat([]error{unavailable}, 100), 41, unavailable}, // at 0, 0.5 … 20 s
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
			var heard []error
			c := &Client{cfg: Config{Retry: DefaultRetry, Timeouts: DefaultTimeouts, OnRetry: func(err error, d time.Duration) {
				heard = append(heard, err)
				if d != 500*time.Millisecond {
					t.Errorf("pause %s", d)
				}
			}}, now: func() time.Time { return clock }}
			c.sleep = func(_ context.Context, d time.Duration) error { clock = clock.Add(d); return nil }
			sends := 0
			_, err := c.resubmit(context.Background(), func(context.Context, ...grpc.CallOption) (*client.Commit, error) {
				a := tc.answers[sends]
				sends++
				return nil, a
			})
			if sends != tc.sends || !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("%d sends, err %v; want %d sends, %v", sends, err, tc.sends, tc.want)
			}
			if len(heard) != sends-1 && tc.want == nil || len(heard) > 0 && !errors.Is(heard[0], ErrOrderingUnavailable) {
				t.Fatalf("OnRetry heard %v", heard)
			}
			if tc.want == unavailable && !errors.Is(newTxError("MakeCommitment", StageSubmit, "tx1", err), ErrCommitUnknown) {
				t.Fatal("the last Unavailable answer is not reported as an unknown outcome")
			}
		})
	}
}
