package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

var company = credit.CompleteCreditCode("91330782MA2K3Y5Q1")

// wantRefusedLocally checks err is bad input naming field and that nothing
// reached the ledger (DESIGN §6: exit 2, nothing sent).
func wantRefusedLocally(t *testing.T, err error, l *fakeLedger, field string) {
	t.Helper()
	if code := ExitCode(err); code != ExitInvalid {
		t.Fatalf("exit %d (%v), want %d", code, err, ExitInvalid)
	}
	var fe *credit.FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Field, field) {
		t.Fatalf("err = %v, want a field error naming %q", err, field)
	}
	if len(l.calls) != 0 {
		t.Fatalf("the ledger was called: %v", l.calls)
	}
}

func TestCommitmentMakeGeneratesIDAndSends(t *testing.T) {
	l := &fakeLedger{}
	b, ios := testBase(l, OutputJSON)
	o := &CommitmentMakeOptions{Base: b, Req: credit.MakeCommitmentRequest{Kind: "missing-materials", Subject: company, Content: "补交材料"},
		Fields: []string{"kind", "subject", "content"}}
	if err := runCommitmentMake(o); err != nil {
		t.Fatal(err)
	}
	if len(l.calls) != 1 || l.calls[0] != "MakeCommitment" {
		t.Fatalf("calls = %v", l.calls)
	}
	req := l.reqs[0].(credit.MakeCommitmentRequest)
	if !regexp.MustCompile(`^CMT-330782-20261123-[0-9a-f]{6}$`).MatchString(req.ID) {
		t.Errorf("generated ID %q", req.ID)
	}
	if !strings.Contains(outOf(ios), `"id": "`+req.ID+`"`) || !strings.Contains(outOf(ios), `"txId": "`+fakeTx+`"`) {
		t.Errorf("output does not carry the ID and transaction:\n%s", outOf(ios))
	}
	if !strings.Contains(errOf(ios), "committed in block 7") {
		t.Errorf("progress = %q", errOf(ios))
	}
	if !l.closed {
		t.Error("ledger connection not closed")
	}
}

func TestCommitmentMakeHashesTheDocumentAndThePerson(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "commitment.pdf")
	writeFile(t, doc, "承诺书")
	l := &fakeLedger{}
	b, _ := testBase(l, OutputPlain)
	o := &CommitmentMakeOptions{Base: b, Req: credit.MakeCommitmentRequest{ID: "CMT-1", Kind: "voluntary", Content: "c", Deadline: "+1m"},
		Fields: []string{"id", "kind", "content", "deadline"}, PersonID: "33078219900101123x", Document: doc}
	if err := runCommitmentMake(o); err != nil {
		t.Fatal(err)
	}
	req := l.reqs[0].(credit.MakeCommitmentRequest)
	sum := sha256.Sum256([]byte("承诺书"))
	if req.ContentHash != hex.EncodeToString(sum[:]) {
		t.Errorf("contentHash = %s", req.ContentHash)
	}
	want, _ := credit.PersonSubject([]byte("test-person-key-0123456789"), "33078219900101123X")
	if req.Subject != want || strings.Contains(mustJSON(req), "330782199001") {
		t.Errorf("subject = %s, want the keyed hash %s and no ID number in the request", req.Subject, want)
	}
	if req.Deadline != "2026-12-23" {
		t.Errorf("deadline +1m from 2026-11-23 = %s", req.Deadline)
	}
}

func TestRequestFileWithFlagsOnTop(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.json")
	writeFile(t, file, `{"id":"PUN-FILE-1","subject":"`+company+`","kind":"publicity","severity":"general",
		"decisionDate":"2026-07-23","decisionNo":"from file","legalBasis":"file basis","measures":["bidding"]}`)
	l := &fakeLedger{}
	b, _ := testBase(l, OutputPlain)
	o := &PunishmentImposeOptions{Base: b, File: file,
		Req: credit.ImposePunishmentRequest{DecisionNo: "from flag", Kind: "ignored: not given"}, Fields: []string{"decisionNo"}}
	if err := runPunishmentImpose(o); err != nil {
		t.Fatal(err)
	}
	req := l.reqs[0].(credit.ImposePunishmentRequest)
	if req.ID != "PUN-FILE-1" || req.DecisionNo != "from flag" || req.Kind != "publicity" || req.LegalBasis != "file basis" {
		t.Errorf("request = %+v", req)
	}
}

