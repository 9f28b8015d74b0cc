package client

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Stage is where in a transaction's life a call failed.
type Stage string

// The stages of a call.
const (
	StageEvaluate     Stage = "evaluate"      // a read-only query on one peer
	StageEndorse      Stage = "endorse"       // simulation and endorsement on the peers
	StageSubmit       Stage = "submit"        // hand-off to the ordering service
	StageCommitStatus Stage = "commit-status" // waiting to learn the validation outcome
	StageCommit       Stage = "commit"        // validation marked the transaction invalid
)

// Sentinels for failures that are not chaincode refusals. Chaincode
// refusals match the chaincode/credit sentinels instead.
var (
	// ErrCommitUnknown: the transaction may or may not have committed.
	// Resolve with TransactionStatus before retrying.
	ErrCommitUnknown = errors.New("commit status unknown")
	// ErrConflict: the transaction kept losing read conflicts (MVCC or
	// phantom) after every retry.
	ErrConflict = errors.New("read conflict")
	// ErrRejected: validation marked the transaction invalid for a reason
	// other than a read conflict (for example an endorsement policy
	// failure: a county tried to change another county's record).
	ErrRejected = errors.New("rejected at validation")
	// ErrUnavailable: the peer could not be reached, or endorsing peers
	// were unavailable. Nothing was sent to the orderer.
	ErrUnavailable = errors.New("peer unavailable")
	// ErrNoPlan: the Gateway could not find peers of enough counties to
	// satisfy the endorsement policy (discovery has not converged, or too
	// many counties' peers are down). Nothing was sent to the orderer.
	ErrNoPlan = errors.New("no endorsement plan")
	// ErrOrderingUnavailable: the Gateway could not hand the transaction
	// to any orderer (none reachable, or none with a consensus leader: an
	// election after an orderer was lost or restarted). Submit sends the
	// same signed transaction again for up to Retry.Ordering (OnRetry hears
	// of it with this error); after that it is ErrCommitUnknown.
	ErrOrderingUnavailable = errors.New("no orderer could take the transaction")
)

// TxError is the error of every Client call. It names the chaincode
// function, the stage that failed and the transaction ID, and unwraps both
// to a sentinel (a chaincode/credit one for a chaincode refusal, or one of
// this package's) and to the underlying gateway error.
type TxError struct {
	Op    string                // chaincode function
	Stage Stage                 // where it failed
	TxID  string                // transaction ID; empty if none was built
	Code  peer.TxValidationCode // validation code, for StageCommit
	// Kind is the sentinel the failure maps to (nil if none applies).
	Kind error
	// Err is the underlying error (a fabric-gateway error for network
	// failures).
	Err error
}

func (e *TxError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.TxID != "" {
		b.WriteString(" (tx ")
		b.WriteString(e.TxID)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(string(e.Stage))
	b.WriteString(": ")
	b.WriteString(e.message())
	return b.String()
}

// message is the most useful one-line account of the failure: the
// chaincode's own words when it refused, else the gateway's.
func (e *TxError) message() string {
	var ce *chaincodeError
	if errors.As(e.Kind, &ce) {
		return ce.msg
	}
	if e.Err == nil {
		return "failed"
	}
	var commitErr *client.CommitError
	if errors.As(e.Err, &commitErr) {
		return "invalidated at validation: " + commitErr.Code.String()
	}
	if st, ok := status.FromError(e.Err); ok {
		msg := st.Message()
		for _, d := range gatewayDetails(e.Err) {
			msg += "; " + d
		}
		return msg
	}
	return e.Err.Error()
}

// Unwrap exposes the sentinel and the underlying error to errors.Is/As.
func (e *TxError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// chaincodeError carries a chaincode refusal: its message (from the first
// "[CODE]") and the credit sentinel it maps to.
type chaincodeError struct {
	msg  string
	kind error
}

func (e *chaincodeError) Error() string { return e.msg }
func (e *chaincodeError) Unwrap() error { return e.kind }

// newTxError classifies a fabric-gateway error.
func newTxError(op string, stage Stage, txID string, err error) *TxError {
	te := &TxError{Op: op, Stage: stage, TxID: txID, Err: err}
	var commitErr *client.CommitError
	if errors.As(err, &commitErr) {
		te.Stage, te.Code = StageCommit, commitErr.Code
	}
	te.Kind = classify(te.Stage, te.Code, err)
	return te
}

func classify(stage Stage, code peer.TxValidationCode, err error) error {
	// A chaincode refusal, wherever it surfaced: the peer's message, or the
	// per-endorser details the Gateway attaches.
	text := err.Error()
	for _, d := range gatewayDetails(err) {
		text += "\n" + d
	}
	if kind := credit.ErrorFromMessage(text); credit.Code(kind) != "" {
		return &chaincodeError{msg: chaincodeMessage(text), kind: kind}
	}
	switch stage {
	case StageCommit:
		switch code {
		case peer.TxValidationCode_MVCC_READ_CONFLICT, peer.TxValidationCode_PHANTOM_READ_CONFLICT:
			return ErrConflict
		case peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE:
			return errors.Join(ErrRejected, credit.ErrForbidden)
		default:
			return ErrRejected
		}
	case StageCommitStatus:
		return ErrCommitUnknown
	case StageSubmit:
		// The orderer may have received the transaction before the
		// failure was seen; only an explicit refusal means "not sent".
		switch status.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unknown:
			return ErrCommitUnknown
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return ErrCommitUnknown
		}
		return ErrRejected
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return ErrUnavailable
	case codes.FailedPrecondition:
		if strings.Contains(err.Error(), "no combination of peers") {
			return ErrNoPlan
		}
	}
	return nil
}

// chaincodeMessage trims a peer's message to the chaincode's own text:
// from the first recognised "[CODE]" to the end of that line.
func chaincodeMessage(text string) string {
	for _, loc := range codePattern.FindAllStringIndex(text, -1) {
		if credit.Sentinel(text[loc[0]+1:loc[1]-1]) == nil {
			continue
		}
		rest := text[loc[0]:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[:nl]
		}
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(text)
}

var codePattern = regexp.MustCompile(`\[[A-Z_]+\]`)

// gatewayDetails returns "mspid@address: message" for each endorser error
// the Gateway attached.
func gatewayDetails(err error) []string {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	var out []string
	for _, d := range st.Details() {
		if ed, ok := d.(interface {
			GetAddress() string
			GetMspId() string
			GetMessage() string
		}); ok {
			out = append(out, fmt.Sprintf("%s@%s: %s", ed.GetMspId(), ed.GetAddress(), ed.GetMessage()))
		}
	}
	return out
}

// refusedAtEndorsement reports a chaincode refusal with sentinel during
// endorsement (so nothing reached the orderer).
func refusedAtEndorsement(err error, sentinel error) bool {
	var te *TxError
	return errors.As(err, &te) && te.Stage == StageEndorse && errors.Is(err, sentinel)
}

// isNotFound reports qscc's answer for a transaction ID it does not hold.
func isNotFound(err error) bool {
	msg := err.Error()
	for _, d := range gatewayDetails(err) {
		msg += d
	}
	return strings.Contains(msg, "no such transaction ID") || strings.Contains(msg, "Failed to get transaction with id")
}

func unmarshalProto(b []byte, m proto.Message) error {
	return proto.Unmarshal(b, m)
}
