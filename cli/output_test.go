package cli

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/json")

// golden compares got with testdata/json/name.json (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "json", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cli -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("-o json output of %s changed: the schema is documented in docs/OPERATOR.md and must stay stable.\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func samplePunishment() *credit.Punishment {
	return &credit.Punishment{
		Header: credit.Header{Kind: "punishment", ID: "PUN-330782-20261123-4f9a0c", Subject: company, County: "330782",
			Department: "market", State: "active", CreatedAt: "2026-11-23T02:00:00Z", CreatedBy: "eDUwOTo6Q049b2ZmaWNlcjEsT1U9Y2xpZW50LE89Q291bnR5MzMwNzgyTVNQOjpDTj1jYQ==",
			UpdatedAt: "2026-11-23T02:00:00Z", TxID: fakeTx},
		PunishmentKind: "publicity", Severity: "general", DecisionDate: credit.MustDate("2026-07-23"),
		DecisionNo: "义市监罚〔2026〕12号", LegalBasis: "《行政许可法》第七十九条", Measures: []string{"procurement", "honours"},
		RuleSet: "ndrc-2019", Repairable: true, MinEnd: credit.MustDate("2026-10-23"), MaxEnd: credit.MustDate("2027-07-23"),
		Revision: 1, DerivedState: "active",
	}
}

// TestJSONOutputIsStable: -o json prints the record exactly as the
// chaincode returns it, and writes wrap it in {"txId","block","record"}.
func TestJSONOutputIsStable(t *testing.T) {
	pun := samplePunishment()
	enf := &credit.Enforcement{Header: header("enforcement", "ENF-330182-20261123-0a1b2c", company), PunishmentID: pun.ID,
		PunishmentCounty: "330782", Measure: "procurement", Date: credit.MustDate("2026-11-23"), DerivedState: "recorded"}
	enf.County, enf.State = "330182", "recorded"
	hist := []credit.HistoryEntry{{TxID: fakeTx, Timestamp: "2026-11-23T02:00:00Z", Record: json.RawMessage(mustJSON(pun))}}
	tests := []struct {
		name string
		run  func(Base) error
		l    *fakeLedger
	}{
		{"punishment-impose", func(b Base) error {
			return runPunishmentImpose(&PunishmentImposeOptions{Base: b, Req: credit.ImposePunishmentRequest{ID: "PUN-330782-20261123-4f9a0c",
				Subject: company, Kind: "publicity", Severity: "general", DecisionDate: "2026-07-23", DecisionNo: "义市监罚〔2026〕12号",
				LegalBasis: "《行政许可法》第七十九条", Measures: []string{"procurement", "honours"}}})
		}, &fakeLedger{}},
		{"punishment-show", func(b Base) error { return runShow(&ShowOptions{Base: b, Kind: "punishment", ID: pun.ID}) },
			&fakeLedger{records: map[string]credit.Record{"punishment/" + pun.ID: pun}}},
		{"punishment-list", func(b Base) error { return runList(&ListOptions{Base: b, Kind: "punishment"}) },
			&fakeLedger{pages: []credit.ListByCountyResult{{Records: credit.Records{pun}}}}},
		{"punishment-list-empty", func(b Base) error { return runList(&ListOptions{Base: b, Kind: "punishment", State: "revoked"}) },
			&fakeLedger{}},
		{"subject-show", func(b Base) error { return runSubjectShow(&SubjectOptions{Base: b, Subject: company}) },
			&fakeLedger{subject: &credit.SubjectRecordsResult{Subject: company, Records: credit.Records{enf, pun}}}},
		{"subject-history", func(b Base) error { return runSubjectHistory(&SubjectOptions{Base: b, Subject: company}) },
			&fakeLedger{subject: &credit.SubjectRecordsResult{Subject: company, Records: credit.Records{pun}},
				history: map[string][]credit.HistoryEntry{"punishment/" + pun.ID: hist}}},
		{"record-history", func(b Base) error { return runRecordHistory(&ShowOptions{Base: b, Kind: "punishment", ID: pun.ID}) },
			&fakeLedger{history: map[string][]credit.HistoryEntry{"punishment/" + pun.ID: hist}}},
		{"tx-status", func(b Base) error { return runTxStatus(&TxStatusOptions{Base: b, TxID: fakeTx}) }, &fakeLedger{txFound: true}},
		{"county-list", func(b Base) error { return runCountyList(&CountyListOptions{Base: b}) }, &fakeLedger{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ios := testBase(tt.l, OutputJSON)
			if err := tt.run(b); err != nil {
				t.Fatal(err)
			}
			if !json.Valid([]byte(outOf(ios))) {
				t.Fatalf("not JSON:\n%s", outOf(ios))
			}
			golden(t, tt.name, outOf(ios))
		})
	}
}

func TestTableAlignsChineseByDisplayWidth(t *testing.T) {
	ios, _, out, _ := Test()
	p := &Printer{IO: ios, Format: OutputTable, Lang: "zh"}
	if err := p.Table([]string{"类别", "编号"}, [][]string{{"失信惩戒", "P-1"}, {"异议", "O-1"}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	col := -1
	for _, l := range lines {
		// the second column starts at the same display column on every line
		i := strings.LastIndex(l, "  ") + 2
		if c := displayWidth(l[:i]); col == -1 {
			col = c
		} else if c != col {
			t.Errorf("misaligned:\n%s", out.String())
		}
	}
	if col != displayWidth("失信惩戒")+2 {
		t.Errorf("second column at %d:\n%s", col, out.String())
	}
}

func TestPlainOutputIsTabSeparatedWithoutHeader(t *testing.T) {
	ios, _, out, _ := Test()
	p := NewPrinter(ios, "", "en") // not a terminal: plain
	if p.Format != OutputPlain {
		t.Fatalf("format %s on a pipe, want plain", p.Format)
	}
	if err := p.Table([]string{"id", "state"}, [][]string{{"P-1", "active"}, {"P-2", "has\ttab"}}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "P-1\tactive\nP-2\thas tab\n" {
		t.Errorf("plain = %q", out.String())
	}
	ios.IsTerminal = true
	if NewPrinter(ios, "", "en").Format != OutputTable {
		t.Error("a terminal gets tables")
	}
}

func TestRecordDisplayShowsWhoCreatedIt(t *testing.T) {
	ios, _, out, _ := Test()
	p := &Printer{IO: ios, Format: OutputTable, Lang: "en"}
	if err := p.WriteRecord(samplePunishment()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "createdBy                  officer1 (County330782MSP)\n") {
		t.Errorf("createdBy not readable:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "measures                   procurement, honours\n") {
		t.Errorf("measures:\n%s", out.String())
	}
}

func TestSubjectProfileInChinese(t *testing.T) {
	l := &fakeLedger{subject: &credit.SubjectRecordsResult{Subject: company, Records: credit.Records{samplePunishment()}}}
	b, ios := testBase(l, OutputTable)
	b.Lang = "zh"
	if err := runSubjectShow(&SubjectOptions{Base: b, Subject: company}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"公示中的惩戒  1", "失信惩戒", "行政处罚信息公示 / 一般失信", "限制参与政府采购、限制评优评先", "公示中"} {
		if !strings.Contains(outOf(ios), want) {
			t.Errorf("profile lacks %q:\n%s", want, outOf(ios))
		}
	}
}
