package chaincode

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// subjB is a subject of county B.
var subjB = credit.CompleteCreditCode("91330783MA2B00002")

// certWorld records, for subject subjA: an active punishment by A with an
// enforcement by B, an open commitment by B and an overdue one by A; subjB
// has no record.
func certWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.setDate("2026-03-02")
	w.ok(w.officerA, "ImposePunishment", js(t, map[string]any{"id": "pun-1", "subject": subjA, "kind": "blacklist", "severity": "serious",
		"decisionDate": "2026-03-01", "decisionNo": "义市监罚〔2026〕9号", "legalBasis": "《行政处罚法》", "measures": []string{"bidding", "procurement"}}))
	w.ok(w.officerB, "RecordEnforcement", js(t, map[string]any{"id": "enf-1", "punishmentId": "pun-1", "measure": "bidding", "date": "2026-03-02"}))
	w.ok(w.officerB, "MakeCommitment", js(t, map[string]any{"id": "com-b", "kind": "voluntary", "subject": subjA, "content": "诚信经营"}))
	w.ok(w.officerA, "MakeCommitment", js(t, map[string]any{"id": "com-a", "kind": "approval", "subject": subjA, "content": "按期核查", "deadline": "2026-03-05"}))
	w.setDate("2026-03-10")
	return w
}

type issueResult struct {
	Certificate credit.Certificate `json:"certificate"`
	Status      json.RawMessage    `json:"status"`
	Digest      string             `json:"digest"`
	IssuerName  string             `json:"issuerName"`
}

func issueArg(t testing.TB, id, subject string) string {
	return js(t, credit.IssueCertificateRequest{ID: id, Subject: subject, Purpose: credit.PurposeBidding, ValidUntil: "2026-06-30"})
}

// TestIssueCertificateOnChain: the chaincode computes the status from the
// subject's records of every county and anchors its digest; the anchor
// carries the issuing county's key-level policy, the county index none
// (DESIGN §7); one CertificateIssued event; GetCertificate reads it back.
func TestIssueCertificateOnChain(t *testing.T) {
	w := certWorld(t)
	resp, stub := w.invoke(w.creditOfficeA, "IssueCertificate", issueArg(t, "cert-1", subjA))
	if resp.Status != shim.OK {
		t.Fatal(resp.Message)
	}
	res := decode[issueResult](t, string(resp.Payload))
	var s credit.CertificateStatus
	if err := json.Unmarshal(res.Status, &s); err != nil {
		t.Fatal(err)
	}
	if s.NoAdverseRecord || len(s.Punishments) != 1 || s.Punishments[0].ID != "pun-1" || len(s.Enforcements) != 1 ||
		len(s.Commitments.Open) != 1 || len(s.Commitments.Overdue) != 1 || s.AsOf != "2026-03-10T02:00:00Z" {
		t.Fatalf("status %s", res.Status)
	}
	canon, err := credit.Canonicalize(res.Status)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	c := res.Certificate
	if c.Digest != hex.EncodeToString(sum[:]) || res.Digest != c.Digest {
		t.Fatalf("anchor digest %s does not cover the status", c.Digest)
	}
	if c.County != codeA || c.Subject != subjA || c.IssueTxID != stub.txID || c.State != credit.CertValid || res.IssuerName != "义乌市" {
		t.Fatalf("anchor %+v", c)
	}
	anchorKey, _ := stub.CreateCompositeKey(credit.TypeCertificate, []string{"cert-1"})
	indexKey, _ := stub.CreateCompositeKey(credit.TypeCertCounty, []string{codeA, "cert-1"})
	if w.sbe[anchorKey] == nil || w.sbe[indexKey] != nil || len(stub.sbeWrites) != 1 {
		t.Fatalf("key-level policies: anchor %v, index %v, %d set", w.sbe[anchorKey] != nil, w.sbe[indexKey] != nil, len(stub.sbeWrites))
	}
	if ev := w.events[len(w.events)-1]; ev.EventName != "CertificateIssued" || stub.eventCalls != 1 {
		t.Fatalf("event %s (%d calls)", ev.EventName, stub.eventCalls)
	}
	got := decode[credit.Certificate](t, w.ok(w.readerA, "GetCertificate", `{"id":"cert-1"}`))
	if got.Digest != c.Digest || got.DerivedState != credit.CertValid {
		t.Fatalf("GetCertificate %+v", got)
	}
	w.setDate("2026-07-01")
	if got := decode[credit.Certificate](t, w.ok(w.readerA, "GetCertificate", `{"id":"cert-1"}`)); got.DerivedState != credit.CertExpired {
		t.Fatalf("after validUntil: %s", got.DerivedState)
	}
	wantCode(t, w.fail(w.readerA, "GetCertificate", `{"id":"cert-x"}`), credit.ErrNotFound)
	wantCode(t, w.fail(w.creditOfficeA, "IssueCertificate", issueArg(t, "cert-1", subjB)), credit.ErrExists)
}