func TestRequestFileRefusesUnknownFields(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	writeFile(t, file, `{"id":"CMT-1","kind":"voluntary","subjekt":"x"}`)
	l := &fakeLedger{}
	b, _ := testBase(l, OutputPlain)
	err := runCommitmentMake(&CommitmentMakeOptions{Base: b, File: file})
	wantRefusedLocally(t, err, l, "subjekt")
}

// TestBadInputNeverReachesTheLedger: every refusal the chaincode would
// make on the request alone is made here first, naming the field and the
// flag, and nothing is sent (issue 4: bad input never reaches the network).
func TestBadInputNeverReachesTheLedger(t *testing.T) {
	wrongCheck := company[:17] + "0"
	good := credit.ImposePunishmentRequest{Subject: company, Kind: "publicity", Severity: "general", DecisionDate: "-4m",
		DecisionNo: "N", LegalBasis: "L", Measures: []string{"bidding"}}
	impose := func(f func(*credit.ImposePunishmentRequest)) func(Base) error {
		r := good
		f(&r)
		return func(b Base) error { return runPunishmentImpose(&PunishmentImposeOptions{Base: b, Req: r}) }
	}
	tests := []struct {
		name  string
		run   func(Base) error
		field string
	}{
		{"bad check character names the expected one", impose(func(r *credit.ImposePunishmentRequest) { r.Subject = wrongCheck }), "subject (--subject)"},
		{"future decision date", impose(func(r *credit.ImposePunishmentRequest) { r.DecisionDate = "2026-11-24" }), "decisionDate (--decision-date)"},
		{"relative future decision date", impose(func(r *credit.ImposePunishmentRequest) { r.DecisionDate = "+1d" }), "decisionDate"},
		{"not a date", impose(func(r *credit.ImposePunishmentRequest) { r.DecisionDate = "last week" }), "decisionDate"},
		{"unknown severity", impose(func(r *credit.ImposePunishmentRequest) { r.Severity = "grave" }), "severity (--severity)"},
		{"unknown measure", impose(func(r *credit.ImposePunishmentRequest) { r.Measures = []string{"bidding", "jail"} }), "measures[1] (--measure)"},
		{"no subject", impose(func(r *credit.ImposePunishmentRequest) { r.Subject = "" }), "subject"},
		{"subject and person both", func(b Base) error {
			return runPunishmentImpose(&PunishmentImposeOptions{Base: b, Req: good, PersonID: "1", Fields: []string{"subject"}})
		}, "subject"},
		{"approval commitment without deadline", func(b Base) error {
			return runCommitmentMake(&CommitmentMakeOptions{Base: b, Req: credit.MakeCommitmentRequest{Kind: "approval", Subject: company, Content: "c"}})
		}, "deadline (--deadline)"},
		{"repair evidence document missing", func(b Base) error {
			return runRepairApply(&RepairApplyOptions{Base: b, Req: credit.ApplyRepairRequest{PunishmentID: "PUN-1"},
				Docs: map[string]string{"identity": "/nonexistent/licence.pdf"}})
		}, "evidence.identity (--identity-doc)"},
		{"repair evidence not given", func(b Base) error {
			return runRepairApply(&RepairApplyOptions{Base: b, Req: credit.ApplyRepairRequest{PunishmentID: "PUN-1"}, Docs: map[string]string{}})
		}, "evidence.identity (--identity-doc)"},
		{"enforcement in the future", func(b Base) error {
			return runEnforcementRecord(&EnforcementRecordOptions{Base: b, Req: credit.RecordEnforcementRequest{PunishmentID: "PUN-1", Measure: "bidding", Date: "+2d"}})
		}, "date (--date)"},
		{"breach without reason", func(b Base) error {
			return runCommitmentBreach(&CommitmentCloseOptions{Base: b, ID: "CMT-1"})
		}, "reason (--reason)"},
		{"objection about an enforcement", func(b Base) error {
			return runObjectionRaise(&ObjectionRaiseOptions{Base: b, Req: credit.RaiseObjectionRequest{RecordKind: "enforcement", RecordID: "E-1", Reason: "r"}})
		}, "recordKind (--record-kind)"},
		{"answer with unknown decision", func(b Base) error {
			return runObjectionAnswer(&ObjectionAnswerOptions{Base: b, Req: credit.AnswerObjectionRequest{ID: "OBJ-1", Decision: "maybe", Answer: "a"}})
		}, "decision (--decision)"},
		{"correction in the future", func(b Base) error {
			return runObjectionAnswer(&ObjectionAnswerOptions{Base: b, Req: credit.AnswerObjectionRequest{ID: "OBJ-1", Decision: "upheld",
				Answer: "a", Action: "correct", Correction: &credit.Correction{DecisionDate: "+1d"}}})
		}, "correction.decisionDate"},
		{"show with a malformed ID", func(b Base) error { return runShow(&ShowOptions{Base: b, Kind: "punishment", ID: "x"}) }, "id"},
		{"list of a county that is not a division", func(b Base) error {
			return runList(&ListOptions{Base: b, Kind: "punishment", County: "999999"})
		}, "--of-county"},
		{"county code not a division", func(b Base) error {
			return runCountyRegister(&CountyRegisterOptions{Base: b, Req: credit.RegisterCountyRequest{Code: "12345", Name: "x"}})
		}, "code (--code)"},
		{"tx status of a malformed ID", func(b Base) error { return runTxStatus(&TxStatusOptions{Base: b, TxID: "abc"}) }, "txid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &fakeLedger{}
			b, _ := testBase(l, OutputPlain)
			wantRefusedLocally(t, tt.run(b), l, tt.field)
		})
	}
}

