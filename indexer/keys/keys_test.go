package keys

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// key is what every composite key type implements.
type key interface {
	Encode([]byte) []byte
	String() string
}

func TestKeyRoundTrip(t *testing.T) {
	d := MakeDate(2026, time.November, 23)
	tests := []struct {
		name   string
		key    key
		decode func([]byte) (key, error)
		want   string
	}{
		{"meta", Meta{Name: MetaCheckpoint},
			func(b []byte) (key, error) { var k Meta; return k, k.Decode(b) }, "/meta/checkpoint"},
		{"block", Block{Num: 42},
			func(b []byte) (key, error) { var k Block; return k, k.Decode(b) }, "/block/42"},
		{"mirror composite", Mirror{Key: CompositeKey("commitment", "C-001")},
			func(b []byte) (key, error) { var k Mirror; return k, k.Decode(b) }, "/mirror/commitment{C-001}"},
		{"mirror plain", Mirror{Key: []byte("plain")},
			func(b []byte) (key, error) { var k Mirror; return k, k.Decode(b) }, `/mirror/"plain"`},
		{"history", History{Kind: "punishment", ID: "P-1", Block: 7, Tx: 3},
			func(b []byte) (key, error) { var k History; return k, k.Decode(b) }, "/history/punishment/P-1/7/3"},
		{"by-subject", BySubject{Subject: "91330782MA2EXAMPLE", Kind: "repair", ID: "R-1"},
			func(b []byte) (key, error) { var k BySubject; return k, k.Decode(b) }, "/by-subject/91330782MA2EXAMPLE/repair/R-1"},
		{"by-county", ByCounty{County: "330782", Kind: "punishment", Class: "blacklist", State: "active", ID: "P-1"},
			func(b []byte) (key, error) { var k ByCounty; return k, k.Decode(b) }, "/by-county/330782/punishment/blacklist/active/P-1"},
		{"by-county no class", ByCounty{County: "330782", Kind: "repair", State: "applied", ID: "R-1"},
			func(b []byte) (key, error) { var k ByCounty; return k, k.Decode(b) }, "/by-county/330782/repair/-/applied/R-1"},
		{"due", Due{County: "330782", By: DueDeadline, Date: d, ID: "C-1"},
			func(b []byte) (key, error) { var k Due; return k, k.Decode(b) }, "/due/330782/deadline/2026-11-23/C-1"},
		{"counter", Counter{County: AllCounties, Month: d.Month(), Indicator: ListActive},
			func(b []byte) (key, error) { var k Counter; return k, k.Decode(b) }, "/counter/*/2026-11/list-active"},
		{"facts", Facts{Kind: "commitment", ID: "C\x00odd"},
			func(b []byte) (key, error) { var k Facts; return k, k.Decode(b) }, "/facts/commitment/C\x00odd"},
		{"seen", Seen{County: "330782", Subject: Subject("P" + string(bytes.Repeat([]byte("a"), 64)))},
			func(b []byte) (key, error) { var k Seen; return k, k.Decode(b) }, "/seen/330782/P" + string(bytes.Repeat([]byte("a"), 64))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.key.Encode(nil)
			got, err := tc.decode(enc)
			if err != nil {
				t.Fatalf("decode %x: %v", enc, err)
			}
			if !bytes.Equal(got.Encode(nil), enc) {
				t.Errorf("round trip: got %x, want %x", got.Encode(nil), enc)
			}
			if s := tc.key.String(); s != tc.want {
				t.Errorf("String() = %q, want %q", s, tc.want)
			}
			if s := Format(enc); s != tc.want {
				t.Errorf("Format() = %q, want %q", s, tc.want)
			}
		})
	}
}

// TestKeyOrder checks that encoded keys sort the way the scans rely on.
func TestKeyOrder(t *testing.T) {
	d1 := MakeDate(2026, time.January, 31)
	d2 := MakeDate(2026, time.February, 1)
	tests := []struct {
		name   string
		lo, hi key
	}{
		{"string prefix sorts first", BySubject{Subject: "A", Kind: "x", ID: "1"}, BySubject{Subject: "AB", Kind: "a", ID: "0"}},
		{"zero byte sorts before others", BySubject{Subject: "A\x00", Kind: "z"}, BySubject{Subject: "A\x01", Kind: "a"}},
		{"kind then id", BySubject{Subject: "S", Kind: "commitment", ID: "Z"}, BySubject{Subject: "S", Kind: "punishment", ID: "A"}},
		{"block numeric", History{Kind: "k", ID: "i", Block: 255, Tx: 9}, History{Kind: "k", ID: "i", Block: 256, Tx: 0}},
		{"date numeric", Due{County: "1", By: DueDeadline, Date: d1, ID: "z"}, Due{County: "1", By: DueDeadline, Date: d2, ID: "a"}},
		{"aggregate county first", Counter{County: AllCounties, Month: 209912}, Counter{County: "110101", Month: 200001}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := tc.lo.Encode(nil), tc.hi.Encode(nil)
			if bytes.Compare(lo, hi) >= 0 {
				t.Errorf("%s (%x) does not sort before %s (%x)", tc.lo, lo, tc.hi, hi)
			}
		})
	}
}