// rangeRecorder is a fake stub that records the range queries a
// transaction makes.
type rangeRecorder struct {
	*fakeStub
	ranges [][]string
}

func (r *rangeRecorder) GetStateByPartialCompositeKey(objectType string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	r.ranges = append(r.ranges, append([]string{objectType}, attrs...))
	return r.fakeStub.GetStateByPartialCompositeKey(objectType, attrs)
}

// invokeRecording runs one transaction like fakeNet.invoke, recording its
// range queries.
func invokeRecording(n *fakeNet, who *fakeIdentity, fn, arg string) (*peer.Response, *rangeRecorder) {
	var rec *rangeRecorder
	resp := invokeWrapped(n, who, fn, arg, func(s *fakeStub) shim.ChaincodeStubInterface {
		rec = &rangeRecorder{fakeStub: s}
		return rec
	})
	return resp, rec
}

// invokeWrapped runs one transaction like fakeNet.invoke through a stub
// that wraps the fake one.
func invokeWrapped(n *fakeNet, who *fakeIdentity, fn, arg string, wrap func(*fakeStub) shim.ChaincodeStubInterface) *peer.Response {
	n.txSeq++
	s := &fakeStub{
		net: n, args: [][]byte{[]byte(fn), []byte(arg)}, creator: who.serialized,
		txID: fmt.Sprintf("tx%04d", n.txSeq), ts: n.now,
		writes: map[string][]byte{}, deletes: map[string]bool{}, sbeWrites: map[string][]byte{},
	}
	resp := n.cc.Invoke(wrap(s))
	if resp.Status == shim.OK {
		s.commit()
	}
	return resp
}

// indexedStub answers range queries from a sorted copy of the committed
// keys, as a peer's LevelDB does in O(log n + results); the plain fake
// scans every key, which would make a 10,000-subject batch measure the fake.
type indexedStub struct {
	*fakeStub
	keys []string
}

func (s *indexedStub) GetStateByPartialCompositeKey(objectType string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	start, end, err := s.partialRange(objectType, attrs)
	if err != nil {
		return nil, err
	}
	lo, _ := slices.BinarySearch(s.keys, start)
	hi, _ := slices.BinarySearch(s.keys, end)
	return s.iter(s.keys[lo:hi]), nil
}

// TestIssuanceRangeReadsTheSubject: the status is computed from a range
// query on the subject index (issue 6), so that Fabric's phantom-read check
// invalidates the issuance if a record of the subject appears or vanishes
// before commit; a batch range-reads each subject.
func TestIssuanceRangeReadsTheSubject(t *testing.T) {
	w := certWorld(t)
	resp, rec := invokeRecording(w.fakeNet, w.creditOfficeA, "IssueCertificate", issueArg(t, "cert-1", subjA))
	if resp.Status != shim.OK {
		t.Fatal(resp.Message)
	}
	if !slices.ContainsFunc(rec.ranges, func(r []string) bool { return slices.Equal(r, []string{credit.TypeSubject, subjA}) }) {
		t.Fatalf("range queries %q do not include the subject index of %s", rec.ranges, subjA)
	}
	resp, rec = invokeRecording(w.fakeNet, w.creditOfficeA, "IssueCertificateBatch",
		js(t, credit.IssueCertificateBatchRequest{BatchID: "B01", Subjects: []string{subjA, subjB}, Purpose: credit.PurposeLoan, ValidUntil: "2026-06-30"}))
	if resp.Status != shim.OK {
		t.Fatal(resp.Message)
	}
	for _, s := range []string{subjA, subjB} {
		if !slices.ContainsFunc(rec.ranges, func(r []string) bool { return slices.Equal(r, []string{credit.TypeSubject, s}) }) {
			t.Fatalf("batch range queries %q do not include %s", rec.ranges, s)
		}
	}
}

