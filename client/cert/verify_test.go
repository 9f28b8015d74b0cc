package cert_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

var (
	subjX = credit.CompleteCreditCode("91330782MA2EXAMPL")
	subjY = credit.CompleteCreditCode("91330782MA2B00001")
)

// asOf is the end of a date (China Standard Time).
func asOf(date string) cert.Options { return cert.Options{AsOf: cert.EndOfDate(credit.MustDate(date))} }

func issueReq(id, subject string) credit.IssueCertificateRequest {
	return credit.IssueCertificateRequest{ID: id, Subject: subject, Purpose: credit.PurposeBidding, ValidUntil: "2026-06-30"}
}

// punishmentOf is an active punishment of subject by county 330782.
func punishmentOf(subject string) []credit.Record {
	return []credit.Record{&credit.Punishment{
		Header:         credit.Header{Kind: credit.TypePunishment, ID: "pun-1", Subject: subject, County: "330782", Department: "market", State: credit.StateActive},
		PunishmentKind: credit.PunishmentBlacklist, Severity: credit.SeveritySerious, DecisionDate: credit.MustDate("2026-02-01"),
		DecisionNo: "义市监罚〔2026〕1号", Measures: []string{"bidding"}, RuleSet: "ndrc-2019", MaxEnd: credit.MustDate("2029-02-01"), Revision: 1,
	}}
}

// segments decodes a JWS's header and payload JSON.
func segments(t *testing.T, jws string) (header, payload []byte, sig string) {
	t.Helper()
	p := strings.Split(jws, ".")
	h, err := base64.RawURLEncoding.DecodeString(p[0])
	if err != nil {
		t.Fatal(err)
	}
	pl, err := base64.RawURLEncoding.DecodeString(p[1])
	if err != nil {
		t.Fatal(err)
	}
	return h, pl, p[2]
}

func join(h, p []byte, sig string) string {
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "." + sig
}

// replaceOnce changes the first occurrence of old, which must exist.
func replaceOnce(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	s := string(b)
	if !strings.Contains(s, old) {
		t.Fatalf("%q not found in %s", old, s)
	}
	return []byte(strings.Replace(s, old, new, 1))
}

// mutateBlock decodes the bundle's block n, applies f and re-encodes it.
func mutateBlock(t *testing.T, b *cert.Bundle, n uint64, f func(*common.Block)) {
	t.Helper()
	for i := range b.Blocks {
		if b.Blocks[i].Number != n {
			continue
		}
		var blk common.Block
		if err := proto.Unmarshal(b.Blocks[i].Block, &blk); err != nil {
			t.Fatal(err)
		}
		f(&blk)
		raw, err := proto.Marshal(&blk)
		if err != nil {
			t.Fatal(err)
		}
		b.Blocks[i].Block = raw
		return
	}
	t.Fatalf("no block %d in the bundle", n)
}

func mustSign(t *testing.T, s *cert.Signer, c *cert.Credential) string {
	t.Helper()
	jws, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// TestValidCertificate: a certificate issued by county 330782 about a
// subject with an active punishment verifies online and offline; offline
// states what it could not check (issue 6: the peer-local validity flag
// and revocation after the bundle); the report names the endorsers.
func TestValidCertificate(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), punishmentOf(subjX), nil, certtest.TxOptions{})
	v := c.Verifier()
	r := v.VerifyOffline(iss.JWS, c.Bundle(iss.JWS), asOf("2026-03-10"))
	if r.Verdict != cert.Valid || len(r.Findings) != 0 {
		t.Fatalf("offline: %s %v", r.Verdict, r.Findings)
	}
	if !r.Has(cert.NoteValidityFlag) || !r.Has(cert.NoteRevocationAfterBundle) || r.Has(cert.NoteTrustFromBundle) {
		t.Fatalf("offline notes %v", r.Notes)
	}
	if !slices.Equal(r.Endorsers, []string{"County330782MSP", "County330783MSP"}) || r.BlockNumber != iss.Block || r.State != credit.CertValid {
		t.Fatalf("offline report %+v", r)
	}
	st, err := r.Certificate.Status()
	if err != nil || r.Subject != subjX || r.CertificateID != "cert-1" || st.NoAdverseRecord {
		t.Fatalf("report content %+v", r)
	}
	r = v.VerifyOnline(context.Background(), c.Ledger(), iss.JWS, asOf("2026-03-10"))
	if r.Verdict != cert.Valid || len(r.Notes) != 0 || r.State != credit.CertValid {
		t.Fatalf("online: %s %v %v", r.Verdict, r.Findings, r.Notes)
	}
	if r.Verdict.Label() != "有效" {
		t.Fatalf("label %s", r.Verdict.Label())
	}
}