func TestPrefixScanStaysInside(t *testing.T) {
	p := HistoryPrefix("commitment", "C-1")
	inside := History{Kind: "commitment", ID: "C-1", Block: 1 << 40, Tx: 7}.Encode(nil)
	outside := History{Kind: "commitment", ID: "C-10", Block: 0, Tx: 0}.Encode(nil)
	end := PrefixEnd(p)
	if !bytes.HasPrefix(inside, p) || bytes.Compare(inside, end) >= 0 {
		t.Errorf("history of C-1 falls outside [%x, %x)", p, end)
	}
	if bytes.HasPrefix(outside, p) {
		t.Errorf("history of C-10 falls inside the prefix of C-1")
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"simple", []byte{1, 2}, []byte{1, 3}},
		{"carry", []byte{1, 0xFF}, []byte{2}},
		{"all ff", []byte{0xFF, 0xFF}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PrefixEnd(tc.in); !bytes.Equal(got, tc.want) {
				t.Errorf("PrefixEnd(%x) = %x, want %x", tc.in, got, tc.want)
			}
		})
	}
}

func TestDecodeCorrupt(t *testing.T) {
	good := ByCounty{County: "330782", Kind: "punishment", Class: "blacklist", State: "active", ID: "P-1"}.Encode(nil)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"wrong prefix", append([]byte{byte(PrefixHistory)}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 'x')},
		{"bad escape", []byte{byte(PrefixByCounty), 'a', 0x00, 0x07}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var k ByCounty
			if err := k.Decode(tc.in); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Decode(%x) error = %v, want ErrCorrupt", tc.in, err)
			}
		})
	}
	var d Date
	if _, err := d.Decode(Date(20244765).Encode(nil)); !errors.Is(err, ErrCorrupt) { // month 47
		t.Errorf("Date.Decode(20244765): %v, want ErrCorrupt", err)
	}
	var ind Indicator
	if _, err := ind.Decode([]byte{0}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Indicator.Decode(0): %v, want ErrCorrupt", err)
	}
}

// TestAddMonths checks the month arithmetic of DESIGN §2.
func TestAddMonths(t *testing.T) {
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"leap day plus a year clamps", "2024-02-29", 12, "2025-02-28"},
		{"month end plus six clamps to leap day", "2023-08-31", 6, "2024-02-29"},
		{"plain", "2026-01-15", 3, "2026-04-15"},
		{"across years", "2026-11-30", 3, "2027-02-28"},
		{"backwards", "2026-03-31", -1, "2026-02-28"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDate(tc.from)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.AddMonths(tc.n).String(); got != tc.want {
				t.Errorf("%s + %d months = %s, want %s", tc.from, tc.n, got, tc.want)
			}
		})
	}
}

// TestDateOfUsesChinaStandardTime checks DESIGN §2: the date of an instant is
// its UTC+8 calendar date.
func TestDateOfUsesChinaStandardTime(t *testing.T) {
	tests := []struct {
		name    string
		instant string
		want    string
	}{
		{"before 16:00 UTC", "2026-11-23T15:59:59Z", "2026-11-23"},
		{"from 16:00 UTC it is tomorrow", "2026-11-23T16:00:00Z", "2026-11-24"},
		{"month boundary", "2026-11-30T16:00:00Z", "2026-12-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := time.Parse(time.RFC3339, tc.instant)
			if err != nil {
				t.Fatal(err)
			}
			if got := DateOf(ts).String(); got != tc.want {
				t.Errorf("DateOf(%s) = %s, want %s", tc.instant, got, tc.want)
			}
		})
	}
}

func TestParseDateMonth(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"ok", "2026-02-28", false},
		{"no such day", "2026-02-29", true},
		{"not a date", "2026/02/01", true},
		{"empty", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDate(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseDate(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err == nil && d.String() != tc.in {
				t.Errorf("ParseDate(%q).String() = %q", tc.in, d)
			}
		})
	}
	m, err := ParseMonth("2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if m.Next().String() != "2027-01" || m.Last().String() != "2026-12-31" || m.First().String() != "2026-12-01" {
		t.Errorf("month helpers: next %s first %s last %s", m.Next(), m.First(), m.Last())
	}
	if _, err := ParseMonth("2026-13"); err == nil {
		t.Errorf("ParseMonth(2026-13) succeeded")
	}
}