// TestCertificateStatusDeterministicOnChain: two issuances about the same
// records at the same transaction time state the same bytes and digest
// (chaincode determinism: every endorsing peer computes the same status).
func TestCertificateStatusDeterministicOnChain(t *testing.T) {
	w := certWorld(t)
	a := decode[issueResult](t, w.ok(w.creditOfficeA, "IssueCertificate", issueArg(t, "cert-1", subjA)))
	b := decode[issueResult](t, w.ok(w.officerA, "IssueCertificate", issueArg(t, "cert-2", subjA)))
	if string(a.Status) != string(b.Status) || a.Digest != b.Digest {
		t.Fatalf("same records, different statuses:\n%s\n%s", a.Status, b.Status)
	}
	w.ok(w.officerA, "FulfilCommitment", `{"id":"com-a"}`)
	c := decode[issueResult](t, w.ok(w.officerA, "IssueCertificate", issueArg(t, "cert-3", subjA)))
	if c.Digest == a.Digest {
		t.Fatal("a changed record left the digest unchanged")
	}
}

// TestNoAdverseRecordOnChain: a subject without records gets a status that
// claims no adverse record, inside the anchored digest (issue 6).
func TestNoAdverseRecordOnChain(t *testing.T) {
	w := certWorld(t)
	res := decode[issueResult](t, w.ok(w.officerB, "IssueCertificate", issueArg(t, "cert-b", subjB)))
	var s credit.CertificateStatus
	if err := json.Unmarshal(res.Status, &s); err != nil {
		t.Fatal(err)
	}
	if !s.NoAdverseRecord || len(s.Punishments)+len(s.Commitments.Open)+len(s.Repairs) != 0 || res.Certificate.County != codeB {
		t.Fatalf("status %s anchor %+v", res.Status, res.Certificate)
	}
}

// TestCertificateAccessControl: only officers issue (DESIGN §4); only
// officers of the issuing county change a certificate's status (issue 6);
// a refused call writes nothing.
func TestCertificateAccessControl(t *testing.T) {
	w := certWorld(t)
	w.ok(w.officerA, "IssueCertificate", issueArg(t, "cert-1", subjA))
	status := func(s string) string {
		return js(t, credit.SetCertificateStatusRequest{ID: "cert-1", Status: s, Reason: "复核"})
	}
	tests := []struct {
		name string
		who  *fakeIdentity
		fn   string
		arg  string
	}{
		{"auditor issues", w.auditorA, "IssueCertificate", issueArg(t, "cert-2", subjA)},
		{"admin issues", w.adminA, "IssueCertificate", issueArg(t, "cert-2", subjA)},
		{"reader issues", w.readerA, "IssueCertificate", issueArg(t, "cert-2", subjA)},
		{"auditor batch", w.auditorA, "IssueCertificateBatch", js(t, credit.IssueCertificateBatchRequest{BatchID: "B01", Subjects: []string{subjA}, Purpose: "loan", ValidUntil: "2026-06-30"})},
		{"other county suspends", w.officerB, "SetCertificateStatus", status(credit.CertSuspended)},
		{"other county revokes", w.officerC, "SetCertificateStatus", status(credit.CertRevoked)},
		{"auditor revokes", w.auditorA, "SetCertificateStatus", status(credit.CertRevoked)},
		{"admin revokes", w.adminA, "SetCertificateStatus", status(credit.CertRevoked)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, stub := w.invoke(tt.who, tt.fn, tt.arg)
			if resp.Status == shim.OK {
				t.Fatalf("allowed: %s", resp.Payload)
			}
			wantCode(t, resp.Message, credit.ErrForbidden)
			if len(stub.writes)+len(stub.deletes)+len(stub.sbeWrites) != 0 || stub.eventCalls != 0 {
				t.Fatal("a refused transaction wrote")
			}
		})
	}
	// Bad input is refused with the field named, and nothing is written.
	resp, stub := w.invoke(w.officerA, "IssueCertificate", js(t, credit.IssueCertificateRequest{ID: "cert-9", Subject: subjA, Purpose: "travel", ValidUntil: "2026-06-30"}))
	wantCode(t, resp.Message, credit.ErrInvalid)
	if len(stub.writes) != 0 {
		t.Fatal("bad input wrote")
	}
}