// scenario builds a certificate (and what verifies it) for one reason.
type scenario struct {
	name    string
	build   func(t *testing.T, c *certtest.Consortium) (jws string, b *cert.Bundle, opts cert.Options)
	offline bool // check offline
	online  bool // check online
	verdict cert.Verdict
	reason  cert.Reason
}

// TestEveryReason: issue 6 — tampering with any byte, a wrong issuer, a
// certificate from a non-member CA, expiry, revocation, suspension, a
// replayed anchor, a certificate not yet valid and a wrong Merkle proof
// each give their own reason; so do broken ledger proofs, endorsement
// policy failures, an invalid anchoring transaction, and missing evidence
// (cannot tell).
func TestEveryReason(t *testing.T) {
	a := func(c *certtest.Consortium) *certtest.County { return c.County("330782") }
	issue := func(t *testing.T, c *certtest.Consortium, opts certtest.TxOptions) *certtest.Issued {
		return c.Issue(a(c), issueReq("cert-1", subjX), punishmentOf(subjX), nil, opts)
	}
	plain := func(t *testing.T, c *certtest.Consortium, jws string) (string, *cert.Bundle, cert.Options) {
		return jws, c.Bundle(jws), asOf("2026-03-10")
	}
	scenarios := []scenario{
		{name: "payload byte tampered", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonBadSignature,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				h, p, s := segments(t, iss.JWS)
				return join(h, replaceOnce(t, p, `"noAdverseRecord":false`, `"noAdverseRecord":true `), s), c.Bundle(iss.JWS), asOf("2026-03-10")
			}},
		{name: "header byte tampered", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonBadSignature,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				h, p, s := segments(t, iss.JWS)
				return join(replaceOnce(t, h, `"kid":"`, `"kid":"x`), p, s), c.Bundle(iss.JWS), asOf("2026-03-10")
			}},
		{name: "signature byte tampered", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonBadSignature,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				sig := []byte(iss.JWS[strings.LastIndexByte(iss.JWS, '.')+1:])
				sig[10] ^= 'A' ^ 'C'
				return iss.JWS[:strings.LastIndexByte(iss.JWS, '.')+1] + string(sig), c.Bundle(iss.JWS), asOf("2026-03-10")
			}},
		{name: "not a JWS", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonMalformed,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				return "eyJhbGciOiJFUzI1NiJ9.e30", c.Bundle(iss.JWS), asOf("2026-03-10")
			}},
		{name: "wrong issuer: another county's officer signs", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonWrongIssuer,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				return plain(t, c, mustSign(t, c.County("330783").Signer, iss.Credential))
			}},
		{name: "non-member CA", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonUntrustedCA,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				rogue := certtest.NewCA(t, "ca.c330782.credit.local", "County330782MSP")
				m := rogue.Issue(t, "County330782MSP", "officer1", "client", map[string]string{"role": "officer", "dept": "credit-office"})
				s, err := cert.NewSigner("County330782MSP", m.CertPEM, m.KeyPEM, rogue.PEM)
				if err != nil {
					t.Fatal(err)
				}
				return plain(t, c, mustSign(t, s, iss.Credential))
			}},
		{name: "expired", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonExpired,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				return iss.JWS, c.Bundle(iss.JWS), asOf("2026-07-01")
			}},
		{name: "not yet valid", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonNotYetValid,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				return iss.JWS, c.Bundle(iss.JWS), asOf("2026-03-01")
			}},
		{name: "revoked", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonRevoked,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				c.SetDate("2026-03-05")
				c.SetStatus(a(c), "cert-1", credit.CertRevoked, "材料造假", certtest.TxOptions{})
				return plain(t, c, iss.JWS)
			}},
		{name: "suspended", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonSuspended,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				c.SetDate("2026-03-05")
				c.SetStatus(a(c), "cert-1", credit.CertSuspended, "复核中", certtest.TxOptions{})
				return plain(t, c, iss.JWS)
			}},
		{name: "replayed anchor: another subject's", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonAnchorMismatch,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				clean := c.Issue(a(c), issueReq("cert-y", subjY), nil, nil, certtest.TxOptions{})
				dirty := issue(t, c, certtest.TxOptions{})
				cred := *clean.Credential
				cred.CredentialStatus = dirty.Credential.CredentialStatus
				cred.CredentialStatus.Digest = clean.Credential.CredentialStatus.Digest
				return plain(t, c, mustSign(t, a(c).Signer, &cred))
			}},
		{name: "replayed anchor: digest mismatch", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonAnchorMismatch,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				cred := *iss.Credential
				cred.CredentialSubject.CreditStatus = replaceOnce(t, cred.CredentialSubject.CreditStatus, `"noAdverseRecord":false`, `"noAdverseRecord":true`)
				return plain(t, c, mustSign(t, a(c).Signer, &cred))
			}},
		{name: "replayed anchor: signed by another officer", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonAnchorMismatch,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				co := a(c)
				m := co.CA.Issue(t, co.MSPID, "officer2", "client", map[string]string{"role": "officer", "dept": "market"})
				s, err := cert.NewSigner(co.MSPID, m.CertPEM, m.KeyPEM, co.CA.PEM)
				if err != nil {
					t.Fatal(err)
				}
				return plain(t, c, mustSign(t, s, iss.Credential))
			}},
		{name: "merkle proof wrong", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonMerkleProof,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				members := c.IssueBatch(a(c), credit.IssueCertificateBatchRequest{BatchID: "B01", Subjects: []string{subjX, subjY}, Purpose: "loan", ValidUntil: "2026-06-30"}, nil, certtest.TxOptions{})
				cred := *members[1].Credential
				p := *cred.CredentialStatus.MerkleProof
				p.Path = []string{strings.Repeat("ab", 32)}
				cred.CredentialStatus.MerkleProof = &p
				return plain(t, c, mustSign(t, a(c).Signer, &cred))
			}},
		{name: "issuance endorsed by the issuer alone", offline: true, verdict: cert.Invalid, reason: cert.ReasonEndorsementPolicy,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				return plain(t, c, issue(t, c, certtest.TxOptions{Endorsers: []string{"330782"}}).JWS)
			}},
		{name: "issuance not endorsed by the issuer", offline: true, verdict: cert.Invalid, reason: cert.ReasonEndorsementPolicy,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				return plain(t, c, issue(t, c, certtest.TxOptions{Endorsers: []string{"330783", "371321"}}).JWS)
			}},
		{name: "forged endorsement signature", offline: true, verdict: cert.Invalid, reason: cert.ReasonLedgerProof,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				return plain(t, c, issue(t, c, certtest.TxOptions{BadEndorsement: true}).JWS)
			}},
		{name: "forged orderer signature", offline: true, verdict: cert.Invalid, reason: cert.ReasonLedgerProof,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				b := c.Bundle(iss.JWS)
				mutateBlock(t, b, iss.Block, func(blk *common.Block) {
					var md common.Metadata
					_ = proto.Unmarshal(blk.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES], &md)
					md.Signatures[0].Signature[8] ^= 1
					blk.Metadata.Metadata[common.BlockMetadataIndex_SIGNATURES], _ = proto.Marshal(&md)
				})
				return iss.JWS, b, asOf("2026-03-10")
			}},
		{name: "transaction not in the block it names", offline: true, verdict: cert.Invalid, reason: cert.ReasonLedgerProof,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				b := c.Bundle(iss.JWS)
				mutateBlock(t, b, iss.Block, func(blk *common.Block) { blk.Header.DataHash[0] ^= 1 })
				return iss.JWS, b, asOf("2026-03-10")
			}},
		{name: "block marks the transaction invalid", offline: true, online: true, verdict: cert.Invalid, reason: cert.ReasonTxInvalid,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{Validation: peer.TxValidationCode_PHANTOM_READ_CONFLICT})
				// The anchor is not in the key history (the transaction
				// wrote nothing), so the bundle is put together by hand.
				blk, err := c.Ledger().BlockByTxID(context.Background(), iss.TxID)
				if err != nil {
					t.Fatal(err)
				}
				b := &cert.Bundle{Format: cert.BundleFormat, Channel: "credit", Chaincode: "credit", Certificates: []string{iss.JWS}}
				if err := b.AddBlock(blk); err != nil {
					t.Fatal(err)
				}
				return iss.JWS, b, asOf("2026-03-10")
			}},
		{name: "anchoring transaction unknown", online: true, verdict: cert.Invalid, reason: cert.ReasonAnchorNotFound,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				cred := *iss.Credential
				cred.CredentialStatus.TxID = strings.Repeat("0", 64)
				return plain(t, c, mustSign(t, a(c).Signer, &cred))
			}},
		{name: "bundle lacks the transaction", offline: true, verdict: cert.CannotTell, reason: cert.ReasonEvidenceMissing,
			build: func(t *testing.T, c *certtest.Consortium) (string, *cert.Bundle, cert.Options) {
				iss := issue(t, c, certtest.TxOptions{})
				b := c.Bundle(iss.JWS)
				b.Blocks = nil
				return iss.JWS, b, asOf("2026-03-10")
			}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			c := certtest.New(t)
			jws, b, opts := sc.build(t, c)
			check := func(mode string, r *cert.Report) {
				t.Helper()
				if r.Verdict != sc.verdict || !r.Has(sc.reason) {
					t.Fatalf("%s: verdict %s %v, want %s with %s", mode, r.Verdict, r.Findings, sc.verdict, sc.reason)
				}
				for _, f := range r.Findings {
					if f.Reason == sc.reason && f.Reason.Label() == string(f.Reason) {
						t.Fatalf("reason %s has no Chinese label", f.Reason)
					}
				}
			}
			if sc.offline {
				check("offline", c.Verifier().VerifyOffline(jws, b, opts))
			}
			if sc.online {
				check("online", c.Verifier().VerifyOnline(context.Background(), c.Ledger(), jws, opts))
			}
		})
	}
}

