package cert

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// Options of a verification.
type Options struct {
	// AsOf is the moment the verdict speaks for; zero means now. "Was it
	// valid on a date" is AsOf = EndOfDate(date).
	AsOf time.Time
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (o Options) asOf() time.Time {
	if !o.AsOf.IsZero() {
		return o.AsOf
	}
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Verification modes.
const (
	ModeOffline = "offline"
	ModeOnline  = "online"
)

// Report is the answer about one certificate: the verdict, the findings
// that made it invalid or undecidable (each a reason code with details),
// the notes on what could not be checked, and what was learnt.
type Report struct {
	Verdict  Verdict   `json:"verdict"`
	Mode     string    `json:"mode"`
	AsOf     time.Time `json:"asOf"`
	Findings []Finding `json:"findings"`
	Notes    []Finding `json:"notes"`
	// CertificateID and Subject are read from the certificate (when it
	// could be parsed).
	CertificateID string `json:"certificateId,omitempty"`
	Subject       string `json:"subject,omitempty"`
	// Anchor is the anchor version in force at AsOf (nil if none was
	// found); State the certificate's state in it, CurrentState in the
	// latest known one. For a member of a batch the state is the
	// member's (credit.Certificate.StateOf): the batch's, unless the
	// member was suspended or revoked on its own.
	Anchor       *credit.Certificate `json:"anchor,omitempty"`
	State        string              `json:"state,omitempty"`
	CurrentState string              `json:"currentState,omitempty"`
	// Endorsers are the counties' MSPs that endorsed the issuance
	// (offline), BlockNumber the block that holds it.
	Endorsers   []string `json:"endorsers,omitempty"`
	BlockNumber uint64   `json:"blockNumber,omitempty"`
	// Certificate is the parsed certificate (nil if malformed).
	Certificate *Certificate `json:"-"`
}

// Has reports whether the report has a finding or note with reason r.
func (r *Report) Has(reason Reason) bool {
	for _, f := range slices.Concat(r.Findings, r.Notes) {
		if f.Reason == reason {
			return true
		}
	}
	return false
}

// Reasons lists the findings' reasons, in order.
func (r *Report) Reasons() []Reason {
	out := []Reason{}
	for _, f := range r.Findings {
		out = append(out, f.Reason)
	}
	return out
}

func (r *Report) add(f Finding) {
	if f.Reason.Class() == ClassNote {
		r.Notes = append(r.Notes, f)
		return
	}
	r.Findings = append(r.Findings, f)
}

func (r *Report) finish() *Report {
	r.Verdict = Valid
	for _, f := range r.Findings {
		switch f.Reason.Class() {
		case ClassInvalid:
			r.Verdict = Invalid
		case ClassCannotTell:
			if r.Verdict == Valid {
				r.Verdict = CannotTell
			}
		}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Notes == nil {
		r.Notes = []Finding{}
	}
	return r
}

// Verifier checks certificates against a channel's trust roots. It caches
// what does not change: a JWS header's certificate chain, a block's proof,
// a transaction's endorsements, so verifying many certificates of one
// batch costs little more than one signature check each. It is safe for
// concurrent use.
type Verifier struct {
	trust *TrustRoots
	ix    *trustIndex

	mu      sync.Mutex
	headers map[string]*headerInfo
	bundle  *parsedBundle
	online  map[string]*issuance // txID → issuance read from the ledger
}

// maxCachedHeaders bounds the header cache (one entry per signing officer
// and CA in practice).
const maxCachedHeaders = 1024

// NewVerifier returns a verifier trusting t.
func NewVerifier(t *TrustRoots) (*Verifier, error) {
	ix, err := newTrustIndex(t)
	if err != nil {
		return nil, fmt.Errorf("new verifier: %w", err)
	}
	return &Verifier{trust: t, ix: ix, headers: map[string]*headerInfo{}, online: map[string]*issuance{}}, nil
}

// Trust returns the verifier's trust roots.
func (v *Verifier) Trust() *TrustRoots { return v.trust }

// headerInfo is a protected header, parsed, with its chain checked against
// the trust roots.
type headerInfo struct {
	hdr      Header
	chain    []*x509.Certificate
	org      *orgIndex // the member organisation of the CA in x5c; nil if none
	from, to time.Time // validity of the signing chain
	bad      *Finding  // malformed header or untrusted chain
}

func (v *Verifier) header(seg string) *headerInfo {
	v.mu.Lock()
	hi, ok := v.headers[seg]
	v.mu.Unlock()
	if ok {
		return hi
	}
	hi = &headerInfo{}
	h, chain, err := parseHeader(seg)
	if err != nil {
		hi.bad = &Finding{Reason: ReasonMalformed, Detail: err.Error()}
	} else {
		hi.hdr, hi.chain = h, chain
		v.checkChain(hi)
	}
	v.mu.Lock()
	if len(v.headers) >= maxCachedHeaders {
		clear(v.headers)
	}
	v.headers[seg] = hi
	v.mu.Unlock()
	return hi
}

// checkChain finds the member organisation whose CA is x5c[1] and checks
// that it issued x5c[0], a client (officer) certificate.
func (v *Verifier) checkChain(hi *headerInfo) {
	leaf, ca := hi.chain[0], hi.chain[1]
	oi := v.ix.orgOfCA(ca.Raw)
	if oi == nil || oi.org.Role != RoleApplication {
		hi.bad = &Finding{Reason: ReasonUntrustedCA, Detail: fmt.Sprintf("the CA certificate %q in x5c is not a CA of any county of channel %s", ca.Subject.CommonName, v.trust.Channel)}
		return
	}
	hi.org = oi
	// The CA itself must chain to the organisation's roots (it may be an
	// intermediate).
	chains, err := ca.Verify(x509.VerifyOptions{Roots: oi.roots, Intermediates: oi.inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: ca.NotBefore.Add(time.Second)})
	if err != nil || len(chains) == 0 {
		hi.bad = &Finding{Reason: ReasonUntrustedCA, Detail: fmt.Sprintf("the CA certificate %q does not chain to a root of %s: %v", ca.Subject.CommonName, oi.org.MSPID, err)}
		return
	}
	if err := checkIssuedBy(hi.hdr.Alg, leaf, ca); err != nil {
		hi.bad = &Finding{Reason: ReasonUntrustedCA, Detail: fmt.Sprintf("the signing certificate %q is not issued by %q: %v", leaf.Subject.CommonName, ca.Subject.CommonName, err)}
		return
	}
	if oi.revoked[string(leaf.RawIssuer)+"/"+leaf.SerialNumber.String()] {
		hi.bad = &Finding{Reason: ReasonUntrustedCA, Detail: fmt.Sprintf("the signing certificate %q is revoked by %s", leaf.Subject.CommonName, oi.org.MSPID)}
		return
	}
	if err := oi.checkRole(leaf, "client"); err != nil {
		hi.bad = &Finding{Reason: ReasonUntrustedCA, Detail: err.Error()}
		return
	}
	hi.from, hi.to = chainValidity(append([]*x509.Certificate{leaf}, chains[0]...))
}

// checkIssuedBy checks the CA's signature on the signing certificate (an
// SM2 certificate is parsed by smx509, its signature is ECDSA all the same).
func checkIssuedBy(alg string, leaf, ca *x509.Certificate) error {
	if !bytes.Equal(leaf.RawIssuer, ca.RawSubject) {
		return errors.New("issuer name differs")
	}
	return ca.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature)
}

// issuance is the anchor as its issuing transaction wrote it.
type issuance struct {
	anchor    *credit.Certificate
	block     uint64
	creator   *x509.Certificate
	endorsers []string
	err       []Finding // cached findings of the transaction (offline)
}

// version is one version of an anchor.
type version struct {
	at     time.Time
	txID   string
	anchor *credit.Certificate
}

// anchorSource finds an anchor and its versions: a bundle (offline) or the
// ledger (online).
type anchorSource interface {
	issuance(c *Certificate, issuerMSP string) (*issuance, []Finding)
	versions(anchorID, issuerMSP string) ([]version, []Finding)
	notes(r *Report) []Finding
}

// check runs every check of a certificate against an anchor source.
func (v *Verifier) check(jws string, src anchorSource, opts Options, mode string) *Report {
	r := &Report{Mode: mode, AsOf: opts.asOf().UTC()}
	hs, ps, ss, err := splitJWS(jws)
	if err != nil {
		r.add(finding(ReasonMalformed, "%v", err))
		return r.finish()
	}
	hi := v.header(hs)
	if hi.bad != nil && hi.bad.Reason == ReasonMalformed {
		r.add(*hi.bad)
		return r.finish()
	}
	c, err := parseRest(strings.TrimSpace(jws), hs, ps, ss)
	if err != nil {
		r.add(finding(ReasonMalformed, "%v", err))
		return r.finish()
	}
	c.Header, c.Chain = hi.hdr, hi.chain
	r.Certificate, r.CertificateID, r.Subject = c, c.Credential.CertificateID(), c.Subject

	// The signature first: if it fails, nothing in the certificate can be
	// believed.
	if err := verifySignature(hi.hdr.Alg, hi.chain[0].PublicKey, c.signingInput, c.signature); err != nil {
		r.add(finding(ReasonBadSignature, "%v: the header, payload or signature was changed", err))
		return r.finish()
	}
	if hi.bad != nil {
		r.add(*hi.bad)
		return r.finish()
	}
	cred := &c.Credential
	issuedAt, err := time.Parse(time.RFC3339, c.AsOf)
	if err != nil {
		r.add(finding(ReasonMalformed, "creditStatus.asOf %q is not an RFC 3339 time", c.AsOf))
		return r.finish()
	}
	if issuedAt.Before(hi.from) || issuedAt.After(hi.to) {
		r.add(finding(ReasonUntrustedCA, "the signing certificate %q is not valid at the issuance %s (valid %s to %s)",
			hi.chain[0].Subject.CommonName, c.AsOf, hi.from.UTC().Format(time.RFC3339), hi.to.UTC().Format(time.RFC3339)))
	}

	// The issuer the certificate names must be the county whose CA signed.
	signerMSP := hi.org.org.MSPID
	code, ok := CountyFromURN(cred.Issuer.ID)
	if !ok || code != cred.Issuer.County {
		r.add(finding(ReasonMalformed, "issuer id %q does not name county %q", cred.Issuer.ID, cred.Issuer.County))
		return r.finish()
	}
	county, known := v.trust.County(code)
	switch {
	case !known:
		r.add(finding(ReasonEvidenceMissing, "county %s is not in the trust roots' county registry", code))
	case county.MSPID != signerMSP:
		r.add(finding(ReasonWrongIssuer, "the certificate names county %s (%s), but its signing certificate is issued by the CA of %s", code, county.MSPID, signerMSP))
	}
	if cred.Issuer.MSPID != signerMSP {
		r.add(finding(ReasonWrongIssuer, "the certificate names MSP %s, but its signing certificate is issued by the CA of %s", cred.Issuer.MSPID, signerMSP))
	}

	// The certificate must be consistent with itself.
	st := &cred.CredentialStatus
	if st.Digest != c.Digest {
		r.add(finding(ReasonAnchorMismatch, "the certificate claims digest %s, its credit status hashes to %s", st.Digest, c.Digest))
	}
	if subj, _ := SubjectFromURN(cred.CredentialSubject.ID); subj != c.Subject {
		r.add(finding(ReasonAnchorMismatch, "credentialSubject.id names %q, the status is about %q", subj, c.Subject))
	}
	if st.Channel != v.trust.Channel {
		r.add(finding(ReasonAnchorMismatch, "the certificate is anchored on channel %q, the trust roots are of %q", st.Channel, v.trust.Channel))
	}

	// The ledger anchor.
	issuerMSP := signerMSP
	if known {
		issuerMSP = county.MSPID
	}
	iss, fs := src.issuance(c, issuerMSP)
	for _, f := range fs {
		r.add(f)
	}
	validFrom, validUntil := issuedAt, time.Time{}
	if until, err := time.Parse(time.RFC3339, cred.ValidUntil); err == nil {
		validUntil = until
	}
	if iss != nil {
		r.Endorsers, r.BlockNumber = iss.endorsers, iss.block
		v.compareAnchor(r, c, hi, iss)
		validUntil = EndOfDate(iss.anchor.ValidUntil)
		if t, err := time.Parse(time.RFC3339, iss.anchor.IssuedAt); err == nil {
			validFrom = t
		}
		vs, fs := src.versions(st.AnchorID, issuerMSP)
		for _, f := range fs {
			r.add(f)
		}
		v.applyState(r, st.CertificateID, vs)
	}
	for _, f := range src.notes(r) {
		r.add(f)
	}

	// Time.
	switch {
	case r.AsOf.Before(validFrom):
		r.add(finding(ReasonNotYetValid, "asked as of %s; the certificate was issued at %s", r.AsOf.Format(time.RFC3339), validFrom.UTC().Format(time.RFC3339)))
	case !validUntil.IsZero() && r.AsOf.After(validUntil):
		r.add(finding(ReasonExpired, "asked as of %s; the certificate was valid until %s", r.AsOf.Format(time.RFC3339), validUntil.Format(time.RFC3339)))
	}
	return r.finish()
}

// compareAnchor checks the certificate's claims against the anchor its
// issuing transaction wrote.
func (v *Verifier) compareAnchor(r *Report, c *Certificate, hi *headerInfo, iss *issuance) {
	a, cred := iss.anchor, &c.Credential
	st := &cred.CredentialStatus
	mismatch := func(format string, args ...any) { r.add(finding(ReasonAnchorMismatch, format, args...)) }
	if a.ID != st.AnchorID {
		mismatch("the transaction wrote anchor %s, the certificate names %s", a.ID, st.AnchorID)
	}
	if a.County != cred.Issuer.County {
		r.add(finding(ReasonWrongIssuer, "the anchor was issued by county %s, the certificate names %s", a.County, cred.Issuer.County))
	}
	if a.IssueTxID != st.TxID {
		mismatch("anchor %s was issued by transaction %s, the certificate names %s", a.ID, a.IssueTxID, st.TxID)
	}
	if iss.block != st.BlockNumber {
		mismatch("transaction %s is in block %d, the certificate names block %d", st.TxID, iss.block, st.BlockNumber)
	}
	if a.Purpose != cred.CredentialSubject.Purpose {
		mismatch("the anchor's purpose is %s, the certificate's %s", a.Purpose, cred.CredentialSubject.Purpose)
	}
	if formatStart(a.ValidFrom) != cred.ValidFrom || formatEnd(a.ValidUntil) != cred.ValidUntil {
		mismatch("the anchor is valid %s to %s, the certificate claims %s to %s", a.ValidFrom, a.ValidUntil, cred.ValidFrom, cred.ValidUntil)
	}
	if a.IssuedAt != c.AsOf {
		mismatch("the anchor was issued at %s, the status speaks as of %s", a.IssuedAt, c.AsOf)
	}
	if a.CreatedBy != cred.Issuer.Officer.ID {
		mismatch("the anchor was issued by officer %s, the certificate names %s", a.CreatedBy, cred.Issuer.Officer.ID)
	}
	if iss.creator != nil {
		leaf := hi.chain[0]
		if !bytes.Equal(iss.creator.RawSubject, leaf.RawSubject) || !bytes.Equal(iss.creator.RawIssuer, leaf.RawIssuer) {
			mismatch("the anchoring transaction was submitted by %q, the certificate is signed by %q", iss.creator.Subject.CommonName, leaf.Subject.CommonName)
		}
	}
	if !a.IsBatch() {
		switch {
		case st.MerkleProof != nil:
			mismatch("anchor %s is a single certificate, the certificate carries a batch proof", a.ID)
		case st.CertificateID != a.ID:
			mismatch("anchor %s is certificate %s, not %s", a.ID, a.ID, st.CertificateID)
		case a.Subject != c.Subject:
			mismatch("anchor %s is about subject %s, the certificate about %s", a.ID, a.Subject, c.Subject)
		case a.Digest != c.Digest:
			mismatch("anchor %s holds digest %s, the certificate's status hashes to %s", a.ID, a.Digest, c.Digest)
		}
		return
	}
	p := st.MerkleProof
	if p == nil {
		mismatch("anchor %s is a batch, the certificate carries no Merkle proof", a.ID)
		return
	}
	if st.CertificateID != credit.MemberID(a.ID, p.LeafIndex) {
		mismatch("certificate %s is not member %d of batch %s", st.CertificateID, p.LeafIndex, a.ID)
	}
	if p.TreeSize != a.Count || p.Root != a.MerkleRoot {
		r.add(finding(ReasonMerkleProof, "the proof is for a tree of %d with root %s, batch %s has %d with root %s", p.TreeSize, p.Root, a.ID, a.Count, a.MerkleRoot))
		return
	}
	d, err := credit.DigestBytes(c.Digest)
	root, rerr := credit.DigestBytes(a.MerkleRoot)
	path := make([]credit.Hash, len(p.Path))
	for i, h := range p.Path {
		if path[i], err = credit.DigestBytes(h); err != nil {
			break
		}
	}
	if err != nil || rerr != nil || !credit.VerifyMerklePath(credit.MerkleLeaf(st.CertificateID, d), p.LeafIndex, p.TreeSize, path, root) {
		r.add(finding(ReasonMerkleProof, "the Merkle proof of %s (leaf %d of %d) does not lead to the root of batch %s", st.CertificateID, p.LeafIndex, p.TreeSize, a.ID))
	}
}

// applyState finds the anchor version in force at the report's time and
// the state of certificate id in it.
func (v *Verifier) applyState(r *Report, id string, vs []version) {
	if len(vs) == 0 {
		return
	}
	// compareAnchor has already refused an ID the anchor does not hold;
	// such an ID reads the anchor's own state here.
	stateOf := func(a *credit.Certificate) (string, *credit.CertMember) {
		if s, m, ok := a.StateOf(id); ok {
			return s, m
		}
		return a.State, nil
	}
	r.CurrentState, _ = stateOf(vs[len(vs)-1].anchor)
	var cur *version
	for i := range vs {
		if !vs[i].at.After(r.AsOf) {
			cur = &vs[i]
		}
	}
	if cur == nil {
		return // before the issuance: reported as not yet valid
	}
	a := *cur.anchor // versions are shared between reports
	state, m := stateOf(&a)
	r.Anchor, r.State = &a, state
	by, at, tx, why := "county "+a.County, cur.at.UTC().Format(time.RFC3339), cur.txID, a.StatusReason
	if m != nil { // the member's own change decides
		by = "county " + a.County + " (member " + m.ID + " alone)"
		at, tx, why = m.ChangedAt, m.TxID, m.Reason
	}
	switch state {
	case credit.CertRevoked:
		r.add(finding(ReasonRevoked, "revoked by %s at %s (transaction %s): %s", by, at, tx, why))
	case credit.CertSuspended:
		r.add(finding(ReasonSuspended, "suspended by %s at %s (transaction %s): %s", by, at, tx, why))
	}
}

// anchorKey is the world-state key of an anchor (stub.CreateCompositeKey).
func anchorKey(id string) string {
	return "\x00" + credit.TypeCertificate + "\x00" + id + "\x00"
}

func decodeAnchor(b []byte) (*credit.Certificate, error) {
	var a credit.Certificate
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	if a.Kind != credit.TypeCertificate {
		return nil, fmt.Errorf("kind %q is not certificate", a.Kind)
	}
	return &a, nil
}

// --- offline ---

// parsedBundle is a bundle's blocks parsed once, with the transactions'
// proofs checked once.
type parsedBundle struct {
	b       *Bundle
	ix      *trustIndex
	trust   *TrustRoots
	ownTrst bool // the trust roots came from the bundle
	blocks  []*blockInfo
	byTx    map[string]txRef
	writers map[string][]txRef // anchor key → transactions writing it, in ledger order
	mu      sync.Mutex
	facts   map[string]*txResult
	vers    map[string]*versionsResult // anchor ID + issuer MSP → versions
	issued  map[string]*issuanceResult // transaction + anchor + issuer MSP → issuance
	bad     []Finding                  // blocks that failed to parse
}

type versionsResult struct {
	vs []version
	fs []Finding
}

type txRef struct {
	bi *blockInfo
	ei *envelopeInfo
}

type txResult struct {
	facts *txFacts
	err   error
}

// VerifyOffline verifies one certificate against a bundle, with the
// verifier's trust roots. Use the same Verifier for every certificate of a
// bundle: the bundle is parsed and its proofs checked once.
func (v *Verifier) VerifyOffline(jws string, b *Bundle, opts Options) *Report {
	pb, err := v.prepare(b, false)
	if err != nil {
		r := &Report{Mode: ModeOffline, AsOf: opts.asOf().UTC()}
		r.add(finding(ReasonEvidenceMissing, "%v", err))
		return r.finish()
	}
	return v.check(jws, pb, opts, ModeOffline)
}

// VerifyBundle verifies every certificate of a bundle. With trust nil it
// trusts the bundle's own trust roots and says so in each report's notes.
func VerifyBundle(b *Bundle, trust *TrustRoots, opts Options) ([]*Report, error) {
	own := trust == nil
	if own {
		if b.Trust == nil {
			return nil, errors.New("verify bundle: no trust roots given and none in the bundle")
		}
		trust = b.Trust
	}
	v, err := NewVerifier(trust)
	if err != nil {
		return nil, err
	}
	pb, err := v.prepare(b, own)
	if err != nil {
		return nil, err
	}
	out := make([]*Report, len(b.Certificates))
	for i, jws := range b.Certificates {
		out[i] = v.check(jws, pb, opts, ModeOffline)
	}
	return out, nil
}

func (v *Verifier) prepare(b *Bundle, ownTrust bool) (*parsedBundle, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.bundle != nil && v.bundle.b == b {
		return v.bundle, nil
	}
	if b.Format != BundleFormat {
		return nil, fmt.Errorf("bundle format %q is not %q", b.Format, BundleFormat)
	}
	pb := &parsedBundle{b: b, ix: v.ix, trust: v.trust, ownTrst: ownTrust, byTx: map[string]txRef{}, writers: map[string][]txRef{}, facts: map[string]*txResult{}, vers: map[string]*versionsResult{}, issued: map[string]*issuanceResult{}}
	for _, bb := range b.Blocks {
		var blk common.Block
		if err := proto.Unmarshal(bb.Block, &blk); err != nil {
			pb.bad = append(pb.bad, finding(ReasonLedgerProof, "block %d of the bundle is not a Fabric block: %v", bb.Number, err))
			continue
		}
		bi, err := parseBlock(&blk, b.Chaincode)
		if err != nil || bi.number != bb.Number {
			pb.bad = append(pb.bad, finding(ReasonLedgerProof, "block %d of the bundle: %v (header says %d)", bb.Number, err, blk.GetHeader().GetNumber()))
			continue
		}
		pb.blocks = append(pb.blocks, bi)
		for _, ei := range bi.txs {
			ref := txRef{bi, ei}
			if ei.txID != "" {
				pb.byTx[ei.txID] = ref
			}
			for _, w := range ei.writes {
				if strings.HasPrefix(w.key, "\x00"+credit.TypeCertificate+"\x00") {
					pb.writers[w.key] = append(pb.writers[w.key], ref)
				}
			}
		}
	}
	v.bundle = pb
	return pb, nil
}

// verifyTx checks a transaction's block and its own proof, once.
func (pb *parsedBundle) verifyTx(ref txRef) (*txFacts, error) {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if res, ok := pb.facts[ref.ei.txID]; ok {
		return res.facts, res.err
	}
	res := &txResult{}
	at := ref.ei.header.GetTimestamp().AsTime()
	if err := pb.blockProof(ref.bi, at); err != nil {
		res.err = err
	} else {
		res.facts, res.err = pb.ix.checkTx(ref.bi, ref.ei, pb.trust.Channel, pb.b.Chaincode)
	}
	pb.facts[ref.ei.txID] = res
	return res.facts, res.err
}

// blockProof checks a block's proof once (cached under the block number).
func (pb *parsedBundle) blockProof(bi *blockInfo, at time.Time) error {
	key := fmt.Sprintf("block/%d", bi.number)
	if res, ok := pb.facts[key]; ok {
		return res.err
	}
	err := pb.ix.checkBlockProof(bi, at)
	pb.facts[key] = &txResult{err: err}
	return err
}

func (pb *parsedBundle) issuance(c *Certificate, issuerMSP string) (*issuance, []Finding) {
	st := &c.Credential.CredentialStatus
	key := st.Channel + "\x00" + st.Chaincode + "\x00" + st.TxID + "\x00" + st.AnchorID + "\x00" + issuerMSP
	pb.mu.Lock()
	res, ok := pb.issued[key]
	pb.mu.Unlock()
	if !ok {
		res = &issuanceResult{}
		res.iss, res.fs = pb.readIssuance(c, issuerMSP)
		pb.mu.Lock()
		pb.issued[key] = res
		pb.mu.Unlock()
	}
	return res.iss, res.fs
}

type issuanceResult struct {
	iss *issuance
	fs  []Finding
}

// readIssuance finds and checks the anchoring transaction in the bundle.
func (pb *parsedBundle) readIssuance(c *Certificate, issuerMSP string) (*issuance, []Finding) {
	st := &c.Credential.CredentialStatus
	if st.Chaincode != pb.b.Chaincode || st.Channel != pb.b.Channel {
		return nil, []Finding{finding(ReasonEvidenceMissing, "the bundle holds %s/%s, the certificate is anchored on %s/%s", pb.b.Channel, pb.b.Chaincode, st.Channel, st.Chaincode)}
	}
	ref, ok := pb.byTx[st.TxID]
	if !ok {
		return nil, append(slices.Clone(pb.bad), finding(ReasonEvidenceMissing, "the bundle does not hold the anchoring transaction %s", st.TxID))
	}
	f, err := pb.verifyTx(ref)
	if err != nil {
		return nil, []Finding{finding(ReasonLedgerProof, "%v", err)}
	}
	var out []Finding
	if f.flagKnown && f.flag != peer.TxValidationCode_VALID {
		out = append(out, finding(ReasonTxInvalid, "the bundled block marks transaction %s %s (a peer's flag)", f.txID, f.flag))
	}
	if err := pb.ix.checkEndorsements(f, issuerMSP, true); err != nil {
		out = append(out, finding(ReasonEndorsementPolicy, "%v", err))
	}
	for _, w := range f.writes {
		if w.key != anchorKey(st.AnchorID) || w.delete {
			continue
		}
		a, err := decodeAnchor(w.value)
		if err != nil {
			return nil, append(out, finding(ReasonAnchorMismatch, "transaction %s writes anchor %s, but not as a certificate: %v", f.txID, st.AnchorID, err))
		}
		return &issuance{anchor: a, block: f.block, creator: f.creator.cert, endorsers: f.endorsers}, out
	}
	return nil, append(out, finding(ReasonAnchorMismatch, "transaction %s does not write anchor %s", f.txID, st.AnchorID))
}

func (pb *parsedBundle) versions(anchorID, issuerMSP string) ([]version, []Finding) {
	key := anchorID + "\x00" + issuerMSP
	pb.mu.Lock()
	res, ok := pb.vers[key]
	pb.mu.Unlock()
	if !ok {
		res = &versionsResult{}
		res.vs, res.fs = pb.readVersions(anchorID, issuerMSP)
		pb.mu.Lock()
		pb.vers[key] = res
		pb.mu.Unlock()
	}
	return res.vs, res.fs
}

// readVersions reads and checks the bundled transactions writing an anchor.
func (pb *parsedBundle) readVersions(anchorID, issuerMSP string) ([]version, []Finding) {
	var out []version
	var fs []Finding
	for _, ref := range pb.writers[anchorKey(anchorID)] {
		f, err := pb.verifyTx(ref)
		if err != nil {
			fs = append(fs, finding(ReasonLedgerProof, "status transaction %s: %v", ref.ei.txID, err))
			continue
		}
		if f.flagKnown && f.flag != peer.TxValidationCode_VALID {
			continue // never took effect (the issuance itself is reported by issuance)
		}
		if err := pb.ix.checkEndorsements(f, issuerMSP, false); err != nil {
			fs = append(fs, finding(ReasonEndorsementPolicy, "%v", err))
			continue
		}
		for _, w := range f.writes {
			if w.key != anchorKey(anchorID) || w.delete {
				continue
			}
			if a, err := decodeAnchor(w.value); err == nil {
				out = append(out, version{at: f.time, txID: f.txID, anchor: a})
			}
		}
	}
	return out, fs
}

func (pb *parsedBundle) notes(r *Report) []Finding {
	out := []Finding{
		finding(NoteValidityFlag, "block %d holds the anchoring transaction with valid endorsements and orderer signatures; whether every peer validated it (no read conflict) is a peer-local flag, not signed, so it cannot be checked offline", r.BlockNumber),
		finding(NoteRevocationAfterBundle, "the bundle shows the certificate's status changes up to %s; a suspension or revocation after that cannot be seen offline", pb.b.CreatedAt),
	}
	if pb.ownTrst {
		out = append(out, finding(NoteTrustFromBundle, "the trust roots (fingerprint %s) were taken from the bundle itself; compare the fingerprint with the one the network publishes", pb.trust.Fingerprint()))
	}
	return out
}

// --- online ---

// Ledger is what online verification reads; *client.Client implements it.
type Ledger interface {
	CertificateHistory(ctx context.Context, id string) ([]credit.HistoryEntry, client.Result, error)
	TransactionByID(ctx context.Context, txID string) (*peer.ProcessedTransaction, error)
	BlockByTxID(ctx context.Context, txID string) (*common.Block, error)
}

type onlineSource struct {
	ctx context.Context
	l   Ledger
	v   *Verifier
}

// VerifyOnline verifies a certificate against the ledger: the anchoring
// transaction is on the ledger and VALID, it wrote the anchor the
// certificate claims, and the anchor's status at the time asked (from its
// history).
func (v *Verifier) VerifyOnline(ctx context.Context, l Ledger, jws string, opts Options) *Report {
	return v.check(jws, &onlineSource{ctx: ctx, l: l, v: v}, opts, ModeOnline)
}

func ledgerFinding(what string, err error) Finding {
	if errors.Is(err, credit.ErrNotFound) {
		return finding(ReasonAnchorNotFound, "%s: %v", what, err)
	}
	return finding(ReasonLedgerUnavailable, "%s: %v", what, err)
}

func (s *onlineSource) issuance(c *Certificate, issuerMSP string) (*issuance, []Finding) {
	st := &c.Credential.CredentialStatus
	s.v.mu.Lock()
	cached, ok := s.v.online[st.TxID]
	s.v.mu.Unlock()
	if ok {
		return cached, cached.err
	}
	pt, err := s.l.TransactionByID(s.ctx, st.TxID)
	if errors.Is(err, credit.ErrNotFound) {
		// Perhaps this peer has not committed the block yet.
		if werr := awaitBlock(s.ctx, s.l, st.BlockNumber); werr != nil {
			return nil, []Finding{finding(ReasonLedgerUnavailable, "transaction %s: %v", st.TxID, werr)}
		}
		pt, err = s.l.TransactionByID(s.ctx, st.TxID)
	}
	if err != nil {
		return nil, []Finding{ledgerFinding("transaction "+st.TxID, err)}
	}
	if code := peer.TxValidationCode(pt.ValidationCode); code != peer.TxValidationCode_VALID {
		iss := &issuance{err: []Finding{finding(ReasonTxInvalid, "the ledger marks the anchoring transaction %s %s", st.TxID, code)}}
		return nil, iss.err
	}
	block, err := s.l.BlockByTxID(s.ctx, st.TxID)
	if err != nil {
		return nil, []Finding{ledgerFinding("block of transaction "+st.TxID, err)}
	}
	raw, err := proto.Marshal(pt.TransactionEnvelope)
	if err != nil {
		return nil, []Finding{finding(ReasonLedgerUnavailable, "transaction %s: %v", st.TxID, err)}
	}
	bi, err := parseBlock(&common.Block{Header: block.Header, Data: &common.BlockData{Data: [][]byte{raw}}}, st.Chaincode)
	if err != nil || len(bi.txs) != 1 || bi.txs[0].header == nil {
		return nil, []Finding{finding(ReasonLedgerUnavailable, "transaction %s: cannot read it", st.TxID)}
	}
	ei := bi.txs[0]
	var creator *x509.Certificate
	if f, err := s.v.ix.checkTx(bi, ei, s.v.trust.Channel, st.Chaincode); err == nil {
		creator = f.creator.cert
	} else {
		return nil, []Finding{finding(ReasonLedgerProof, "%v", err)}
	}
	iss := &issuance{block: block.GetHeader().GetNumber(), creator: creator}
	for _, w := range ei.writes {
		if w.key == anchorKey(st.AnchorID) && !w.delete {
			if iss.anchor, err = decodeAnchor(w.value); err != nil {
				return nil, []Finding{finding(ReasonAnchorMismatch, "transaction %s writes anchor %s, but not as a certificate: %v", st.TxID, st.AnchorID, err)}
			}
		}
	}
	if iss.anchor == nil {
		return nil, []Finding{finding(ReasonAnchorMismatch, "transaction %s does not write anchor %s", st.TxID, st.AnchorID)}
	}
	s.v.mu.Lock()
	if len(s.v.online) >= maxCachedHeaders {
		clear(s.v.online)
	}
	s.v.online[st.TxID] = iss
	s.v.mu.Unlock()
	return iss, nil
}

func (s *onlineSource) versions(anchorID, issuerMSP string) ([]version, []Finding) {
	hist, _, err := s.l.CertificateHistory(s.ctx, anchorID)
	if err != nil {
		return nil, []Finding{ledgerFinding("history of anchor "+anchorID, err)}
	}
	var out []version
	for _, h := range hist {
		if h.IsDelete {
			continue
		}
		a, err := decodeAnchor(h.Record)
		if err != nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, h.Timestamp)
		if err != nil {
			continue
		}
		out = append(out, version{at: t, txID: h.TxID, anchor: a})
	}
	return out, nil
}

func (s *onlineSource) notes(*Report) []Finding { return nil }
