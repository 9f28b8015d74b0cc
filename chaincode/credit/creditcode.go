package credit

import (
	"fmt"
	"strings"
)

// The unified social credit code (统一社会信用代码), GB 32100-2015:
//
//	pos 1     registration-authority code (登记管理部门代码)
//	pos 2     kind code within that authority (机构类别代码)
//	pos 3-8   administrative division code (登记管理机关行政区划码)
//	pos 9-17  organisation code (主体标识码)
//	pos 18    check character, mod 31 over positions 1-17
const (
	// CreditCodeLen is the length of a unified social credit code.
	CreditCodeLen = 18
	// creditCodeCharset is the code alphabet; a character's value is its
	// index. I, O, S, V and Z are not used.
	creditCodeCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
)

// creditCodeWeights are the weights of positions 1-17 (3^(i-1) mod 31).
var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// authorityKinds lists, per registration-authority code, the kind codes
// GB 32100-2015 allows.
var authorityKinds = map[byte]string{
	'1': "1239", // 机构编制: 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
	'2': "19",   // 外交
	'3': "123459",
	'4': "19",
	'5': "1239", // 民政: 社会团体, 民办非企业单位, 基金会, 其他
	'6': "129",
	'7': "1239",
	'8': "19",
	'9': "123", // 工商: 企业, 个体工商户, 农民专业合作社
	'A': "19",
	'N': "1239",
	'Y': "1",
}

// provinceCodes are the province-level division codes (first two digits of
// GB/T 2260): 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82.
var provinceCodes = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

// IsProvinceCode reports whether p is a province-level division code.
func IsProvinceCode(p string) bool { return provinceCodes[p] }

// CreditCode is a validated unified social credit code.
type CreditCode string

// Division returns the 6-digit administrative division code (positions 3-8),
// the enterprise's home county.
func (c CreditCode) Division() string { return string(c[2:8]) }

// CreditCodeCheckChar computes the GB 32100-2015 check character for the
// first 17 characters of a code. It fails if first17 is not 17 characters of
// the code alphabet.
func CreditCodeCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 characters, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCodeCharset, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("character %d %q is not in the alphabet %s", i+1, string(first17[i]), creditCodeCharset)
		}
		sum += v * creditCodeWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return creditCodeCharset[c], nil
}

// CompleteCreditCode appends the check character to a 17-character prefix;
// tests and the demo use it to build valid codes. It panics on a bad prefix.
func CompleteCreditCode(first17 string) string {
	c, err := CreditCodeCheckChar(first17)
	if err != nil {
		panic("credit: CompleteCreditCode: " + err.Error())
	}
	return first17 + string(c)
}

// ParseCreditCode validates s as a unified social credit code
// (GB 32100-2015). The code must be upper case. Errors are *FieldError
// values for the given field, naming the rule broken, e.g.
//
//	subject: check character is "X", want "3" (GB 32100-2015 mod 31)
func ParseCreditCode(field, s string) (CreditCode, error) {
	if len(s) != CreditCodeLen {
		return "", invalid(field, "a unified social credit code has %d characters, got %d (GB 32100-2015)", CreditCodeLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(creditCodeCharset, s[i]) < 0 {
			ch := s[i]
			if ch >= 'a' && ch <= 'z' {
				return "", invalid(field, "character %d %q is lower case; codes are upper case (GB 32100-2015)", i+1, string(ch))
			}
			if ch >= 0x80 {
				return "", invalid(field, "byte %d is not ASCII; the code alphabet is %s (GB 32100-2015)", i+1, creditCodeCharset)
			}
			return "", invalid(field, "character %d %q is not in the code alphabet %s (no I, O, S, V, Z; GB 32100-2015)", i+1, string(ch), creditCodeCharset)
		}
	}
	kinds, ok := authorityKinds[s[0]]
	if !ok {
		return "", invalid(field, "registration-authority code %q is not one of 1-9, A, N, Y (GB 32100-2015)", string(s[0]))
	}
	if strings.IndexByte(kinds, s[1]) < 0 {
		return "", invalid(field, "kind code %q is not allowed for registration authority %q (allowed: %s; GB 32100-2015)", string(s[1]), string(s[0]), strings.Join(strings.Split(kinds, ""), ", "))
	}
	div := s[2:8]
	for i := 0; i < len(div); i++ {
		if div[i] < '0' || div[i] > '9' {
			return "", invalid(field, "division code %q (positions 3-8) must be 6 digits (GB 32100-2015)", div)
		}
	}
	if !provinceCodes[div[:2]] {
		return "", invalid(field, "division code %q does not start with a province code (GB/T 2260)", div)
	}
	want, _ := CreditCodeCheckChar(s[:17]) // alphabet already checked
	if s[17] != want {
		return "", invalid(field, "check character is %q, want %q (GB 32100-2015 mod 31)", string(s[17]), string(want))
	}
	return CreditCode(s), nil
}
