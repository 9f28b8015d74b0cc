package cert_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
)

// rawVerifier is the baseline: one ECDSA P-256 signature check, SHA-256
// of a message as long as a certificate's JWS signing input included.
type rawVerifier struct {
	pub  *ecdsa.PublicKey
	msg  []byte
	r, s *big.Int
}

func newRawVerifier(b *testing.B, n int) *rawVerifier {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, n)
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		b.Fatal(err)
	}
	return &rawVerifier{pub: &key.PublicKey, msg: msg, r: r, s: s}
}

func (v *rawVerifier) verify(b *testing.B) {
	h := sha256.Sum256(v.msg)
	if !ecdsa.Verify(v.pub, h[:], v.r, v.s) {
		b.Fatal("baseline signature does not verify")
	}
}

func batchFixture(b *testing.B, n int) (*certtest.Consortium, []string, *cert.Bundle) {
	c := certtest.New(b)
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = credit.CompleteCreditCode(fmt.Sprintf("91330782MA%07d", i))
	}
	members := c.IssueBatch(c.County("330782"), credit.IssueCertificateBatchRequest{BatchID: "B2026-03", Subjects: subjects, Purpose: "loan", ValidUntil: "2026-06-30"}, nil, certtest.TxOptions{})
	jws := make([]string, n)
	for i, m := range members {
		jws[i] = m.JWS
	}
	return c, jws, c.Bundle(jws...)
}

// BenchmarkOfflineVerifyBatch: offline verification of the members of one
// 1,000-certificate batch from one bundle with a warm Verifier (the block's
// orderer signatures, the transaction's endorsements and the officer's
// x5c chain checked once), against a raw ECDSA P-256 verify of a message of
// the same length, measured alternately in the same loop. Reports ns per
// certificate, ns per raw verify and their ratio (issue 6 target: ≤ 1.5).
func BenchmarkOfflineVerifyBatch(b *testing.B) {
	c, jws, bundle := batchFixture(b, 1000)
	v := c.Verifier()
	opts := cert.Options{AsOf: cert.EndOfDate(credit.MustDate("2026-03-10"))}
	if r := v.VerifyOffline(jws[0], bundle, opts); r.Verdict != cert.Valid {
		b.Fatalf("%s %v", r.Verdict, r.Findings)
	}
	parsed, _ := cert.Parse(jws[0])
	raw := newRawVerifier(b, len(jws[0])-len(parsed.JWS[len(parsed.JWS)-86:]))
	var certNs, rawNs time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if r := v.VerifyOffline(jws[i%len(jws)], bundle, opts); r.Verdict != cert.Valid {
			b.Fatalf("%s %v", r.Verdict, r.Findings)
		}
		t1 := time.Now()
		raw.verify(b)
		rawNs += time.Since(t1)
		certNs += t1.Sub(t0)
		i++
	}
	b.ReportMetric(float64(certNs)/float64(i), "ns/cert")
	b.ReportMetric(float64(rawNs)/float64(i), "ns/ecdsa")
	b.ReportMetric(float64(certNs)/float64(rawNs), "cert/ecdsa")
}

// BenchmarkOfflineVerifyCold: one certificate from its own bundle with a
// new Verifier each time (trust roots parsed, block and transaction proofs
// and the x5c chain checked from scratch), against the raw verify.
func BenchmarkOfflineVerifyCold(b *testing.B) {
	c := certtest.New(b)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	bundle := c.Bundle(iss.JWS)
	trust := c.Trust()
	opts := cert.Options{AsOf: cert.EndOfDate(credit.MustDate("2026-03-10"))}
	raw := newRawVerifier(b, len(iss.JWS)-87)
	var certNs, rawNs time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		v, err := cert.NewVerifier(trust)
		if err != nil {
			b.Fatal(err)
		}
		if r := v.VerifyOffline(iss.JWS, bundle, opts); r.Verdict != cert.Valid {
			b.Fatalf("%s %v", r.Verdict, r.Findings)
		}
		t1 := time.Now()
		raw.verify(b)
		rawNs += time.Since(t1)
		certNs += t1.Sub(t0)
		n++
	}
	b.ReportMetric(float64(certNs)/float64(n), "ns/cert")
	b.ReportMetric(float64(rawNs)/float64(n), "ns/ecdsa")
	b.ReportMetric(float64(certNs)/float64(rawNs), "cert/ecdsa")
}

// BenchmarkBuildAndSignBatch: the client side of a 1,000-member batch:
// Merkle tree, proofs, credentials and ES256 signatures, per certificate.
func BenchmarkBuildAndSignBatch(b *testing.B) {
	c := certtest.New(b)
	subjects := make([]string, 1000)
	for i := range subjects {
		subjects[i] = credit.CompleteCreditCode(fmt.Sprintf("91330782MA%07d", i))
	}
	a := c.County("330782")
	for b.Loop() {
		c.IssueBatch(a, credit.IssueCertificateBatchRequest{BatchID: fmt.Sprintf("B%d", time.Now().UnixNano()), Subjects: subjects, Purpose: "loan", ValidUntil: "2026-06-30"}, nil, certtest.TxOptions{})
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1000, "ns/cert")
}
