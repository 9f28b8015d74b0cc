package credit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Subject kinds, derived from the subject string's form (DESIGN §3).
const (
	SubjectEnterprise = "enterprise"
	SubjectPerson     = "person"
)

// personSubjectLen is "P" plus 64 lower-case hex characters.
const personSubjectLen = 1 + 64

// ParseSubject validates a subject string: either an enterprise's unified
// social credit code, or a natural person's keyed hash "P"+64 lower-case hex.
// It returns the subject kind. Errors are *FieldError values for field.
func ParseSubject(field, s string) (kind string, err error) {
	if s == "" {
		return "", invalid(field, "is required")
	}
	if s[0] == 'P' && len(s) == personSubjectLen {
		for i := 1; i < len(s); i++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return "", invalid(field, "a person subject is \"P\" and 64 lower-case hex characters (HMAC-SHA256 of the ID number); character %d is %q", i+1, string(c))
			}
		}
		return SubjectPerson, nil
	}
	if s[0] == 'P' && len(s) != CreditCodeLen {
		return "", invalid(field, "a person subject is \"P\" and 64 lower-case hex characters; got %d characters", len(s))
	}
	if _, err := ParseCreditCode(field, s); err != nil {
		return "", err
	}
	return SubjectEnterprise, nil
}

// NormaliseIDNumber is the form of an identity number that PersonSubject
// hashes: surrounding and inner spaces removed, letters upper case (the
// check character x of a resident identity card becomes X).
func NormaliseIDNumber(id string) string {
	return strings.ToUpper(strings.Join(strings.Fields(id), ""))
}

// PersonSubject returns the subject string of a natural person: "P" and the
// lower-case hex HMAC-SHA256 of the normalised identity number under the
// channel-wide person key. The key is given to clients only; the chaincode
// never sees it or the identity number (personal-information protection law).
func PersonSubject(key []byte, idNumber string) (string, error) {
	if len(key) < 16 {
		return "", errors.New("person subject: the person key must be at least 16 bytes")
	}
	n := NormaliseIDNumber(idNumber)
	if n == "" {
		return "", errors.New("person subject: the identity number is empty")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(n))
	return "P" + hex.EncodeToString(m.Sum(nil)), nil
}

// HomeCounty returns the home county (division code) of an enterprise
// subject, or "" for a person or an invalid subject.
func HomeCounty(subject string) string {
	if kind, err := ParseSubject("subject", subject); err != nil || kind != SubjectEnterprise {
		return ""
	}
	return CreditCode(subject).Division()
}
