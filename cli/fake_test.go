package cli

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
)

// fakeLedger records every call and answers from its fields. A write
// returns the record it would create (built from the request), in block 7
// with transaction ID fakeTx; err, when set, is returned by every call.
type fakeLedger struct {
	calls   []string
	reqs    []any
	err     error
	records map[string]credit.Record // GetRecord by kind/id
	subject *credit.SubjectRecordsResult
	pages   []credit.ListByCountyResult
	history map[string][]credit.HistoryEntry
	rules   []credit.RuleSet
	cal     *credit.Calendar
	txCode  peer.TxValidationCode
	txFound bool
	closed  bool
}

const fakeTx = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

var fakeResult = client.Result{TxID: fakeTx, BlockNumber: 7, Attempts: 1}

// fixedNow is the pinned clock of the tests: 2026-11-23 10:00 in UTC+8.
var fixedNow = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

func (f *fakeLedger) record(name string, req any) error {
	f.calls = append(f.calls, name)
	f.reqs = append(f.reqs, req)
	return f.err
}

func header(kind, id, subject string) credit.Header {
	return credit.Header{Kind: kind, ID: id, Subject: subject, County: "330782", Department: "market",
		State: "made", CreatedAt: "2026-11-23T02:00:00Z", CreatedBy: "officer1", UpdatedAt: "2026-11-23T02:00:00Z", TxID: fakeTx}
}