// TestEveryTamperedByteIsRefused flips each character of a certificate in
// turn (a sample of positions in each part): none verifies.
func TestEveryTamperedByteIsRefused(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	b := c.Bundle(iss.JWS)
	v := c.Verifier()
	jws := []byte(iss.JWS)
	for i := 0; i < len(jws); i += 7 {
		if jws[i] == '.' {
			continue
		}
		m := slices.Clone(jws)
		if m[i] == 'A' {
			m[i] = 'B'
		} else {
			m[i] = 'A'
		}
		if r := v.VerifyOffline(string(m), b, asOf("2026-03-10")); r.Verdict != cert.Invalid {
			t.Fatalf("byte %d changed: verdict %s %v", i, r.Verdict, r.Findings)
		}
	}
}

// TestOnlineLedgerUnavailable: when the ledger cannot be asked, online
// verification cannot tell (issue 6: valid, invalid, or cannot tell).
func TestOnlineLedgerUnavailable(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	l := c.Ledger()
	l.Down = true
	r := c.Verifier().VerifyOnline(context.Background(), l, iss.JWS, asOf("2026-03-10"))
	if r.Verdict != cert.CannotTell || !r.Has(cert.ReasonLedgerUnavailable) {
		t.Fatalf("verdict %s %v", r.Verdict, r.Findings)
	}
}

