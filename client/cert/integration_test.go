//go:build integration

package cert_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/network"
)

// These tests run against the real network `make test` brings up
// (network/with-network.sh sets CREDIT_TEST_PROFILE): issue certificates
// through the Gateway, verify them online and from offline bundles built
// from real blocks, tamper, suspend, reinstate and revoke, and issue a
// batch.

type netEnv struct {
	p       *network.Profile
	issuer  *network.CountyProfile
	officer *client.Client // officer1 of the issuing county
	auditor *client.Client // auditor1 of another county
	signer  *cert.Signer
	trust   *cert.TrustRoots
}

func dial(t testing.TB, p *network.Profile, cp *network.CountyProfile, user string) *client.Client {
	t.Helper()
	s, err := client.LoadMSP(cp.MSPID, cp.UserMSPDir(user))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Connect(client.Config{Signer: s, PeerAddress: cp.Peers[0].Address, TLSRootCertFile: cp.Peers[0].TLSRootCert,
		HostOverride: cp.Peers[0].HostOverride, Channel: p.Channel, Chaincode: p.Chaincode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func setup(t testing.TB) *netEnv {
	t.Helper()
	path := os.Getenv("CREDIT_TEST_PROFILE")
	if path == "" {
		t.Fatal("CREDIT_TEST_PROFILE is not set: run through `make test` (network/with-network.sh)")
	}
	p, err := network.LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := &netEnv{p: p, issuer: &p.Counties[0]}
	e.officer = dial(t, p, e.issuer, "officer1")
	e.auditor = dial(t, p, &p.Counties[1], "auditor1")
	if e.signer, err = cert.LoadOfficer(e.issuer.MSPID, e.issuer.UserMSPDir("officer1")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if e.trust, err = cert.ExportTrust(ctx, e.auditor); err != nil {
		t.Fatal(err)
	}
	return e
}

// uniqueSubject is an enterprise of the issuing county not used before (the
// developer's network keeps its ledger between runs).
func uniqueSubject(county string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	b := []byte("91" + county + "MA")
	for range 7 {
		b = append(b, alphabet[rand.IntN(len(alphabet))])
	}
	return credit.CompleteCreditCode(string(b))
}

func uniqueID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func wantVerdict(t *testing.T, what string, r *cert.Report, v cert.Verdict, reason cert.Reason) {
	t.Helper()
	if r.Verdict != v || (reason != "" && !r.Has(reason)) {
		t.Fatalf("%s: verdict %s %v, want %s with %s", what, r.Verdict, r.Findings, v, reason)
	}
}

func bundleNow(t *testing.T, e *netEnv, jws ...string) *cert.Bundle {
	t.Helper()
	b, err := cert.MakeBundle(context.Background(), e.auditor, e.trust, jws...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCertificateLifecycleOnNetwork: issue a certificate about a subject
// with a punishment; verify it online and offline (a bundle from real
// blocks, endorsements by a majority of counties including the issuer, and
// orderer signatures); a tampered copy is invalid; suspend, reinstate and
// revoke each show in both checks, and --as-of before a change still
// answers valid.
func TestCertificateLifecycleOnNetwork(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Logf("trust roots of channel %s: %d organisations, %s, fingerprint %s", e.trust.Channel, len(e.trust.Organizations), e.trust.Endorsement, e.trust.Fingerprint())

	subj := uniqueSubject(e.issuer.Code)
	if _, _, err := e.officer.ImposePunishment(ctx, credit.ImposePunishmentRequest{ID: uniqueID("pun"), Subject: subj, Kind: "publicity", Severity: "general",
		DecisionDate: credit.DateOf(time.Now()).String(), DecisionNo: "义市监罚〔2026〕8号", LegalBasis: "《行政处罚法》", Measures: []string{"bidding"}}); err != nil {
		t.Fatal(err)
	}
	until := credit.DateOf(time.Now()).AddMonths(3).String()
	iss, err := cert.Issue(ctx, e.officer, e.signer, credit.IssueCertificateRequest{ID: uniqueID("cert"), Subject: subj, Purpose: credit.PurposeBidding, ValidUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cert.Parse(iss.JWS)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(); st.NoAdverseRecord || len(st.Punishments) != 1 {
		t.Fatalf("status %+v", st)
	}
	v, err := cert.NewVerifier(e.trust)
	if err != nil {
		t.Fatal(err)
	}
	online := func() *cert.Report { return v.VerifyOnline(ctx, e.auditor, iss.JWS, cert.Options{}) }
	offline := func() *cert.Report { return v.VerifyOffline(iss.JWS, bundleNow(t, e, iss.JWS), cert.Options{}) }

	wantVerdict(t, "online", online(), cert.Valid, "")
	r := offline()
	wantVerdict(t, "offline", r, cert.Valid, cert.NoteValidityFlag)
	if !r.Has(cert.NoteRevocationAfterBundle) || len(r.Endorsers)*2 <= len(e.p.Counties) || !strings.Contains(strings.Join(r.Endorsers, ","), e.issuer.MSPID) {
		t.Fatalf("offline report: endorsers %v, notes %v", r.Endorsers, r.Notes)
	}
	t.Logf("offline: valid, block %d, endorsed by %v", r.BlockNumber, r.Endorsers)

	// Tampering with one byte of the payload breaks the signature.
	parts := strings.Split(iss.JWS, ".")
	payload := []byte(parts[1])
	payload[len(payload)/2] ^= 'A' ^ 'B'
	if payload[len(payload)/2] == parts[1][len(payload)/2] {
		t.Fatal("no change")
	}
	tampered := parts[0] + "." + string(payload) + "." + parts[2]
	wantVerdict(t, "tampered online", v.VerifyOnline(ctx, e.auditor, tampered, cert.Options{}), cert.Invalid, "")
	wantVerdict(t, "tampered offline", v.VerifyOffline(tampered, bundleNow(t, e, iss.JWS), cert.Options{}), cert.Invalid, "")

	before := time.Now()
	time.Sleep(1100 * time.Millisecond) // status changes are timestamped to the second
	setStatus := func(status string) {
		t.Helper()
		if _, _, err := e.officer.SetCertificateStatus(ctx, credit.SetCertificateStatusRequest{ID: iss.Anchor.ID, Status: status, Reason: "集成测试 " + status}); err != nil {
			t.Fatal(err)
		}
	}
	// Another county may not change it.
	other := dial(t, e.p, &e.p.Counties[1], "officer1")
	if _, _, err := other.SetCertificateStatus(ctx, credit.SetCertificateStatusRequest{ID: iss.Anchor.ID, Status: credit.CertRevoked, Reason: "x"}); err == nil {
		t.Fatal("another county revoked the certificate")
	}
	setStatus(credit.CertSuspended)
	wantVerdict(t, "suspended online", online(), cert.Invalid, cert.ReasonSuspended)
	wantVerdict(t, "suspended offline", offline(), cert.Invalid, cert.ReasonSuspended)
	setStatus(credit.CertValid)
	wantVerdict(t, "reinstated online", online(), cert.Valid, "")
	wantVerdict(t, "reinstated offline", offline(), cert.Valid, "")
	setStatus(credit.CertRevoked)
	r = online()
	wantVerdict(t, "revoked online", r, cert.Invalid, cert.ReasonRevoked)
	t.Logf("revoked: %v", r.Findings)
	wantVerdict(t, "revoked offline", offline(), cert.Invalid, cert.ReasonRevoked)
	wantVerdict(t, "as of before the changes", v.VerifyOnline(ctx, e.auditor, iss.JWS, cert.Options{AsOf: before}), cert.Valid, "")
	wantVerdict(t, "as of before the changes, offline", v.VerifyOffline(iss.JWS, bundleNow(t, e, iss.JWS), cert.Options{AsOf: before}), cert.Valid, "")
}

// TestSM2CertificateOnNetwork: the guomi profile — an SM2 signing
// certificate minted by the county CA for officer1 signs a certificate
// anchored by officer1; both checks accept it.
func TestSM2CertificateOnNetwork(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	caPEM, err := os.ReadFile(e.issuer.CACert)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := os.ReadFile(e.issuer.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := cert.MintSM2Certificate(e.signer.Certificate(), caPEM, caKey)
	if err != nil {
		t.Fatal(err)
	}
	sm2s, err := cert.NewSM2Signer(e.issuer.MSPID, certPEM, keyPEM, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := cert.Issue(ctx, e.officer, sm2s, credit.IssueCertificateRequest{ID: uniqueID("sm2"), Subject: uniqueSubject(e.issuer.Code),
		Purpose: credit.PurposeLoan, ValidUntil: credit.DateOf(time.Now()).AddMonths(1).String()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mustB64(t, strings.Split(iss.JWS, ".")[0])), `"alg":"SM2SM3"`) {
		t.Fatal("not an SM2SM3 JWS")
	}
	v, _ := cert.NewVerifier(e.trust)
	wantVerdict(t, "sm2 online", v.VerifyOnline(ctx, e.auditor, iss.JWS, cert.Options{}), cert.Valid, "")
	wantVerdict(t, "sm2 offline", v.VerifyOffline(iss.JWS, bundleNow(t, e, iss.JWS), cert.Options{}), cert.Valid, "")
}

// TestCertificateBatchOnNetwork: a batch of a few hundred certificates
// under one anchor, verified offline from one bundle (its block checked
// once) and online; a member whose proof is altered and re-signed fails
// with the Merkle reason. Then a batch split into chunks of 100.
func TestCertificateBatchOnNetwork(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	subjects := make([]string, 300)
	for i := range subjects {
		subjects[i] = uniqueSubject(e.issuer.Code)
	}
	t0 := time.Now()
	issued, err := cert.IssueBatch(ctx, e.officer, e.signer, credit.IssueCertificateBatchRequest{BatchID: uniqueID("batch"), Subjects: subjects,
		Purpose: credit.PurposeLicence, ValidUntil: credit.DateOf(time.Now()).AddMonths(1).String()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	issue := time.Since(t0)
	jws := make([]string, len(issued))
	for i, x := range issued {
		jws[i] = x.JWS
	}
	t0 = time.Now()
	b := bundleNow(t, e, jws...)
	var buf bytes.Buffer
	b.WriteTo(&buf)
	t1 := time.Now()
	reports, err := cert.VerifyBundle(b, e.trust, cert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reports {
		wantVerdict(t, fmt.Sprintf("member %d offline", i), r, cert.Valid, "")
	}
	t.Logf("batch of %d: issued in %v (one anchor, block %d); bundle %d bytes in %v; verified offline in %v",
		len(issued), issue.Round(time.Millisecond), issued[0].Position.BlockNumber, buf.Len(), t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	v, _ := cert.NewVerifier(e.trust)
	wantVerdict(t, "member online", v.VerifyOnline(ctx, e.auditor, jws[17], cert.Options{}), cert.Valid, "")

	cred := *issued[5].Credential
	p := *cred.CredentialStatus.MerkleProof
	p.Path = append([]string(nil), p.Path...)
	p.Path[0] = strings.Repeat("0", 64)
	cred.CredentialStatus.MerkleProof = &p
	bad, err := e.signer.Sign(&cred)
	if err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, "altered proof", v.VerifyOffline(bad, b, cert.Options{}), cert.Invalid, cert.ReasonMerkleProof)

	// One member revoked alone, by its certificate ID: invalid online
	// (through another county's peer) and from a bundle made after, its
	// neighbours still valid; another county may not.
	before := time.Now()
	time.Sleep(1100 * time.Millisecond) // status changes are timestamped to the second
	memberID := issued[17].Credential.CredentialStatus.CertificateID
	other := dial(t, e.p, &e.p.Counties[1], "officer1")
	if _, _, err := other.SetCertificateStatus(ctx, credit.SetCertificateStatusRequest{ID: memberID, Status: credit.CertRevoked, Reason: "x"}); err == nil {
		t.Fatal("another county revoked a member")
	}
	a, _, err := e.officer.SetCertificateStatus(ctx, credit.SetCertificateStatusRequest{ID: memberID, Status: credit.CertRevoked, Reason: "该主体新增行政处罚"})
	if err != nil {
		t.Fatal(err)
	}
	if st, m, _ := a.StateOf(memberID); st != credit.CertRevoked || m == nil || a.State != credit.CertValid {
		t.Fatalf("anchor after revoking member %s: %+v", memberID, a)
	}
	r := v.VerifyOnline(ctx, e.auditor, jws[17], cert.Options{})
	wantVerdict(t, "revoked member online", r, cert.Invalid, cert.ReasonRevoked)
	t.Logf("revoked member: %v", r.Findings)
	after := bundleNow(t, e, jws[16], jws[17])
	wantVerdict(t, "revoked member offline", v.VerifyOffline(jws[17], after, cert.Options{}), cert.Invalid, cert.ReasonRevoked)
	wantVerdict(t, "its neighbour online", v.VerifyOnline(ctx, e.auditor, jws[16], cert.Options{}), cert.Valid, "")
	wantVerdict(t, "its neighbour offline", v.VerifyOffline(jws[16], after, cert.Options{}), cert.Valid, "")
	wantVerdict(t, "revoked member as of before", v.VerifyOnline(ctx, e.auditor, jws[17], cert.Options{AsOf: before}), cert.Valid, "")

	chunked, err := cert.IssueBatch(ctx, e.officer, e.signer, credit.IssueCertificateBatchRequest{BatchID: uniqueID("chunk"), Subjects: subjects[:250],
		Purpose: credit.PurposeOther, ValidUntil: credit.DateOf(time.Now()).AddMonths(1).String()}, 100)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, x := range chunked {
		anchors[x.Anchor.ID] = true
	}
	if len(chunked) != 250 || len(anchors) != 3 {
		t.Fatalf("chunked: %d certificates under %d anchors", len(chunked), len(anchors))
	}
	wantVerdict(t, "chunk member", v.VerifyOffline(chunked[249].JWS, bundleNow(t, e, chunked[249].JWS), cert.Options{}), cert.Valid, "")
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64url(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkIssueBatchNetwork issues 10,000 certificates against the real
// network under ONE anchor (one transaction: a 6.4 MB endorsement response,
// within client.DefaultMaxRecvBytes and the orderer's 10 MiB blocks; see
// docs/CERTIFICATES.md), then verifies all of them offline from one bundle. It reports the time per certificate of each
// phase and, as the same-run baseline, the time of one single-certificate
// issuance. Run by hand:
//
//	CREDIT_TEST_PROFILE=<run>/network.json go test -tags integration -run '^$' -bench IssueBatchNetwork -benchtime 1x ./client/cert/
func BenchmarkIssueBatchNetwork(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	const n = 10000
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = uniqueSubject(e.issuer.Code)
	}
	until := credit.DateOf(time.Now()).AddMonths(1).String()
	var issueNs, singleNs, bundleNs, verifyNs time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := cert.Issue(ctx, e.officer, e.signer, credit.IssueCertificateRequest{ID: uniqueID("single"), Subject: subjects[0], Purpose: "loan", ValidUntil: until}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		issued, err := cert.IssueBatch(ctx, e.officer, e.signer, credit.IssueCertificateBatchRequest{BatchID: uniqueID("bench"), Subjects: subjects, Purpose: "loan", ValidUntil: until}, n)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		jws := make([]string, len(issued))
		for i, x := range issued {
			jws[i] = x.JWS
		}
		bundle, err := cert.MakeBundle(ctx, e.auditor, e.trust, jws...)
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		reports, err := cert.VerifyBundle(bundle, e.trust, cert.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reports {
			if r.Verdict != cert.Valid {
				b.Fatalf("%s %v", r.Verdict, r.Findings)
			}
		}
		singleNs += t1.Sub(t0)
		issueNs += t2.Sub(t1)
		bundleNs += t3.Sub(t2)
		verifyNs += time.Since(t3)
		b.Logf("%d certificates under %d anchors; bundle %d blocks", len(issued), len(bundle.Blocks), len(bundle.Blocks))
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / n }
	b.ReportMetric(per(issueNs), "issue-ns/cert")
	b.ReportMetric(float64(singleNs)/float64(b.N), "single-issue-ns")
	b.ReportMetric(per(issueNs)*n/(float64(singleNs)/float64(b.N))/n, "batch-cert/single")
	b.ReportMetric(per(bundleNs), "bundle-ns/cert")
	b.ReportMetric(per(verifyNs), "verify-ns/cert")
}