func (f *fakeLedger) RegisterCounty(_ context.Context, r credit.RegisterCountyRequest) (*credit.County, client.Result, error) {
	if err := f.record("RegisterCounty", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.County{Kind: "county", Code: r.Code, Name: r.Name, MSPID: "County" + r.Code + "MSP"}, fakeResult, nil
}

func (f *fakeLedger) InstallRuleSet(_ context.Context, r credit.RuleSet) (*credit.RuleSet, client.Result, error) {
	if err := f.record("InstallRuleSet", r); err != nil {
		return nil, client.Result{}, err
	}
	return &r, fakeResult, nil
}

func (f *fakeLedger) InstallCalendar(_ context.Context, c credit.Calendar) (*credit.Calendar, client.Result, error) {
	if err := f.record("InstallCalendar", c); err != nil {
		return nil, client.Result{}, err
	}
	return &c, fakeResult, nil
}

func (f *fakeLedger) MakeCommitment(_ context.Context, r credit.MakeCommitmentRequest) (*credit.Commitment, client.Result, error) {
	if err := f.record("MakeCommitment", r); err != nil {
		return nil, client.Result{}, err
	}
	c := &credit.Commitment{Header: header("commitment", r.ID, r.Subject), CommitmentKind: r.Kind, Content: r.Content,
		ContentHash: r.ContentHash, MadeOn: credit.MustDate("2026-11-23")}
	if r.Deadline != "" {
		c.Deadline = credit.MustDate(r.Deadline)
	}
	return c, fakeResult, nil
}

func (f *fakeLedger) FulfilCommitment(_ context.Context, r credit.FulfilCommitmentRequest) (*credit.Commitment, client.Result, error) {
	if err := f.record("FulfilCommitment", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Commitment{Header: header("commitment", r.ID, "S"), Note: r.Note}, fakeResult, nil
}

func (f *fakeLedger) BreachCommitment(_ context.Context, r credit.BreachCommitmentRequest) (*credit.Commitment, client.Result, error) {
	if err := f.record("BreachCommitment", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Commitment{Header: header("commitment", r.ID, "S"), BreachReason: r.Reason}, fakeResult, nil
}

func (f *fakeLedger) ImposePunishment(_ context.Context, r credit.ImposePunishmentRequest) (*credit.Punishment, client.Result, error) {
	if err := f.record("ImposePunishment", r); err != nil {
		return nil, client.Result{}, err
	}
	p := &credit.Punishment{Header: header("punishment", r.ID, r.Subject), PunishmentKind: r.Kind, Severity: r.Severity,
		DecisionDate: credit.MustDate(r.DecisionDate), DecisionNo: r.DecisionNo, LegalBasis: r.LegalBasis, Measures: r.Measures,
		RuleSet: "ndrc-2019", Repairable: true, Revision: 1}
	p.State = credit.StateActive
	p.MinEnd, p.MaxEnd = p.DecisionDate.AddMonths(3), p.DecisionDate.AddMonths(12)
	return p, fakeResult, nil
}

func (f *fakeLedger) RevokePunishment(_ context.Context, r credit.RevokePunishmentRequest) (*credit.Punishment, client.Result, error) {
	if err := f.record("RevokePunishment", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Punishment{Header: header("punishment", r.ID, "S"), RevokeReason: r.Reason, Measures: []string{}}, fakeResult, nil
}

func (f *fakeLedger) RecordEnforcement(_ context.Context, r credit.RecordEnforcementRequest) (*credit.Enforcement, client.Result, error) {
	if err := f.record("RecordEnforcement", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Enforcement{Header: header("enforcement", r.ID, "S"), PunishmentID: r.PunishmentID, Measure: r.Measure,
		Date: credit.MustDate(r.Date), Detail: r.Detail}, fakeResult, nil
}

func (f *fakeLedger) ApplyRepair(_ context.Context, r credit.ApplyRepairRequest) (*credit.Repair, client.Result, error) {
	if err := f.record("ApplyRepair", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Repair{Header: header("repair", r.ID, "S"), PunishmentID: r.PunishmentID, Evidence: r.Evidence}, fakeResult, nil
}

func (f *fakeLedger) AcceptRepair(_ context.Context, r credit.RepairRequest) (*credit.Repair, client.Result, error) {
	if err := f.record("AcceptRepair", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Repair{Header: header("repair", r.ID, "S")}, fakeResult, nil
}

func (f *fakeLedger) CompleteRepair(_ context.Context, r credit.CompleteRepairRequest) (*credit.Repair, client.Result, error) {
	if err := f.record("CompleteRepair", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Repair{Header: header("repair", r.ID, "S")}, fakeResult, nil
}

func (f *fakeLedger) RejectRepair(_ context.Context, r credit.RejectRepairRequest) (*credit.Repair, client.Result, error) {
	if err := f.record("RejectRepair", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Repair{Header: header("repair", r.ID, "S"), RejectReason: r.Reason}, fakeResult, nil
}

func (f *fakeLedger) RaiseObjection(_ context.Context, r credit.RaiseObjectionRequest) (*credit.Objection, client.Result, error) {
	if err := f.record("RaiseObjection", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Objection{Header: header("objection", r.ID, "S"), RecordKind: r.RecordKind, RecordID: r.RecordID, Reason: r.Reason}, fakeResult, nil
}

func (f *fakeLedger) AnswerObjection(_ context.Context, r credit.AnswerObjectionRequest) (*credit.Objection, client.Result, error) {
	if err := f.record("AnswerObjection", r); err != nil {
		return nil, client.Result{}, err
	}
	return &credit.Objection{Header: header("objection", r.ID, "S"), Answer: r.Answer, Action: r.Action, Correction: r.Correction}, fakeResult, nil
}

func (f *fakeLedger) GetRecord(_ context.Context, kind, id string) (credit.Record, client.Result, error) {
	if err := f.record("GetRecord", credit.RecordRequest{Kind: kind, ID: id}); err != nil {
		return nil, client.Result{}, err
	}
	r, ok := f.records[kind+"/"+id]
	if !ok {
		return nil, client.Result{}, &client.TxError{Op: "GetRecord", Stage: client.StageEvaluate, TxID: fakeTx,
			Kind: credit.ErrorFromMessage("[NOT_FOUND] get record: " + kind + " " + id + ": not found"), Err: credit.ErrNotFound}
	}
	return r, fakeResult, nil
}

func (f *fakeLedger) SubjectRecords(_ context.Context, subject string) (*credit.SubjectRecordsResult, client.Result, error) {
	if err := f.record("SubjectRecords", subject); err != nil {
		return nil, client.Result{}, err
	}
	if f.subject == nil {
		return &credit.SubjectRecordsResult{Subject: subject, Records: credit.Records{}}, fakeResult, nil
	}
	return f.subject, fakeResult, nil
}

func (f *fakeLedger) RecordHistory(_ context.Context, kind, id string) ([]credit.HistoryEntry, client.Result, error) {
	if err := f.record("RecordHistory", credit.RecordRequest{Kind: kind, ID: id}); err != nil {
		return nil, client.Result{}, err
	}
	return f.history[kind+"/"+id], fakeResult, nil
}

func (f *fakeLedger) ListByCounty(_ context.Context, r credit.ListByCountyRequest) (*credit.ListByCountyResult, client.Result, error) {
	if err := f.record("ListByCounty", r); err != nil {
		return nil, client.Result{}, err
	}
	i := 0
	for _, c := range f.calls {
		if c == "ListByCounty" {
			i++
		}
	}
	if i > len(f.pages) {
		return &credit.ListByCountyResult{Records: credit.Records{}}, fakeResult, nil
	}
	return &f.pages[i-1], fakeResult, nil
}

func (f *fakeLedger) GetRuleSets(context.Context) ([]credit.RuleSet, client.Result, error) {
	if err := f.record("GetRuleSets", nil); err != nil {
		return nil, client.Result{}, err
	}
	return f.rules, fakeResult, nil
}

func (f *fakeLedger) GetCalendar(_ context.Context, year int) (*credit.Calendar, client.Result, error) {
	if err := f.record("GetCalendar", year); err != nil {
		return nil, client.Result{}, err
	}
	return f.cal, fakeResult, nil
}

func (f *fakeLedger) ListCounties(context.Context) ([]credit.County, client.Result, error) {
	if err := f.record("ListCounties", nil); err != nil {
		return nil, client.Result{}, err
	}
	return []credit.County{{Kind: "county", Code: "330182", Name: "建德市", MSPID: "County330182MSP", CreatedAt: "2026-11-23T02:00:00Z"},
		{Kind: "county", Code: "330782", Name: "义乌市", MSPID: "County330782MSP", CreatedAt: "2026-11-23T02:00:00Z"}}, fakeResult, nil
}

func (f *fakeLedger) TransactionStatus(_ context.Context, txID string) (peer.TxValidationCode, bool, error) {
	if err := f.record("TransactionStatus", txID); err != nil {
		return 0, false, err
	}
	return f.txCode, f.txFound, nil
}

func (f *fakeLedger) Close() error { f.closed = true; return nil }

// testBase is a Base wired to a fake ledger, a pinned clock and county
// 330782, with buffered streams.
func testBase(l *fakeLedger, output string) (Base, *IOStreams) {
	ios, _, _, _ := Test()
	return Base{
		IO:        ios,
		Ledger:    func(context.Context) (Ledger, error) { return l, nil },
		Now:       func() time.Time { return fixedNow },
		County:    func() (string, error) { return "330782", nil },
		PersonKey: func() ([]byte, error) { return []byte("test-person-key-0123456789"), nil },
		Output:    output,
		Lang:      "en",
	}, ios
}

func outOf(ios *IOStreams) string { return ios.Out.(interface{ String() string }).String() }
func errOf(ios *IOStreams) string { return ios.ErrOut.(interface{ String() string }).String() }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