func TestCheckCharacterErrorSaysWhichCharacter(t *testing.T) {
	l := &fakeLedger{}
	b, _ := testBase(l, OutputPlain)
	err := runPunishmentImpose(&PunishmentImposeOptions{Base: b, Req: credit.ImposePunishmentRequest{Subject: company[:17] + "0"}})
	if err == nil || !strings.Contains(err.Error(), `check character is "0", want "`+company[17:]+`"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestRepairCompleteSendsLateEvidenceHashes(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pdf")
	writeFile(t, cert, "培训证明")
	l := &fakeLedger{}
	b, _ := testBase(l, OutputPlain)
	if err := runRepairComplete(&RepairOptions{Base: b, ID: "REP-1", Docs: map[string]string{"training": cert}}); err != nil {
		t.Fatal(err)
	}
	req := l.reqs[0].(credit.CompleteRepairRequest)
	sum := sha256.Sum256([]byte("培训证明"))
	if req.Evidence == nil || req.Evidence.Training != hex.EncodeToString(sum[:]) || req.Evidence.CreditReport != "" {
		t.Fatalf("request = %+v", req)
	}
}

func TestObjectionAnswerCorrectionImpliesCorrectAction(t *testing.T) {
	l := &fakeLedger{}
	b, _ := testBase(l, OutputPlain)
	err := runObjectionAnswer(&ObjectionAnswerOptions{Base: b, Fields: []string{"id", "decision", "answer", "correction"},
		Req: credit.AnswerObjectionRequest{ID: "OBJ-1", Decision: "upheld", Answer: "更正", Correction: &credit.Correction{DecisionDate: "-2m"}}})
	if err != nil {
		t.Fatal(err)
	}
	req := l.reqs[0].(credit.AnswerObjectionRequest)
	if req.Action != "correct" || req.Correction.DecisionDate != "2026-09-23" {
		t.Fatalf("request = %+v, correction %+v", req, req.Correction)
	}
}

func TestListPagesUntilTheBookmarkEnds(t *testing.T) {
	p := func(id string) credit.Record {
		return &credit.Punishment{Header: header("punishment", id, company), PunishmentKind: "publicity", Severity: "general", Measures: []string{}}
	}
	l := &fakeLedger{pages: []credit.ListByCountyResult{
		{Records: credit.Records{p("P-1"), p("P-2")}, Bookmark: "b1"},
		{Records: credit.Records{p("P-3")}, Bookmark: ""},
	}}
	b, ios := testBase(l, OutputPlain)
	if err := runList(&ListOptions{Base: b, Kind: "punishment", State: "active"}); err != nil {
		t.Fatal(err)
	}
	if len(l.calls) != 2 {
		t.Fatalf("calls = %v", l.calls)
	}
	second := l.reqs[1].(credit.ListByCountyRequest)
	if second.Bookmark != "b1" || second.County != "330782" || second.State != "active" {
		t.Errorf("second page request = %+v", second)
	}
	if lines := strings.Count(outOf(ios), "\n"); lines != 3 {
		t.Errorf("plain output has %d lines, want 3 (no header):\n%s", lines, outOf(ios))
	}

	l = &fakeLedger{pages: l.pages}
	b, ios = testBase(l, OutputPlain)
	if err := runList(&ListOptions{Base: b, Kind: "punishment", Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if len(l.calls) != 1 || strings.Count(outOf(ios), "\n") != 1 {
		t.Errorf("--limit 1: calls %v, output %q", l.calls, outOf(ios))
	}
}

func TestTxStatusExitCodes(t *testing.T) {
	tests := []struct {
		name  string
		found bool
		code  int32
		want  int
	}{
		{"valid", true, 0, ExitOK},
		{"invalidated", true, 11, ExitRefused}, // MVCC_READ_CONFLICT
		{"not on the ledger", false, 0, ExitNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &fakeLedger{txFound: tt.found}
			l.txCode = 0
			if tt.code != 0 {
				l.txCode = 11
			}
			b, ios := testBase(l, OutputJSON)
			err := runTxStatus(&TxStatusOptions{Base: b, TxID: fakeTx})
			if got := ExitCode(err); got != tt.want {
				t.Fatalf("exit %d (%v), want %d", got, err, tt.want)
			}
			if !strings.Contains(outOf(ios), `"txId": "`+fakeTx+`"`) {
				t.Errorf("output = %s", outOf(ios))
			}
		})
	}
}

func TestParseDateArg(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-07-23", "2026-07-23"},
		{"today", "2026-11-23"},
		{"yesterday", "2026-11-22"},
		{"-4m", "2026-07-23"},
		{"-1m", "2026-10-23"},
		{"-10d", "2026-11-13"},
		{"-2w", "2026-11-09"},
		{"-1y", "2025-11-23"},
		{"+7d", "2026-11-30"},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := parseDateArg("date", tt.in, fixedNow)
		if err != nil || got != tt.want {
			t.Errorf("parseDateArg(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"2026-02-30", "-4x", "4 months ago", "2026/07/23"} {
		if _, err := parseDateArg("decisionDate", bad, fixedNow); !errors.Is(err, credit.ErrInvalid) {
			t.Errorf("parseDateArg(%q) err = %v, want invalid", bad, err)
		}
	}
}

// TestMonthsAgoIsTheLedgersArithmetic: "-4m" uses the ledger's month
// arithmetic (DESIGN §2: clamped to the month's last day).
func TestMonthsAgoIsTheLedgersArithmetic(t *testing.T) {
	now := fixedNow.AddDate(0, 0, 7) // 2026-11-30
	got, _ := parseDateArg("d", "-9m", now)
	if got != "2026-02-28" {
		t.Errorf("-9m from 2026-11-30 = %s, want 2026-02-28", got)
	}
}

func TestPersonKeyFile(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	writeFile(t, short, "too short\n")
	good := filepath.Join(dir, "good.key")
	writeFile(t, good, "  a-channel-wide-person-key-of-32-bytes \n")
	for _, tt := range []struct {
		name, file string
		ok         bool
	}{{"unset", "", false}, {"missing", filepath.Join(dir, "none"), false}, {"short", short, false}, {"good", good, true}} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			f := &Factory{IO: ios, Getenv: func(k string) string {
				if k == "CREDITCTL_PERSON_KEY_FILE" {
					return tt.file
				}
				return ""
			}}
			key, err := f.personKey()
			if tt.ok != (err == nil) {
				t.Fatalf("key %q, err %v", key, err)
			}
			if tt.ok && string(key) != "a-channel-wide-person-key-of-32-bytes" {
				t.Errorf("key = %q (white space must be trimmed)", key)
			}
			if !tt.ok && !errors.Is(err, credit.ErrInvalid) {
				t.Errorf("err = %v, want invalid input", err)
			}
		})
	}
}
