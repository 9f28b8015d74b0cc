package credit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// Canonicalize returns the RFC 8785 canonical form of one JSON document
// (RFC 8259). Strings are decoded as encoding/json decodes them (invalid
// UTF-8 becomes U+FFFD); duplicate member names, trailing data and nesting
// deeper than 10000 are refused.
func Canonicalize(doc []byte) ([]byte, error) {
	p := canonParser{in: doc}
	out := make([]byte, 0, len(doc))
	out, err := p.value(out, 0)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	p.space()
	if p.pos != len(p.in) {
		return nil, errors.New("canonical json: data after the JSON value")
	}
	return out, nil
}

// CanonicalStatus canonicalises a status document (as Canonicalize) and
// returns, from the same pass, its top-level "subject" and "asOf" strings
// ("" if absent or not strings).
func CanonicalStatus(doc []byte) (canonical []byte, subject, asOf string, err error) {
	p := canonParser{in: doc, capture: func(key, val string) {
		switch key {
		case "subject":
			subject = val
		case "asOf":
			asOf = val
		}
	}}
	out, err := p.value(make([]byte, 0, len(doc)), 0)
	if err != nil {
		return nil, "", "", fmt.Errorf("canonical json: %w", err)
	}
	p.space()
	if p.pos != len(p.in) {
		return nil, "", "", errors.New("canonical json: data after the JSON value")
	}
	return out, subject, asOf, nil
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

// maxDepth bounds the nesting of a canonicalised document.
const maxDepth = 10000 // as encoding/json

// canonParser is a recursive-descent JSON parser that writes the canonical
// form as it goes.
type canonParser struct {
	in  []byte
	pos int
	// capture, if set, receives the top-level object's string members.
	capture func(key, val string)
}

type canonMember struct {
	key        string
	start, end int // the value's canonical bytes in the object's scratch buffer
}

func (p *canonParser) space() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *canonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *canonParser) value(out []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d", maxDepth)
	}
	p.space()
	if p.pos >= len(p.in) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(out, depth)
	case c == '[':
		p.pos++
		out = append(out, '[')
		p.space()
		if p.pos < len(p.in) && p.in[p.pos] == ']' {
			p.pos++
			return append(out, ']'), nil
		}
		for {
			var err error
			if out, err = p.value(out, depth+1); err != nil {
				return nil, err
			}
			p.space()
			if p.pos >= len(p.in) {
				return nil, p.errorf("unterminated array")
			}
			if p.in[p.pos] == ']' {
				p.pos++
				return append(out, ']'), nil
			}
			if p.in[p.pos] != ',' {
				return nil, p.errorf("expected ',' or ']' in array")
			}
			p.pos++
			out = append(out, ',')
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return appendCanonString(out, s), nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number(out)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(p.in)-p.pos >= len(lit) && string(p.in[p.pos:p.pos+len(lit)]) == lit {
				p.pos += len(lit)
				return append(out, lit...), nil
			}
		}
		return nil, p.errorf("invalid character %q", c)
	}
}

func (p *canonParser) object(out []byte, depth int) ([]byte, error) {
	p.pos++ // '{'
	var scratch []byte
	var ms []canonMember
	p.space()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return append(out, '{', '}'), nil
	}
	for {
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return nil, p.errorf("expected a member name")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return nil, p.errorf("expected ':' after member name")
		}
		p.pos++
		start := len(scratch)
		p.space()
		if depth == 0 && p.capture != nil && p.pos < len(p.in) && p.in[p.pos] == '"' {
			val, err := p.str()
			if err != nil {
				return nil, err
			}
			p.capture(key, val)
			scratch = appendCanonString(scratch, val)
		} else if scratch, err = p.value(scratch, depth+1); err != nil {
			return nil, err
		}
		ms = append(ms, canonMember{key, start, len(scratch)})
		p.space()
		if p.pos >= len(p.in) {
			return nil, p.errorf("unterminated object")
		}
		if p.in[p.pos] == '}' {
			p.pos++
			break
		}
		if p.in[p.pos] != ',' {
			return nil, p.errorf("expected ',' or '}' in object")
		}
		p.pos++
	}
	slices.SortFunc(ms, func(a, b canonMember) int { return compareUTF16(a.key, b.key) })
	out = append(out, '{')
	for i, m := range ms {
		if i > 0 {
			if ms[i-1].key == m.key {
				return nil, fmt.Errorf("duplicate object member %q", m.key)
			}
			out = append(out, ',')
		}
		out = appendCanonString(out, m.key)
		out = append(out, ':')
		out = append(out, scratch[m.start:m.end]...)
	}
	return append(out, '}'), nil
}

// str decodes a JSON string at p.pos, as encoding/json does.
func (p *canonParser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	simple := true
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c == '"' {
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			simple = false
			break
		}
		p.pos++
	}
	if simple {
		if p.pos >= len(p.in) {
			return "", p.errorf("unterminated string")
		}
		s := string(p.in[start:p.pos])
		p.pos++
		return s, nil
	}
	var b strings.Builder
	b.Write(p.in[start:p.pos])
	for {
		if p.pos >= len(p.in) {
			return "", p.errorf("unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c == '\\':
			if p.pos+1 >= len(p.in) {
				return "", p.errorf("unterminated escape")
			}
			e := p.in[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("bad \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// A valid pair makes one rune; anything else is U+FFFD.
					save := p.pos
					if p.pos+1 < len(p.in) && p.in[p.pos] == '\\' && p.in[p.pos+1] == 'u' {
						p.pos += 2
						if r2, ok := p.hex4(); ok {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								b.WriteRune(d)
								continue
							}
						}
					}
					p.pos = save
					r = utf8.RuneError
				}
				b.WriteRune(r)
			default:
				return "", p.errorf("bad escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			b.WriteRune(r) // invalid UTF-8 becomes U+FFFD, as in encoding/json
			p.pos += size
		}
	}
}

func (p *canonParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.in) {
		return 0, false
	}
	var r rune
	for _, c := range p.in[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

// number validates a JSON number (RFC 8259 §6) and writes its ECMAScript
// form; short integers are copied as they are.
func (p *canonParser) number(out []byte) ([]byte, error) {
	start := p.pos
	if p.in[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	n := digits()
	if n == 0 || (n > 1 && p.in[intStart] == '0') {
		return nil, p.errorf("invalid number")
	}
	integer := true
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
		integer = false
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
		integer = false
	}
	lit := p.in[start:p.pos]
	if integer && n <= 15 {
		if string(lit) == "-0" {
			return append(out, '0'), nil
		}
		return append(out, lit...), nil
	}
	s, err := canonNumber(json.Number(lit))
	if err != nil {
		return nil, err
	}
	return append(out, s...), nil
}

// appendCanonString appends s as ECMAScript's JSON.stringify writes it.
func appendCanonString(out []byte, s string) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			out = append(out, '\\', '"')
		case c == '\\':
			out = append(out, '\\', '\\')
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