// TestCountyMissingFromTrustCannotTell: without the county registry the
// issuer's organisation cannot be confirmed.
func TestCountyMissingFromTrustCannotTell(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	tr := c.Trust()
	tr.Counties = nil
	reports, err := cert.VerifyBundle(c.Bundle(iss.JWS), tr, asOf("2026-03-10"))
	if err != nil {
		t.Fatal(err)
	}
	if r := reports[0]; r.Verdict != cert.CannotTell || !r.Has(cert.ReasonEvidenceMissing) {
		t.Fatalf("verdict %s %v", r.Verdict, r.Findings)
	}
}

// TestAsOfFollowsTheStatusHistory: --as-of asks "was it valid at that
// date": the anchor version in force then decides (issue 6), online from
// the key history, offline from the bundled status transactions.
func TestAsOfFollowsTheStatusHistory(t *testing.T) {
	c := certtest.New(t)
	a := c.County("330782")
	iss := c.Issue(a, issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{}) // 2026-03-02
	for _, s := range []struct{ date, status string }{{"2026-03-04", credit.CertSuspended}, {"2026-03-06", credit.CertValid}, {"2026-03-08", credit.CertRevoked}} {
		c.SetDate(s.date)
		c.SetStatus(a, "cert-1", s.status, "复核", certtest.TxOptions{})
	}
	b := c.Bundle(iss.JWS)
	cases := []struct {
		date    string
		verdict cert.Verdict
		state   string
	}{
		{"2026-03-03", cert.Valid, credit.CertValid},
		{"2026-03-04", cert.Invalid, credit.CertSuspended},
		{"2026-03-07", cert.Valid, credit.CertValid},
		{"2026-03-09", cert.Invalid, credit.CertRevoked},
	}
	for _, tc := range cases {
		for mode, r := range map[string]*cert.Report{
			"offline": c.Verifier().VerifyOffline(iss.JWS, b, asOf(tc.date)),
			"online":  c.Verifier().VerifyOnline(context.Background(), c.Ledger(), iss.JWS, asOf(tc.date)),
		} {
			if r.Verdict != tc.verdict || r.State != tc.state || r.CurrentState != credit.CertRevoked {
				t.Errorf("%s as of %s: %s state %s (current %s) %v, want %s %s", mode, tc.date, r.Verdict, r.State, r.CurrentState, r.Findings, tc.verdict, tc.state)
			}
		}
	}
}

