package credit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonical JSON for certificate digests.
//
// The digest of a certificate's credit status is SHA-256 over the status
// serialised with the JSON Canonicalization Scheme, RFC 8785 (JCS): object
// members sorted by the UTF-16 code units of their names, no white space,
// strings escaped as ECMAScript's JSON.stringify does (only '"', '\\' and
// control characters; every other character, '<', '>', '&' and U+2028
// included, as itself in UTF-8), numbers in ECMAScript's shortest form.
// Because the form depends only on the JSON value, any verifier can
// recompute the digest from the status it finds in a certificate, with any
// RFC 8785 library, without this software.

// CanonicalJSON returns the RFC 8785 canonical form of v's JSON encoding.
// Duplicate object member names are refused.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return Canonicalize(raw)
}

// Canonicalize returns the RFC 8785 canonical form of one JSON document.
func Canonicalize(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	out.Grow(len(doc))
	if err := canonValue(dec, &out); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("canonical json: data after the JSON value")
	}
	return out.Bytes(), nil
}

// StatusDigest returns the canonical bytes of a value and the lower-case hex
// SHA-256 digest of those bytes.
func StatusDigest(v any) (canonical []byte, digest string, err error) {
	c, err := CanonicalJSON(v)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(c)
	return c, hex.EncodeToString(sum[:]), nil
}

type member struct {
	key   string
	value []byte
}

func canonValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var ms []member
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, ok := kt.(string)
				if !ok {
					return fmt.Errorf("object key %v is not a string", kt)
				}
				var vb bytes.Buffer
				if err := canonValue(dec, &vb); err != nil {
					return err
				}
				ms = append(ms, member{key, vb.Bytes()})
			}
			if _, err := dec.Token(); err != nil { // '}'
				return err
			}
			slices.SortFunc(ms, func(a, b member) int { return compareUTF16(a.key, b.key) })
			out.WriteByte('{')
			for i, m := range ms {
				if i > 0 {
					if ms[i-1].key == m.key {
						return fmt.Errorf("duplicate object member %q", m.key)
					}
					out.WriteByte(',')
				}
				writeCanonString(out, m.key)
				out.WriteByte(':')
				out.Write(m.value)
			}
			out.WriteByte('}')
		case '[':
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonValue(dec, out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
			out.WriteByte(']')
		default:
			return fmt.Errorf("unexpected %v", t)
		}
	case string:
		writeCanonString(out, t)
	case json.Number:
		s, err := canonNumber(t)
		if err != nil {
			return err
		}
		out.WriteString(s)
	case bool:
		if t {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("unexpected token %v", tok)
	}
	return nil
}

// compareUTF16 orders strings by their UTF-16 code units (RFC 8785 §3.2.3).
func compareUTF16(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	return slices.Compare(ua, ub)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// writeCanonString writes s as ECMAScript's JSON.stringify does.
func writeCanonString(out *bytes.Buffer, s string) {
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			out.WriteString(`\"`)
		case c == '\\':
			out.WriteString(`\\`)
		case c == '\b':
			out.WriteString(`\b`)
		case c == '\t':
			out.WriteString(`\t`)
		case c == '\n':
			out.WriteString(`\n`)
		case c == '\f':
			out.WriteString(`\f`)
		case c == '\r':
			out.WriteString(`\r`)
		case c < 0x20:
			out.WriteString(`\u00`)
			out.WriteByte(hexDigits[c>>4])
			out.WriteByte(hexDigits[c&0xf])
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte('"')
}

// canonNumber formats a JSON number as ECMAScript's Number.prototype.toString
// (RFC 8785 §3.2.2.3).
func canonNumber(n json.Number) (string, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return "", fmt.Errorf("number %s: %w", n, err)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("number %s is out of range", n)
	}
	return es6Number(f), nil
}

func es6Number(f float64) string {
	if f == 0 {
		return "0" // also -0
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest round-trip digits and exponent: d.ddddde±x.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(expStr)
	k, n := len(digits), x+1 // value = 0.digits × 10^n
	var s string
	switch {
	case k <= n && n <= 21:
		s = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		s = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + digits
	default:
		exp := n - 1
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		if k == 1 {
			s = digits + "e" + es + strconv.Itoa(exp)
		} else {
			s = digits[:1] + "." + digits[1:] + "e" + es + strconv.Itoa(exp)
		}
	}
	return sign + s
}
