package indexer

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// sameRecord reports whether two decodings agree: the same record and the
// same error text.
func sameRecord(got credit.Record, err error, want credit.Record, werr error) string {
	switch {
	case (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error():
		return fmt.Sprintf("error %v, the strict decoder's %v", err, werr)
	case err != nil && !errors.Is(err, ErrRecord):
		return fmt.Sprintf("error %v does not wrap ErrRecord", err)
	case !reflect.DeepEqual(got, want):
		return fmt.Sprintf("record %+v, the strict decoder's %+v", got, want)
	}
	return ""
}

// TestDecodeRecordValueReadsChaincodeRecords: every record the chaincode
// wrote in the fixtures and the workload (every family and state) is
// decoded by the lookup decoder, without the strict decoder, into the same
// record as encoding/json gives.
func TestDecodeRecordValueReadsChaincodeRecords(t *testing.T) {
	vals := recordValues(t)
	kinds := map[string]int{}
	for _, v := range vals {
		kind, id, value := v[0], v[1], v[2]
		if _, ok := fastDecodeRecord(kind, value); !ok {
			t.Fatalf("%s %s: the decoder left it to the strict decoder: %s", kind, id, value)
		}
		got, err := decodeRecordValue(kind, id, value)
		want, werr := decodeRecord(kind, id, []byte(value))
		if werr != nil {
			t.Fatalf("%s %s: %v", kind, id, werr)
		}
		if d := sameRecord(got, err, want, werr); d != "" {
			t.Fatalf("%s %s: %s", kind, id, d)
		}
		kinds[kind]++
	}
	for _, kind := range credit.RecordKinds {
		if kinds[kind] == 0 {
			t.Errorf("no %s record in the fixtures", kind)
		}
	}
	t.Logf("%d records: %v", len(vals), kinds)
}

// TestDecodeRecordValueLeavesDoubtToStrict: values the decoder cannot vouch
// for go to the strict decoder, so that lookups (decodeRecordValue) and
// ingest (decodeRecordFields) return and refuse exactly what encoding/json
// does, with the same words.
func TestDecodeRecordValueLeavesDoubtToStrict(t *testing.T) {
	const c = `{"kind":"commitment","id":"C1","subject":"S","county":"330782","state":"made","commitmentKind":"approval","deadline":"2026-03-01"`
	tests := []struct {
		name, kind, value string
		fast              bool   // the decoder reads it
		err               string // the error decodeRecordValue gives ("" none)
	}{
		{"plain", "commitment", c + `}`, true, ""},
		{"white space", "commitment", " \n" + strings.ReplaceAll(c, ":", " : ") + " }\t", true, ""},
		{"fields out of order", "commitment", `{"state":"made","id":"C1","county":"330782","kind":"commitment","subject":"S"}`, true, ""},
		{"every type", "punishment", `{"kind":"punishment","id":"P1","subject":"S","county":"330782","state":"active","punishmentKind":"blacklist","severity":"serious","measures":["a","b\n"],"repairable":true,"requiresTrainingAndReport":false,"revision":-3,"minEnd":"","maxEnd":"2027-01-31","summary":"\u4e2d\"x\" \u0026 \/ \b\f\r\t\\"}`, true, ""},
		{"empty list", "punishment", `{"kind":"punishment","id":"P1","subject":"S","county":"330782","state":"active","measures":[],"maxEnd":"2027-01-31"}`, true, ""},
		{"calendars", "commitment", c + `,"calendars":["2026","2027:weekends-only"]}`, true, ""},
		{"nested evidence", "repair", `{"kind":"repair","id":"R1","subject":"S","county":"330782","state":"applied","severity":"serious","evidence":{"identity":"a","training":"h"}}`, true, ""},
		{"correction object", "objection", `{"kind":"objection","id":"O1","subject":"S","county":"330782","state":"upheld","correction":{"measures":[],"severity":"general"}}`, true, ""},
		{"empty correction", "objection", `{"kind":"objection","id":"O1","subject":"S","county":"330782","state":"upheld","correction":{}}`, true, ""},
		{"stored derived state", "commitment", c + `,"derivedState":"overdue"}`, true, ""},
		{"no kind", "commitment", `{"id":"C1"}`, true, "field kind: is \"\", the key says \"commitment\""},
		{"id not the key's", "commitment", strings.Replace(c, `"id":"C1"`, `"id":"C2"`, 1) + `}`, true, "field id: is \"C2\", the key says \"C1\""},
		{"no state", "commitment", strings.Replace(c, `"state":"made"`, `"state":""`, 1) + `}`, true, "field state: required"},
		{"punishment without maxEnd", "punishment", `{"kind":"punishment","id":"C1","subject":"S","county":"330782","state":"active"}`, true, "field maxEnd: required"},
		{"field name in another case", "commitment", strings.Replace(c, `"subject"`, `"Subject"`, 1) + `}`, false, ""},
		{"unknown field", "commitment", c + `,"extra":{"x":[1,null]}}`, false, ""},
		{"field json ignores", "punishment", `{"kind":"punishment","id":"C1","subject":"S","county":"330782","state":"active","maxEnd":"2027-01-31","OpenRepairID":"R"}`, false, ""},
		{"repeated field", "commitment", c + `,"subject":"T"}`, false, ""},
		{"escape in a name", "commitment", strings.Replace(c, `"subject"`, `"subj\u0065ct"`, 1) + `}`, false, ""},
		{"surrogate pair", "commitment", c + `,"content":"\ud83d\ude00"}`, false, ""},
		{"lone surrogate", "commitment", c + `,"content":"\ud83d"}`, false, ""},
		{"invalid UTF-8", "commitment", strings.Replace(c, `"subject":"S"`, "\"subject\":\"S\xff\"", 1) + `}`, false, ""},
		{"escaped date", "commitment", strings.Replace(c, `2026-03-01`, `2026\u002d03-01`, 1) + `}`, false, ""},
		{"null", "commitment", strings.Replace(c, `"state":"made"`, `"state":null`, 1) + `}`, false, "field state: required"},
		{"null list", "punishment", `{"kind":"punishment","id":"C1","subject":"S","county":"330782","state":"active","maxEnd":"2027-01-31","measures":null}`, false, ""},
		{"null correction", "objection", `{"kind":"objection","id":"O1","subject":"S","county":"330782","state":"upheld","correction":null}`, false, ""},
		{"number for a string", "commitment", c + `,"content":5}`, false, "cannot unmarshal number"},
		{"fraction for an int", "punishment", `{"kind":"punishment","id":"C1","revision":1.5}`, false, "cannot unmarshal number 1.5"},
		{"int too large", "punishment", `{"kind":"punishment","id":"C1","revision":99999999999999999999}`, false, "cannot unmarshal number"},
		{"bad date", "commitment", strings.Replace(c, `2026-03-01`, `2026-02-30`, 1) + `}`, false, "not a valid date"},
		{"year out of range", "commitment", strings.Replace(c, `2026-03-01`, `2300-03-01`, 1) + `}`, false, "year must be between"},
		{"truncated", "commitment", c, false, "unexpected end of JSON input"},
		{"trailing data", "commitment", c + `}x`, false, "invalid character 'x' after top-level value"},
		{"control character in a string", "commitment", c + ",\"content\":\"a\tb\"}", false, "invalid character"},
		{"not an object", "commitment", `["commitment"]`, false, "cannot unmarshal array"},
		{"not a record kind", "county", `{"kind":"county","id":"C1"}`, false, "is not a record kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "C1"
			for _, p := range []string{"P1", "R1", "O1"} {
				if strings.Contains(tt.value, `"id":"`+p+`"`) {
					id = p
				}
			}
			if _, fast := fastDecodeRecord(tt.kind, tt.value); fast != tt.fast {
				t.Errorf("read by the decoder = %v, want %v", fast, tt.fast)
			}
			got, err := decodeRecordValue(tt.kind, id, tt.value)
			want, werr := decodeRecord(tt.kind, id, []byte(tt.value))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			}
			if d := sameRecord(got, err, want, werr); d != "" {
				t.Fatal(d)
			}
			// Ingest's fields: the same fields, or the same error.
			gf, ferr := decodeRecordFields(tt.kind, id, []byte(tt.value))
			wf, wferr := strictFields(tt.kind, id, []byte(tt.value))
			switch {
			case ferr != nil && !errors.Is(ferr, ErrRecord):
				t.Fatalf("fields: error %v does not wrap ErrRecord", ferr)
			case (ferr == nil) != (wferr == nil) || ferr != nil && ferr.Error() != wferr.Error():
				t.Fatalf("fields: error %v, the strict decoder's %v", ferr, wferr)
			case gf != wf:
				t.Fatalf("fields %+v, the strict decoder's %+v", gf, wf)
			}
		})
	}
}

