package credit

import (
	"errors"
	"strings"
	"testing"
)

// TestPersonSubjectIsKeyedHash: natural persons never appear in clear
// (DOMAIN, personal-information protection law): the subject is "P" + the
// HMAC-SHA256 of the normalised ID number under the channel key.
func TestPersonSubjectIsKeyedHash(t *testing.T) {
	key := []byte("0123456789abcdef-channel-key")
	a, err := PersonSubject(key, "33078219900101123x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := PersonSubject(key, " 330782 19900101 123X ")
	if a != b {
		t.Fatalf("normalisation: %s != %s", a, b)
	}
	if kind, err := ParseSubject("subject", a); err != nil || kind != SubjectPerson {
		t.Fatalf("ParseSubject(%s) = %q, %v", a, kind, err)
	}
	if strings.Contains(a, "19900101") {
		t.Fatal("the ID number leaks into the subject")
	}
	other, _ := PersonSubject([]byte("another-channel-key-0000"), "33078219900101123X")
	if other == a {
		t.Fatal("the subject does not depend on the key")
	}
	if _, err := PersonSubject([]byte("short"), "1"); err == nil {
		t.Fatal("a short key must be refused")
	}
	if _, err := PersonSubject(key, "  "); err == nil {
		t.Fatal("an empty ID number must be refused")
	}
}

// TestParseSubjectForms: the accepted forms of a subject (credit code,
// hashed person) and the refused ones.
// Source: DOMAIN.md (subjects; personal-information protection law), DESIGN §3; docs/RULES.md.
func TestParseSubjectForms(t *testing.T) {
	tests := []struct {
		name, s, kind, errPart string
	}{
		{"enterprise", CompleteCreditCode("91330782MA2EXAMPL"), SubjectEnterprise, ""},
		{"person", "P" + strings.Repeat("0a", 32), SubjectPerson, ""},
		{"person upper hex", "P" + strings.Repeat("0A", 32), "", "lower-case hex"},
		{"person short", "P" + strings.Repeat("a", 63), "", "64 lower-case hex"},
		{"empty", "", "", "is required"},
		{"clear ID number", "33078219900101123X", "", "does not start with a province code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, err := ParseSubject("subject", tt.s)
			if tt.errPart == "" {
				if err != nil || kind != tt.kind {
					t.Fatalf("got %q, %v", kind, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.errPart) || !strings.HasPrefix(err.Error(), "subject: ") {
				t.Fatalf("err = %v, want subject: …%s…", err, tt.errPart)
			}
		})
	}
}