func TestCompositeKey(t *testing.T) {
	tests := []struct {
		name  string
		ot    string
		attrs []string
		want  string
	}{
		{"record", "commitment", []string{"C-001"}, "\x00commitment\x00C-001\x00"},
		{"index", "bycounty", []string{"330782", "punishment", "active", "P-1"}, "\x00bycounty\x00330782\x00punishment\x00active\x00P-1\x00"},
		{"object type only", "ruleset", nil, "\x00ruleset\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := CompositeKey(tc.ot, tc.attrs...)
			if string(k) != tc.want {
				t.Fatalf("CompositeKey = %q, want %q", k, tc.want)
			}
			ot, attrs, ok := SplitCompositeKey(k)
			if !ok || ot != tc.ot || !slices.Equal(attrs, tc.attrs) && len(attrs)+len(tc.attrs) > 0 {
				t.Errorf("SplitCompositeKey = %q %q %v", ot, attrs, ok)
			}
		})
	}
	if _, _, ok := SplitCompositeKey([]byte("plain")); ok {
		t.Errorf("plain key split as composite")
	}
}

func ExampleFormat() {
	k := ByCounty{County: "330782", Kind: "punishment", Class: "blacklist", State: "active", ID: "P-2026-001"}
	enc := k.Encode(nil)
	fmt.Printf("%x\n", enc[:8])
	fmt.Println(Format(enc))
	// Output:
	// 0633333037383200
	// /by-county/330782/punishment/blacklist/active/P-2026-001
}

// decodeAny decodes b as whichever key its prefix names and re-encodes it.
func decodeAny(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, ErrCorrupt
	}
	switch Prefix(b[0]) {
	case PrefixMeta:
		var k Meta
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixBlock:
		var k Block
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixMirror:
		var k Mirror
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixHistory:
		var k History
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixBySubject:
		var k BySubject
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixByCounty:
		var k ByCounty
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixDue:
		var k Due
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixCounter:
		var k Counter
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixFacts:
		var k Facts
		err := k.Decode(b)
		return k.Encode(nil), err
	case PrefixSeen:
		var k Seen
		err := k.Decode(b)
		return k.Encode(nil), err
	}
	return nil, ErrCorrupt
}

// FuzzDecode checks that any bytes either fail to decode with ErrCorrupt or
// decode to a key that re-encodes to exactly the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(ByCounty{County: "330782", Kind: "punishment", Class: "blacklist", State: "active", ID: "P-1"}.Encode(nil))
	f.Add(History{Kind: "a\x00b", ID: "", Block: 1, Tx: 2}.Encode(nil))
	f.Add(Due{County: "1", By: DuePublicityEnd, Date: MakeDate(2029, 2, 28), ID: "x"}.Encode(nil))
	f.Add(Counter{County: AllCounties, Month: 202611, Indicator: SubjectsCommitted}.Encode(nil))
	f.Add([]byte{byte(PrefixSeen), 0, 0xFF, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		re, err := decodeAny(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode %x: error %v does not wrap ErrCorrupt", b, err)
			}
			return
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("decode %x then encode = %x", b, re)
		}
		_ = Format(b)
	})
}

// FuzzStringRoundTrip checks that every string survives the escaped
// encoding, that the encoding keeps order, and that a following part is
// returned untouched.
func FuzzStringRoundTrip(f *testing.F) {
	f.Add("C-001", "C-0010")
	f.Add("a\x00", "a\x00\x00")
	f.Add("", "\x00")
	f.Fuzz(func(t *testing.T, a, b string) {
		ea := Subject(a).Encode(nil)
		var got Subject
		rest, err := got.Decode(append(bytes.Clone(ea), 0xAB))
		if err != nil || string(got) != a || !bytes.Equal(rest, []byte{0xAB}) {
			t.Fatalf("round trip %q: got %q rest %x err %v", a, got, rest, err)
		}
		eb := Subject(b).Encode(nil)
		if want, have := cmpStr(a, b), bytes.Compare(ea, eb); want != have {
			t.Fatalf("order of %q and %q: strings %d, encodings %d", a, b, want, have)
		}
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// FuzzDateMonth checks that dates and months built from any numbers either
// are invalid or round-trip through their encoding and String.
func FuzzDateMonth(f *testing.F) {
	f.Add(uint32(20240229))
	f.Add(uint32(202611))
	f.Fuzz(func(t *testing.T, v uint32) {
		d := Date(v)
		var dd Date
		if _, err := dd.Decode(d.Encode(nil)); err == nil {
			p, perr := ParseDate(dd.String())
			if perr != nil || p != d {
				t.Fatalf("date %d: String %q parses to %d, %v", v, dd, p, perr)
			}
		} else if d.Valid() {
			t.Fatalf("valid date %d does not decode: %v", v, err)
		}
		m := Month(v)
		var mm Month
		if _, err := mm.Decode(m.Encode(nil)); err == nil {
			p, perr := ParseMonth(mm.String())
			if perr != nil || p != m {
				t.Fatalf("month %d: String %q parses to %d, %v", v, mm, p, perr)
			}
		}
	})
}