// TestStatusChangeNeedsTheIssuer: a status version endorsed by another
// county is not believed offline (the anchor's key-level policy names the
// issuing county).
func TestStatusChangeNeedsTheIssuer(t *testing.T) {
	c := certtest.New(t)
	a := c.County("330782")
	iss := c.Issue(a, issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	c.SetDate("2026-03-05")
	c.SetStatus(a, "cert-1", credit.CertRevoked, "x", certtest.TxOptions{Endorsers: []string{"330783"}})
	r := c.Verifier().VerifyOffline(iss.JWS, c.Bundle(iss.JWS), asOf("2026-03-10"))
	if r.Verdict != cert.Invalid || !r.Has(cert.ReasonEndorsementPolicy) || r.Has(cert.ReasonRevoked) {
		t.Fatalf("verdict %s %v", r.Verdict, r.Findings)
	}
}

// TestBatchMembersVerifyFromOneBundle: every member of a batch verifies
// from one bundle holding the anchor's block once; a member's certificate
// presented with another member's proof does not.
func TestBatchMembersVerifyFromOneBundle(t *testing.T) {
	c := certtest.New(t)
	subjects := make([]string, 37)
	for i := range subjects {
		subjects[i] = credit.CompleteCreditCode("91330782MA" + strings.Repeat("0", 5) + string(rune('A'+i/10)) + string(rune('0'+i%10)))
	}
	members := c.IssueBatch(c.County("330782"), credit.IssueCertificateBatchRequest{BatchID: "B2026-03", Subjects: subjects, Purpose: "licence", ValidUntil: "2026-06-30"}, nil, certtest.TxOptions{})
	var all []string
	for _, m := range members {
		all = append(all, m.JWS)
	}
	b := c.Bundle(all...)
	if len(b.Blocks) != 1 {
		t.Fatalf("bundle holds %d blocks", len(b.Blocks))
	}
	reports, err := cert.VerifyBundle(b, c.Trust(), asOf("2026-03-10"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reports {
		if r.Verdict != cert.Valid || r.CertificateID != credit.MemberID("B2026-03", i) || r.Subject != subjects[i] {
			t.Fatalf("member %d: %s %v %s", i, r.Verdict, r.Findings, r.CertificateID)
		}
	}
	cred := *members[3].Credential
	cred.CredentialStatus.MerkleProof = members[4].Credential.CredentialStatus.MerkleProof
	r := c.Verifier().VerifyOffline(mustSign(t, c.County("330782").Signer, &cred), b, asOf("2026-03-10"))
	if r.Verdict != cert.Invalid {
		t.Fatalf("swapped proof: %s", r.Verdict)
	}
}

// TestBatchMemberStatus: one member of a batch revoked on its own reads
// revoked, online and from a bundle made after the revocation, while the
// other members stay valid; as of a date before the revocation it was
// valid; the batch's own suspension then covers every member, and the
// revoked member stays revoked under it.
func TestBatchMemberStatus(t *testing.T) {
	c := certtest.New(t)
	a := c.County("330782")
	subjects := []string{subjX, credit.CompleteCreditCode("91330782MA00000B1"), credit.CompleteCreditCode("91330782MA00000B2")}
	members := c.IssueBatch(a, credit.IssueCertificateBatchRequest{BatchID: "B2026-03", Subjects: subjects, Purpose: "licence", ValidUntil: "2026-06-30"}, nil, certtest.TxOptions{}) // 2026-03-02
	c.SetDate("2026-03-05")
	c.SetStatus(a, "B2026-03.00002", credit.CertRevoked, "该主体新增行政处罚", certtest.TxOptions{})
	c.SetDate("2026-03-08")
	c.SetStatus(a, "B2026-03", credit.CertSuspended, "批量复核", certtest.TxOptions{})
	var all []string
	for _, m := range members {
		all = append(all, m.JWS)
	}
	b := c.Bundle(all...)
	cases := []struct {
		member  int
		date    string
		verdict cert.Verdict
		state   string
		current string
		reason  cert.Reason
		detail  string
	}{
		{1, "2026-03-04", cert.Valid, credit.CertValid, credit.CertRevoked, "", ""},
		{1, "2026-03-06", cert.Invalid, credit.CertRevoked, credit.CertRevoked, cert.ReasonRevoked, "member B2026-03.00002 alone"},
		{0, "2026-03-06", cert.Valid, credit.CertValid, credit.CertSuspended, "", ""},
		{2, "2026-03-06", cert.Valid, credit.CertValid, credit.CertSuspended, "", ""},
		{0, "2026-03-09", cert.Invalid, credit.CertSuspended, credit.CertSuspended, cert.ReasonSuspended, "批量复核"},
		{1, "2026-03-09", cert.Invalid, credit.CertRevoked, credit.CertRevoked, cert.ReasonRevoked, "该主体新增行政处罚"},
	}
	for _, tc := range cases {
		for mode, r := range map[string]*cert.Report{
			"offline": c.Verifier().VerifyOffline(members[tc.member].JWS, b, asOf(tc.date)),
			"online":  c.Verifier().VerifyOnline(context.Background(), c.Ledger(), members[tc.member].JWS, asOf(tc.date)),
		} {
			if r.Verdict != tc.verdict || r.State != tc.state || r.CurrentState != tc.current {
				t.Errorf("%s, member %d as of %s: %s state %s (current %s) %v; want %s %s (current %s)", mode, tc.member, tc.date,
					r.Verdict, r.State, r.CurrentState, r.Findings, tc.verdict, tc.state, tc.current)
				continue
			}
			if tc.reason == "" {
				continue
			}
			found := false
			for _, f := range r.Findings {
				found = found || f.Reason == tc.reason && strings.Contains(f.Detail, tc.detail)
			}
			if !found {
				t.Errorf("%s, member %d as of %s: findings %v, want %s saying %q", mode, tc.member, tc.date, r.Findings, tc.reason, tc.detail)
			}
		}
	}
}

// TestTrustFromTheBundle: verifying with the bundle's own trust roots says
// so, with their fingerprint.
func TestTrustFromTheBundle(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	reports, err := cert.VerifyBundle(c.Bundle(iss.JWS), nil, asOf("2026-03-10"))
	if err != nil {
		t.Fatal(err)
	}
	r := reports[0]
	if r.Verdict != cert.Valid || !r.Has(cert.NoteTrustFromBundle) || !strings.Contains(r.Notes[len(r.Notes)-1].Detail, c.Trust().Fingerprint()) {
		t.Fatalf("%s %v", r.Verdict, r.Notes)
	}
}

// TestTrustFromConfigBlock: the trust roots come from the channel
// configuration: each county's and the orderer's MSP root certificates and
// node OUs, the consensus type, the MAJORITY endorsement policy, and the
// county registry; the fingerprint ignores the export time and changes
// with any root.
func TestTrustFromConfigBlock(t *testing.T) {
	c := certtest.New(t)
	tr := c.Trust()
	var msps []string
	for _, o := range tr.Organizations {
		msps = append(msps, o.Role+":"+o.MSPID)
		if len(o.RootCerts) != 1 || o.NodeOUs == nil || o.NodeOUs.Peer != "peer" || o.NodeOUs.Orderer != "orderer" {
			t.Fatalf("organisation %+v", o)
		}
	}
	if !slices.Equal(msps, []string{"application:County330782MSP", "application:County330783MSP", "application:County371321MSP", "orderer:OrdererMSP"}) {
		t.Fatalf("organisations %v", msps)
	}
	if tr.Channel != "credit" || tr.OrdererType != "etcdraft" || tr.Endorsement != "MAJORITY Endorsement" || len(tr.Counties) != 3 || tr.Counties[0].MSPID != "County330782MSP" {
		t.Fatalf("trust %+v", tr)
	}
	f := tr.Fingerprint()
	tr.ExportedAt = "2030-01-01T00:00:00Z"
	if tr.Fingerprint() != f {
		t.Fatal("the export time changes the fingerprint")
	}
	tr.Organizations[0].RootCerts[0] = tr.Organizations[1].RootCerts[0]
	if tr.Fingerprint() == f {
		t.Fatal("a changed root keeps the fingerprint")
	}
	var buf strings.Builder
	if _, err := c.Trust().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := cert.ReadTrust(strings.NewReader(buf.String()))
	if err != nil || back.Fingerprint() != f {
		t.Fatalf("the fingerprint does not survive a round trip: %v", err)
	}
	if _, err := cert.ReadTrust(strings.NewReader(strings.Replace(buf.String(), "BEGIN CERTIFICATE", "BEGIN JUNK", 1))); err == nil {
		t.Fatal("read trust roots with a broken certificate")
	}
}

// TestBundleRoundTrip: a bundle written and read back verifies the same.
func TestBundleRoundTrip(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	var buf strings.Builder
	if _, err := c.Bundle(iss.JWS).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	b, err := cert.ReadBundle(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Verifier().VerifyOffline(iss.JWS, b, asOf("2026-03-10")); r.Verdict != cert.Valid {
		t.Fatalf("%s %v", r.Verdict, r.Findings)
	}
	if _, err := cert.ReadBundle(strings.NewReader(`{"format":"other"}`)); err == nil {
		t.Fatal("read a bundle of another format")
	}
}

// TestCredentialFormat: a W3C VC 2.0 with our context as a plain string,
// issuer the county (urn and 信用办 name) and officer, validity from the
// issuing date to the end of validUntil in UTC+8, the status verbatim and
// the ledger anchor; the JWS header per VC-JOSE-COSE.
func TestCredentialFormat(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), punishmentOf(subjX), nil, certtest.TxOptions{})
	h, p, _ := segments(t, iss.JWS)
	var hdr map[string]any
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr["alg"] != "ES256" || hdr["typ"] != "vc+jwt" || hdr["cty"] != "vc" || len(hdr["x5c"].([]any)) != 2 || hdr["kid"] == "" {
		t.Fatalf("header %v", hdr)
	}
	var vc map[string]any
	if err := json.Unmarshal(p, &vc); err != nil {
		t.Fatal(err)
	}
	ctx := vc["@context"].([]any)
	issuer := vc["issuer"].(map[string]any)
	st := vc["credentialStatus"].(map[string]any)
	if ctx[0] != cert.ContextV2 || ctx[1] != cert.ContextCredit || vc["type"].([]any)[1] != "CreditStatusCertificate" ||
		issuer["id"] != "urn:cn:credit:county:330782" || issuer["name"] != "义乌市信用办" || issuer["officer"].(map[string]any)["name"] != "officer1" ||
		vc["validFrom"] != "2026-03-02T00:00:00+08:00" || vc["validUntil"] != "2026-06-30T23:59:59+08:00" ||
		st["txId"] != iss.TxID || st["blockNumber"] != float64(iss.Block) || st["anchorId"] != "cert-1" || st["type"] != "FabricLedgerAnchor" {
		t.Fatalf("credential %s", p)
	}
	parsed, err := cert.Parse(iss.JWS)
	if err != nil {
		t.Fatal(err)
	}
	status, err := parsed.Status()
	if err != nil || parsed.Digest != st["digest"] || parsed.Subject != subjX || status.Subject != subjX || len(status.Punishments) != 1 {
		t.Fatalf("parsed %+v %v", status, err)
	}
}

// TestSM2Profile: the guomi profile signs with SM2/SM3 under the
// non-registered alg "SM2SM3"; the SM2 signing certificate is minted by the
// county's (ECDSA) CA with the officer's subject, so it verifies like an
// ES256 certificate; tampering breaks it; an SM2 certificate from another
// CA is refused.
func TestSM2Profile(t *testing.T) {
	c := certtest.New(t)
	a := c.County("330782")
	s := a.SM2Signer(t)
	if s.Alg() != cert.AlgSM2SM3 {
		t.Fatalf("alg %s", s.Alg())
	}
	iss := c.Issue(a, issueReq("cert-1", subjX), nil, s, certtest.TxOptions{})
	h, p, sig := segments(t, iss.JWS)
	if !strings.Contains(string(h), `"alg":"SM2SM3"`) {
		t.Fatalf("header %s", h)
	}
	b := c.Bundle(iss.JWS)
	v := c.Verifier()
	if r := v.VerifyOffline(iss.JWS, b, asOf("2026-03-10")); r.Verdict != cert.Valid {
		t.Fatalf("sm2 offline: %s %v", r.Verdict, r.Findings)
	}
	if r := v.VerifyOnline(context.Background(), c.Ledger(), iss.JWS, asOf("2026-03-10")); r.Verdict != cert.Valid {
		t.Fatalf("sm2 online: %s %v", r.Verdict, r.Findings)
	}
	bad := join(h, replaceOnce(t, p, `"purpose":"bidding"`, `"purpose":"loan"`), sig)
	if r := v.VerifyOffline(bad, b, asOf("2026-03-10")); !r.Has(cert.ReasonBadSignature) {
		t.Fatalf("tampered sm2: %s %v", r.Verdict, r.Findings)
	}
	other := c.County("330783").SM2Signer(t)
	if r := v.VerifyOffline(mustSign(t, other, iss.Credential), b, asOf("2026-03-10")); !r.Has(cert.ReasonWrongIssuer) {
		t.Fatalf("another county's sm2 signer: %s %v", r.Verdict, r.Findings)
	}
}

// TestReasonsHaveLabels: every reason has a Chinese label and a class;
// verdicts too.
func TestReasonsHaveLabels(t *testing.T) {
	for _, r := range cert.Reasons {
		if r.Label() == string(r) {
			t.Errorf("reason %s has no label", r)
		}
	}
	for _, v := range []cert.Verdict{cert.Valid, cert.Invalid, cert.CannotTell} {
		if v.Label() == string(v) {
			t.Errorf("verdict %s has no label", v)
		}
	}
}

// FuzzVerifyOffline: no input makes parsing or verification panic, and
// nothing but the issued certificate verifies.
func FuzzVerifyOffline(f *testing.F) {
	c := certtest.New(f)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	b := c.Bundle(iss.JWS)
	v := c.Verifier()
	f.Add(iss.JWS)
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, jws string) {
		_, _ = cert.Parse(jws)
		r := v.VerifyOffline(jws, b, cert.Options{AsOf: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)})
		if r.Verdict == cert.Valid && strings.TrimSpace(jws) != iss.JWS {
			t.Fatalf("a changed certificate verifies: %q", jws)
		}
	})
}