// TestCertificateRevokeSuspendReinstate: suspend, reinstate and revoke are
// each a new version of the anchor with its own transaction and time
// (issue 6: every change on the ledger); revoked is final.
func TestCertificateRevokeSuspendReinstate(t *testing.T) {
	w := certWorld(t)
	w.ok(w.officerA, "IssueCertificate", issueArg(t, "cert-1", subjA))
	steps := []struct {
		date, status string
		event        string
	}{
		{"2026-03-11", credit.CertSuspended, "CertificateSuspended"},
		{"2026-03-12", credit.CertValid, "CertificateReinstated"},
		{"2026-03-13", credit.CertRevoked, "CertificateRevoked"},
	}
	for _, s := range steps {
		w.setDate(s.date)
		resp, stub := w.invoke(w.creditOfficeA, "SetCertificateStatus", js(t, credit.SetCertificateStatusRequest{ID: "cert-1", Status: s.status, Reason: "复核 " + s.date}))
		if resp.Status != shim.OK {
			t.Fatalf("%s: %s", s.status, resp.Message)
		}
		if stub.eventName != s.event || len(stub.sbeWrites) != 0 {
			t.Fatalf("%s: event %s, %d key-level policies set", s.status, stub.eventName, len(stub.sbeWrites))
		}
	}
	wantCode(t, w.fail(w.creditOfficeA, "SetCertificateStatus", js(t, credit.SetCertificateStatusRequest{ID: "cert-1", Status: credit.CertValid, Reason: "x"})), credit.ErrState)
	wantCode(t, w.fail(w.creditOfficeA, "SetCertificateStatus", js(t, credit.SetCertificateStatusRequest{ID: "nope", Status: credit.CertValid, Reason: "x"})), credit.ErrNotFound)

	hist := decode[[]credit.HistoryEntry](t, w.ok(w.readerA, "CertificateHistory", `{"id":"cert-1"}`))
	var states, times []string
	for _, h := range hist {
		var c credit.Certificate
		if err := json.Unmarshal(h.Record, &c); err != nil {
			t.Fatal(err)
		}
		states = append(states, c.State)
		times = append(times, h.Timestamp)
	}
	if !slices.Equal(states, []string{"valid", "suspended", "valid", "revoked"}) ||
		!slices.Equal(times, []string{"2026-03-10T02:00:00Z", "2026-03-11T02:00:00Z", "2026-03-12T02:00:00Z", "2026-03-13T02:00:00Z"}) {
		t.Fatalf("history states %v times %v", states, times)
	}
	wantCode(t, w.fail(w.readerA, "CertificateHistory", `{"id":"cert-x"}`), credit.ErrNotFound)
}