// TestParseDateAgreesWithCredit: every date the lookup decoder reads
// itself is one credit.ParseDate reads, to the same Date; around the year
// bounds, leap days and month ends, and every malformed shape tried.
func TestParseDateAgreesWithCredit(t *testing.T) {
	var tried, read int
	check := func(s string) {
		tried++
		got, ok := parseDate(s)
		want, err := credit.ParseDate(s)
		if ok {
			read++
			if err != nil || got != want {
				t.Fatalf("parseDate(%q) = %v; credit.ParseDate: %v, %v", s, got, want, err)
			}
		}
	}
	for _, y := range []int{1899, 1900, 1901, 2000, 2023, 2024, 2025, 2026, 2100, 2199, 2200} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				check(fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
	for day := time.Date(1899, 12, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2201; day = day.AddDate(0, 0, 1) {
		s := day.Format(time.DateOnly)
		check(s)
		if _, ok := parseDate(s); !ok && day.Year() >= 1900 && day.Year() <= 2199 {
			t.Fatalf("parseDate(%q) refused a valid date", s)
		}
	}
	for _, s := range []string{"", "2026-1-01", "2026-01-1", "2026/01/01", "+026-01-01", "-026-01-01", "2026-+1-01",
		"2026-01-+1", "2026-01-01 ", " 2026-01-01", "20260-1-01", "2026-01-0a", "2026-0a-01", "202a-01-01", "２026-01-01"} {
		check(s)
	}
	t.Logf("%d strings, %d read", tried, read)
}

// subjectProfileRowByRow is SubjectProfile as it was before the two-pass
// read (a Get and encoding/json for each row): the reference the new read
// must agree with.
func subjectProfileRowByRow(db *DB, subject string, asOf credit.Date) (*Profile, error) {
	if _, err := credit.ParseSubject("subject", subject); err != nil {
		return nil, fmt.Errorf("subject profile: %w", err)
	}
	if err := checkAsOf(asOf); err != nil {
		return nil, fmt.Errorf("subject profile: %w", err)
	}
	p := &Profile{Subject: subject, AsOf: asOf, Records: []credit.Record{}}
	err := db.view(func(s *pebble.Snapshot) error {
		v, err := getFrom(s, keys.Meta{Name: keys.MetaCheckpoint}.Encode(nil))
		if err != nil {
			return err
		}
		if v != nil {
			cp, err := decodeCheckpoint(v)
			if err != nil {
				return err
			}
			p.Height = cp.Block + 1
		}
		prefix := keys.BySubjectPrefix(keys.Subject(subject))
		return scan(s, prefix, keys.PrefixEnd(prefix), func(k, _ []byte) error {
			var bs keys.BySubject
			if err := bs.Decode(k); err != nil {
				return err
			}
			rec, err := loadRecord(s, string(bs.Kind), string(bs.ID), asOf)
			if err != nil {
				return err
			}
			if rec == nil {
				return fmt.Errorf("index lists %s %s under %s but the record is not mirrored", bs.Kind, bs.ID, subject)
			}
			p.Records = append(p.Records, rec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("subject profile %s: %w", subject, err)
	}
	return p, nil
}

// sameProfile compares SubjectProfile with the row-by-row reference.
func sameProfile(t *testing.T, db *DB, subject string, asOf credit.Date) (records int) {
	t.Helper()
	got, err := db.SubjectProfile(subject, asOf)
	want, werr := subjectProfileRowByRow(db, subject, asOf)
	switch {
	case (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error():
		t.Fatalf("%s as of %s: error %v, row by row %v", subject, asOf, err, werr)
	case !reflect.DeepEqual(got, want):
		t.Fatalf("%s as of %s:\n got %+v\nwant %+v", subject, asOf, got, want)
	case err == nil && got.Records == nil:
		t.Fatalf("%s: nil records (JSON null), want an empty list", subject)
	}
	if err != nil {
		return 0
	}
	return len(got.Records)
}

// TestSubjectRecordsMatchRowByRow: on the fixture blocks (real network
// and synthetic) and a generated workload, every subject's profile, at
// as-of dates either side of its deadlines and publicity ends, is what the
// row-by-row read gives: same records, derived states, order, height.
func TestSubjectRecordsMatchRowByRow(t *testing.T) {
	for _, dir := range []string{"testdata/blocks/network", "testdata/blocks/synthetic", "workload"} {
		t.Run(dir, func(t *testing.T) {
			db, err := Open("idx", Options{FS: vfs.NewMem()})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if dir == "workload" {
				w := newWorkload(t, 7, 80)
				for range 25 {
					w.block(30)
				}
				for _, b := range w.blocks {
					if _, err := db.Apply(b); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				bs, err := ReadBlockDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range bs {
					if _, err := db.Apply(b); err != nil {
						t.Fatal(err)
					}
				}
			}
			subjects := indexedSubjects(t, db)
			dates := []credit.Date{credit.NewDate(2024, 1, 1), credit.NewDate(2025, 6, 1), credit.NewDate(2026, 2, 15),
				credit.NewDate(2026, 2, 16), credit.NewDate(2027, 1, 1), credit.NewDate(2031, 1, 1)}
			n := 0
			for _, s := range subjects {
				for _, d := range dates {
					n += sameProfile(t, db, s, d)
				}
			}
			sameProfile(t, db, credit.CompleteCreditCode("91330782MA2N0NEX1"), dates[0])
			if n == 0 {
				t.Fatal("no records compared")
			}
			t.Logf("%d subjects, %d records compared", len(subjects), n)
		})
	}
}

// indexedSubjects lists the subjects of the by-subject index.
func indexedSubjects(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	err := db.view(func(s *pebble.Snapshot) error {
		p := []byte{byte(keys.PrefixBySubject)}
		return scan(s, p, keys.PrefixEnd(p), func(k, _ []byte) error {
			var bs keys.BySubject
			if err := bs.Decode(k); err != nil {
				return err
			}
			if len(out) == 0 || out[len(out)-1] != string(bs.Subject) {
				out = append(out, string(bs.Subject))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSubjectRecordsCorruptIndex: an index whose rows the first pass
// cannot read plainly — records over several chunks, an escaped ID, a
// kind that is not a record kind, a record not mirrored, a value that is
// not JSON or names another ID, a corrupt by-subject key or checkpoint —
// gives the profile, or the error, that the row-by-row read gives.
func TestSubjectRecordsCorruptIndex(t *testing.T) {
	const subject = "91330782MA2B000023"
	asOf := credit.NewDate(2026, 2, 1)
	commitment := func(id string) string {
		jid, _ := json.Marshal(id)
		return fmt.Sprintf(`{"kind":"commitment","id":%s,"subject":%q,"county":"330782","state":"made","commitmentKind":"approval","content":"c","deadline":"2026-01-15"}`, jid, subject)
	}
	type row struct{ kind, id, value string } // value "" is not mirrored
	many := func(n int) []row {
		var rs []row
		for i := range n {
			id := fmt.Sprintf("C-%03d", i)
			rs = append(rs, row{"commitment", id, commitment(id)})
		}
		return rs
	}
	tests := []struct {
		name string
		rows []row
		raw  func(db *DB) error // more rows, written as they are
		err  string             // "" no error
	}{
		{"none", nil, nil, ""},
		{"one", many(1), nil, ""},
		{"one chunk", many(profileChunk), nil, ""},
		{"several chunks", many(2*profileChunk + 5), nil, ""},
		{"escaped ID", append(many(3), row{"commitment", "C-\x00x", commitment("C-\x00x")}, row{"commitment", "C-z", commitment("C-z")}), nil, ""},
		{"long IDs", []row{{"commitment", strings.Repeat("L", 300), commitment(strings.Repeat("L", 300))}, {"commitment", strings.Repeat("M", 2000), commitment(strings.Repeat("M", 2000))}}, nil, ""},
		{"escaped content", append(many(2), row{"commitment", "C-e", strings.Replace(commitment("C-e"), `"c"`, `"a \u0026 \"b\""`, 1)}), nil, ""},
		{"not mirrored", append(many(40), row{"commitment", "C-041", ""}), nil, "not mirrored"},
		{"not a record kind", append(many(2), row{"county", "330782", `{"kind":"county"}`}), nil, "is not a record kind"},
		{"not JSON", append(many(35), row{"commitment", "C-bad", "{"}, row{"commitment", "C-bae", ""}), nil, "unexpected end of JSON input"},
		{"another ID", append(many(2), row{"commitment", "C-x", commitment("C-y")}), nil, `field id: is "C-y", the key says "C-x"`},
		{"corrupt by-subject key", many(3), func(db *DB) error {
			k := append(keys.BySubjectPrefix(subject), "commitment\x00\x01C-zz\x00\x01junk"...)
			return db.pdb.Set(k, []byte("330782"), pebble.Sync)
		}, "corrupt index key"},
		{"corrupt checkpoint", many(3), func(db *DB) error {
			return db.pdb.Set(keys.Meta{Name: keys.MetaCheckpoint}.Encode(nil), []byte{1, 0x80}, pebble.Sync)
		}, "decode checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open("idx", Options{FS: vfs.NewMem()})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, r := range tt.rows {
				bs := keys.BySubject{Subject: subject, Kind: keys.Kind(r.kind), ID: keys.ID(r.id)}.Encode(nil)
				if err := db.pdb.Set(bs, []byte("330782"), pebble.Sync); err != nil {
					t.Fatal(err)
				}
				if r.value != "" {
					mk := keys.Mirror{Key: keys.CompositeKey(r.kind, r.id)}.Encode(nil)
					if err := db.pdb.Set(mk, []byte(r.value), pebble.Sync); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tt.raw != nil {
				if err := tt.raw(db); err != nil {
					t.Fatal(err)
				}
			}
			n := sameProfile(t, db, subject, asOf)
			_, err = db.SubjectProfile(subject, asOf)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			case tt.err == "" && n != len(tt.rows):
				t.Fatalf("%d records, want %d", n, len(tt.rows))
			}
		})
	}
}

// TestMirrorKeyAndBySubjectSplit: the first pass's key handling is the
// keys package's: the mirror key it builds is keys.Mirror's, and it splits
// a by-subject key as BySubject.Decode does, or declines.
func TestMirrorKeyAndBySubjectSplit(t *testing.T) {
	for _, kind := range append(credit.RecordKinds, "county", "", "commitment\x00") {
		for _, id := range []string{"C-1", "", "a\x00b", "\x00", "\x01", "\xff", "P-2.breach", strings.Repeat("x", 200)} {
			want := keys.Mirror{Key: keys.CompositeKey(kind, id)}.Encode(nil)
			if got := appendMirrorKey(nil, kind, []byte(id)); string(got) != string(want) {
				t.Errorf("mirror key of %q %q: %x, want %x", kind, id, got, want)
			}
			k := keys.BySubject{Subject: "S", Kind: keys.Kind(kind), ID: keys.ID(id)}.Encode(nil)
			prefix := keys.BySubjectPrefix("S")
			gotKind, gotID, ok := splitBySubject(k[len(prefix):])
			var bs keys.BySubject
			if err := bs.Decode(k); err != nil {
				t.Fatal(err)
			}
			plain := credit.IsRecordKind(kind) && !strings.Contains(id, "\x00")
			if ok != plain || ok && (gotKind != string(bs.Kind) || string(gotID) != string(bs.ID)) {
				t.Errorf("split %q %q: %q %q %v, want %q %q %v", kind, id, gotKind, gotID, ok, bs.Kind, bs.ID, plain)
			}
		}
	}
}

// TestPrefixEnd: prefixEnd is keys.PrefixEnd.
func TestPrefixEnd(t *testing.T) {
	for _, p := range []string{"", "\x00", "a", "a\xff", "\xff\xff", "a\x00\x01", string(keys.BySubjectPrefix("91330782MA2B000023"))} {
		want := keys.PrefixEnd([]byte(p))
		if got := prefixEnd([]byte(p)); string(got) != string(want) || (got == nil) != (want == nil) {
			t.Errorf("prefixEnd(%q) = %q, want %q", p, got, want)
		}
	}
}

// FuzzDecodeRecordValue: whatever the value, a lookup's decoding of a
// record agrees with the strict decoder's: the same record, or the same
// error.
func FuzzDecodeRecordValue(f *testing.F) {
	for i, v := range recordValues(f) {
		if i%7 == 0 {
			f.Add(v[0], v[1], v[2])
		}
	}
	f.Add("punishment", "P1", `{"kind":"punishment","id":"P1","subject":"S","county":"330782","state":"active","measures":["a","b\n"],"repairable":true,"revision":-3,"minEnd":"","maxEnd":"2027-01-31","summary":"\u4e2d\"x\""}`)
	f.Add("objection", "O1", `{"kind":"objection","id":"O1","subject":"S","county":"330782","state":"upheld","correction":{"measures":[],"severity":"general"}}`)
	f.Add("repair", "R1", `{"kind":"repair","id":"R1","subject":"S","county":"330782","state":"applied","evidence":{"identity":"a","training":"h"}}`)
	f.Add("commitment", "C1", `{"kind":"commitment","id":"C1","subject":"S","county":"330782","state":"made","deadline":"2024-02-29","content":"\ud83d\ude00 \u00e9"}`)
	f.Fuzz(func(t *testing.T, kind, id, value string) {
		got, err := decodeRecordValue(kind, id, value)
		want, werr := decodeRecord(kind, id, []byte(value))
		if d := sameRecord(got, err, want, werr); d != "" {
			t.Fatal(d)
		}
	})
}
