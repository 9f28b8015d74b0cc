package credit

import (
	"errors"
	"fmt"
	"testing"
)

// TestErrorCodesRoundTrip checks DESIGN §6: every sentinel has a bracket
// code, the chaincode message starts with it, and ErrorFromMessage maps the
// peer's wrapped message back to the same sentinel, keeping the text.
func TestErrorCodesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"invalid", ErrInvalid, "INVALID"},
		{"forbidden", ErrForbidden, "FORBIDDEN"},
		{"not found", ErrNotFound, "NOT_FOUND"},
		{"exists", ErrExists, "EXISTS"},
		{"state", ErrState, "STATE"},
		{"too early", ErrTooEarly, "TOO_EARLY"},
		{"not repairable", ErrNotRepairable, "NOT_REPAIRABLE"},
		{"evidence missing", ErrEvidenceMissing, "EVIDENCE_MISSING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrapped := fmt.Errorf("complete repair r1: %w", tt.err)
			if got := Code(wrapped); got != tt.code {
				t.Fatalf("Code = %q, want %q", got, tt.code)
			}
			msg := Message(wrapped)
			if want := "[" + tt.code + "] complete repair r1: "; msg[:len(want)] != want {
				t.Fatalf("Message = %q", msg)
			}
			peer := "chaincode response 500, " + msg
			back := ErrorFromMessage(peer)
			if !errors.Is(back, tt.err) {
				t.Fatalf("ErrorFromMessage(%q) is not %v", peer, tt.err)
			}
			if back.Error() != peer {
				t.Fatalf("text %q, want %q", back.Error(), peer)
			}
		})
	}
}

func TestErrorFromMessageWithoutCode(t *testing.T) {
	tests := []struct {
		name, msg string
	}{
		{"plain", "connection refused"},
		{"unknown bracket", "[WHATEVER] something"},
		{"unclosed", "[TOO_EARLY something"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ErrorFromMessage(tt.msg)
			if err == nil || Code(err) != "" || err.Error() != tt.msg {
				t.Fatalf("got %v (code %q)", err, Code(err))
			}
		})
	}
	if ErrorFromMessage("") != nil {
		t.Fatal("empty message should give nil")
	}
	// The first known code wins, after unknown brackets.
	if err := ErrorFromMessage("[x] [STATE] a [FORBIDDEN] b"); !errors.Is(err, ErrState) {
		t.Fatalf("got %v", err)
	}
}

func TestFieldErrorIsInvalid(t *testing.T) {
	err := fmt.Errorf("make commitment: %w", &FieldError{Field: "measures[2]", Rule: "unknown"})
	var fe *FieldError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != "measures[2]" {
		t.Fatalf("got %v", err)
	}
	if Message(err) != "[INVALID] make commitment: measures[2]: unknown" {
		t.Fatalf("message %q", Message(err))
	}
}
