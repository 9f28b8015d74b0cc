package credit

import (
	"errors"
	"strings"
	"testing"
)

// TestCreditCodeCheckCharacter: GB 32100-2015 — the 18th character is
// 31 - (Σ value·weight mod 31), weights 3^(i-1) mod 31, 31 mapping to 0.
// The accepted codes are published codes of registered enterprises.
func TestCreditCodeCheckCharacter(t *testing.T) {
	for _, code := range []string{
		"9144030071526726XG", // check character X
		"91330100716105852F",
		"914403001922038216",
		"91350100M000100Y43",
	} {
		t.Run(code, func(t *testing.T) {
			if _, err := ParseCreditCode("subject", code); err != nil {
				t.Fatal(err)
			}
			c, err := CreditCodeCheckChar(code[:17])
			if err != nil || c != code[17] {
				t.Fatalf("check char %q, %v; want %q", c, err, code[17])
			}
		})
	}
	// Sum ≡ 0 (mod 31) gives 31, which maps to "0".
	if c, _ := CreditCodeCheckChar("00000000000000000"); c != '0' {
		t.Fatalf("all-zero prefix: check char %q, want '0'", c)
	}
}

// TestCreditCodeRejectsBadInput: every GB 32100-2015 rule refuses a bad
// code with an error naming the field and the rule.
func TestCreditCodeRejectsBadInput(t *testing.T) {
	valid := CompleteCreditCode("91330782MA2EXAMPL")
	tests := []struct {
		name, code, want string
	}{
		{"empty", "", "has 18 characters, got 0"},
		{"too short", valid[:17], "has 18 characters, got 17"},
		{"too long", valid + "0", "got 19"},
		{"letter I", "9133078200000000I" + "0", `character 17 "I" is not in the code alphabet`},
		{"letter O", "91330782O00000000" + "0", `"O" is not in the code alphabet`},
		{"letter S", "91330782S00000000" + "0", `"S" is not in the code alphabet`},
		{"letter V", "91330782V00000000" + "0", `"V" is not in the code alphabet`},
		{"letter Z", "91330782Z00000000" + "0", `"Z" is not in the code alphabet`},
		{"lower case", strings.ToLower(valid[:10]) + valid[10:], "lower case"},
		{"non ASCII", "913307820000000信", "not ASCII"},
		{"authority code", "B1330782000000000" + "0", `registration-authority code "B"`},
		{"kind not allowed for authority", "94330782000000000" + "0", `kind code "4" is not allowed for registration authority "9"`},
		{"Y only allows 1", "Y2330782000000000" + "0", `kind code "2" is not allowed for registration authority "Y"`},
		{"division has letters", "9133A782000000000" + "0", "must be 6 digits"},
		{"no such province", "91990782000000000" + "0", `division code "990782" does not start with a province code`},
		{"check character", valid[:17] + wrongCheck(valid), "check character is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCreditCode("subject", tt.code)
			var fe *FieldError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != "subject" {
				t.Fatalf("err = %v, want a FieldError for subject", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func wrongCheck(code string) string {
	if code[17] == '3' {
		return "4"
	}
	return "3"
}

// TestCreditCodeCheckErrorNamesExpectedChar pins the message format the
// brief asks for: `subject: check character is "X", want "3" (…)`.
func TestCreditCodeCheckErrorNamesExpectedChar(t *testing.T) {
	prefix := "91330782MA2EXAMPL"
	want, _ := CreditCodeCheckChar(prefix)
	bad := byte('X')
	if want == 'X' {
		bad = 'Y'
	}
	_, err := ParseCreditCode("subject", prefix+string(bad))
	exp := `subject: check character is "` + string(bad) + `", want "` + string(want) + `" (GB 32100-2015 mod 31)`
	if err == nil || err.Error() != exp {
		t.Fatalf("got %v, want %s", err, exp)
	}
}

// TestEnterpriseHomeCountyIsDivisionCode: DESIGN §3, digits 3-8.
func TestEnterpriseHomeCountyIsDivisionCode(t *testing.T) {
	if got := HomeCounty(CompleteCreditCode("92330782MA2EXAMPL")); got != "330782" {
		t.Fatalf("home county %q", got)
	}
	if got := HomeCounty("P" + strings.Repeat("a", 64)); got != "" {
		t.Fatalf("person home county %q", got)
	}
}

// FuzzParseCreditCode: no input panics; an accepted code satisfies every
// GB 32100-2015 rule, and a refused one gets a FieldError for the field.
func FuzzParseCreditCode(f *testing.F) {
	for _, s := range []string{"9144030071526726XG", "91330100716105852F", "", "I", "91330782MA2EXAMPLX", "Y1110000000000000X", "中文中文中文"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCreditCode("subject", s)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "subject" || fe.Rule == "" {
				t.Fatalf("error %v is not a FieldError for subject", err)
			}
			return
		}
		if string(c) != s || len(s) != 18 {
			t.Fatalf("accepted %q as %q", s, c)
		}
		want, err := CreditCodeCheckChar(s[:17])
		if err != nil || want != s[17] {
			t.Fatalf("accepted %q with wrong check char (want %q)", s, want)
		}
		if !IsProvinceCode(s[2:4]) || !strings.ContainsRune(authorityKinds[s[0]], rune(s[1])) {
			t.Fatalf("accepted %q with bad authority/kind/province", s)
		}
	})
}