// TestCertificateBatchOnChain: a batch anchor holds the Merkle root over
// every member's leaf (docs/CERTIFICATES.md); each member's status is the
// one a single issuance would state; the batch ID is taken like any
// certificate ID.
func TestCertificateBatchOnChain(t *testing.T) {
	w := certWorld(t)
	subjects := []string{subjB, subjA, subjA2}
	res := decode[credit.IssueCertificateBatchResult](t, w.ok(w.officerA, "IssueCertificateBatch",
		js(t, credit.IssueCertificateBatchRequest{BatchID: "B2026-03", Subjects: subjects, Purpose: credit.PurposeLicence, ValidUntil: "2026-06-30"})))
	single := decode[issueResult](t, w.ok(w.officerA, "IssueCertificate", issueArg(t, "cert-1", subjA)))
	var leaves []credit.Hash
	for i, m := range res.Members {
		d, err := credit.DigestBytes(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != credit.MemberID("B2026-03", i) || m.Subject != subjects[i] {
			t.Fatalf("member %d %+v", i, m)
		}
		leaves = append(leaves, credit.MerkleLeaf(m.ID, d))
	}
	if res.Members[1].Digest != single.Digest {
		t.Fatal("a batch member's status differs from a single certificate's at the same time")
	}
	root, _ := credit.MerkleRoot(leaves)
	got := decode[credit.Certificate](t, w.ok(w.readerA, "GetCertificate", `{"id":"B2026-03"}`))
	if got.MerkleRoot != hex.EncodeToString(root[:]) || got.Count != 3 || got.Subject != "" || got.Digest != "" {
		t.Fatalf("batch anchor %+v", got)
	}
	wantCode(t, w.fail(w.officerA, "IssueCertificate", issueArg(t, "B2026-03", subjA)), credit.ErrExists)
	wantCode(t, w.fail(w.officerA, "IssueCertificateBatch", js(t, credit.IssueCertificateBatchRequest{BatchID: "B2026-04", Subjects: []string{subjA, subjA}, Purpose: "loan", ValidUntil: "2026-06-30"})), credit.ErrInvalid)
	// One member alone, by its certificate ID: a new version of the
	// batch's anchor, under the anchor's key-level policy (none set
	// again); only the issuing county; an unknown member or batch is
	// named.
	member := func(who *fakeIdentity, id, status string) (*peer.Response, *fakeStub) {
		return w.invoke(who, "SetCertificateStatus", js(t, credit.SetCertificateStatusRequest{ID: id, Status: status, Reason: "该主体新增处罚"}))
	}
	for _, who := range []*fakeIdentity{w.officerB, w.auditorA} {
		resp, stub := member(who, "B2026-03.00002", credit.CertRevoked)
		wantCode(t, resp.Message, credit.ErrForbidden)
		if len(stub.writes) != 0 {
			t.Fatal("a refused member revocation wrote")
		}
	}
	resp, stub := member(w.officerA, "B2026-03.00002", credit.CertRevoked)
	if resp.Status != shim.OK || stub.eventName != "CertificateRevoked" || len(stub.sbeWrites) != 0 || len(stub.writes) != 1 {
		t.Fatalf("member revoked: %s event %s, %d writes, %d policies", resp.Message, stub.eventName, len(stub.writes), len(stub.sbeWrites))
	}
	got = decode[credit.Certificate](t, w.ok(w.readerA, "GetCertificate", `{"id":"B2026-03"}`))
	for i, want := range []string{credit.CertValid, credit.CertRevoked, credit.CertValid} {
		if st, _, _ := got.StateOf(credit.MemberID("B2026-03", i)); st != want {
			t.Errorf("member %d: %s, want %s", i, st, want)
		}
	}
	if got.State != credit.CertValid || len(got.Members) != 1 {
		t.Fatalf("batch anchor after a member's revocation %+v", got)
	}
	r, _ := member(w.officerA, "B2026-03.00004", credit.CertRevoked)
	wantCode(t, r.Message, credit.ErrInvalid)
	r, _ = member(w.officerA, "B2026-99.00001", credit.CertRevoked)
	if wantCode(t, r.Message, credit.ErrNotFound); !strings.Contains(r.Message, "B2026-99.00001") {
		t.Fatalf("unknown batch: %s", r.Message)
	}
	r, _ = member(w.officerA, "cert-1.00001", credit.CertRevoked)
	wantCode(t, r.Message, credit.ErrInvalid) // cert-1 is a single certificate
	// The whole batch.
	w.ok(w.officerA, "SetCertificateStatus", js(t, credit.SetCertificateStatusRequest{ID: "B2026-03", Status: credit.CertRevoked, Reason: "批量作废"}))
	r, _ = member(w.officerA, "B2026-03.00001", credit.CertSuspended)
	wantCode(t, r.Message, credit.ErrState)
}

// TestListCertificatesByCounty pages through a county's anchors.
func TestListCertificatesByCounty(t *testing.T) {
	w := certWorld(t)
	for i := 1; i <= 3; i++ {
		w.ok(w.officerA, "IssueCertificate", issueArg(t, fmt.Sprintf("cert-%d", i), subjA))
	}
	w.ok(w.officerB, "IssueCertificate", issueArg(t, "cert-b", subjB))
	type page struct {
		Certificates []credit.Certificate `json:"certificates"`
		Bookmark     string               `json:"bookmark"`
	}
	p1 := decode[page](t, w.ok(w.readerA, "ListCertificates", `{"county":"330782","pageSize":2}`))
	p2 := decode[page](t, w.ok(w.readerA, "ListCertificates", js(t, map[string]any{"county": codeA, "pageSize": 2, "bookmark": p1.Bookmark})))
	var got []string
	for _, c := range append(p1.Certificates, p2.Certificates...) {
		got = append(got, c.ID)
	}
	if !slices.Equal(got, []string{"cert-1", "cert-2", "cert-3"}) || p2.Bookmark != "" {
		t.Fatalf("listed %v, bookmark %q", got, p2.Bookmark)
	}
	wantCode(t, w.fail(w.readerA, "ListCertificates", `{"county":"330782","pageSize":0}`), credit.ErrInvalid)
}

// BenchmarkIssueCertificateBatch10000 measures the chaincode side of a
// batch of 10,000 certificates under one anchor on the fake stub, against a
// single-certificate issuance in the same run: it reports ns per
// certificate and the ratio per-certificate-in-batch / single issuance.
// Every subject has one record, so each status costs a range read and a
// record read. Range queries are answered from a sorted key index, as on a
// peer (the plain fake scans the whole state per query).
func BenchmarkIssueCertificateBatch10000(b *testing.B) {
	const n = 10000
	w := newWorld(b)
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = credit.CompleteCreditCode(fmt.Sprintf("91330782MA%07d", i))
		w.ok(w.officerA, "MakeCommitment", js(b, map[string]any{"id": fmt.Sprintf("com-%05d", i), "kind": "voluntary", "subject": subjects[i], "content": "诚信经营"}))
	}
	keys := w.sortedKeys("", "") // the issuances below add no subject index keys
	seq := 0
	run := func(fn, arg string) {
		resp := invokeWrapped(w.fakeNet, w.officerA, fn, arg, func(s *fakeStub) shim.ChaincodeStubInterface { return &indexedStub{s, keys} })
		if resp.Status != shim.OK {
			b.Fatal(resp.Message)
		}
	}
	single := func() {
		seq++
		run("IssueCertificate", issueArg(b, fmt.Sprintf("single-%d", seq), subjects[seq%n]))
	}
	batch := func() {
		seq++
		run("IssueCertificateBatch", js(b, credit.IssueCertificateBatchRequest{BatchID: fmt.Sprintf("batch-%d", seq), Subjects: subjects, Purpose: "bidding", ValidUntil: "2026-06-30"}))
	}
	const singles = 200
	b.ResetTimer()
	var singleNs, batchNs int64
	for b.Loop() {
		t0 := time.Now()
		for range singles {
			single()
		}
		t1 := time.Now()
		batch()
		singleNs += int64(t1.Sub(t0)) / singles
		batchNs += int64(time.Since(t1))
	}
	perCert := float64(batchNs) / float64(b.N) / n
	b.ReportMetric(perCert, "ns/cert")
	b.ReportMetric(float64(batchNs)/float64(b.N)/1e6, "ms/batch")
	b.ReportMetric(float64(singleNs)/float64(b.N), "ns/single")
	b.ReportMetric(perCert/(float64(singleNs)/float64(b.N)), "batch-cert/single")
}
