// Package certtest is a consortium in memory for tests of blockchain
// credit certificates without a network: county CAs with officers and
// peers, an ordering organisation, the channel's configuration block, and
// a ledger of real-format Fabric blocks (envelopes, endorsements, orderer
// signatures) whose transactions write certificate anchors computed by the
// chaincode's own domain code (package credit). It builds certificates,
// offline bundles and an online Ledger, so valid, tampered, revoked and
// otherwise broken certificates can be made on demand.
//
// It is test support: keys are generated in memory, and every transaction
// is as its fields say (no real endorsement or ordering happens).
package certtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Names of the test channel.
const (
	Channel    = "credit"
	Chaincode  = "credit"
	OrdererMSP = "OrdererMSP"
)

// CA is a certificate authority in memory.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte
}

// Member is an identity of an organisation.
type Member struct {
	MSPID      string
	Cert       *x509.Certificate
	Key        *ecdsa.PrivateKey
	CertPEM    []byte
	KeyPEM     []byte
	Serialized []byte // msp.SerializedIdentity
	// ID is the Fabric client identity ID (cid GetID) the chaincode records.
	ID string
}

// County is a county organisation: its CA, an officer and a peer.
type County struct {
	Code, Name, MSPID string
	CA                *CA
	Officer           *Member
	Peer              *Member
	// Signer is the officer's ES256 certificate signer.
	Signer *cert.Signer
}

// Consortium is the channel's members and its ledger.
type Consortium struct {
	t        testing.TB
	Counties []*County
	Orderer  *Member
	OrdCA    *CA
	// Now is the timestamp of the next transaction; advance it with SetDate.
	Now time.Time

	mu      sync.Mutex
	blocks  []*common.Block
	txBlock map[string]uint64
	codes   map[string]peer.TxValidationCode
	history map[string][]credit.HistoryEntry
	anchors map[string]*credit.Certificate
	// prevHash is the hash of the last block header.
	prevHash []byte
}

// New makes a consortium of three counties (330782 义乌市, 330783 东阳市,
// 371321 沂南县) and one Raft orderer, on 2026-03-02 10:00 CST.
func New(t testing.TB) *Consortium {
	t.Helper()
	c := &Consortium{
		t: t, Now: time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC),
		txBlock: map[string]uint64{}, codes: map[string]peer.TxValidationCode{},
		history: map[string][]credit.HistoryEntry{}, anchors: map[string]*credit.Certificate{},
	}
	for _, x := range []struct{ code, name string }{{"330782", "义乌市"}, {"330783", "东阳市"}, {"371321", "沂南县"}} {
		msp := "County" + x.code + "MSP"
		ca := NewCA(t, "ca.c"+x.code+".credit.local", msp)
		co := &County{Code: x.code, Name: x.name, MSPID: msp, CA: ca}
		co.Officer = ca.Issue(t, msp, "officer1", "client", map[string]string{"role": "officer", "dept": "credit-office"})
		co.Peer = ca.Issue(t, msp, "peer0", "peer", nil)
		s, err := cert.NewSigner(msp, co.Officer.CertPEM, co.Officer.KeyPEM, ca.PEM)
		if err != nil {
			t.Fatal(err)
		}
		co.Signer = s
		c.Counties = append(c.Counties, co)
	}
	c.OrdCA = NewCA(t, "ca.orderer.credit.local", OrdererMSP)
	c.Orderer = c.OrdCA.Issue(t, OrdererMSP, "orderer0", "orderer", nil)
	c.appendBlock([][]byte{c.configEnvelope()})
	return c
}

// SetDate sets the next transactions' time to 10:00 CST on date.
func (c *Consortium) SetDate(date string) {
	d := credit.MustDate(date)
	c.Now = time.Date(d.Year(), d.Month(), d.Day(), 2, 0, 0, 0, time.UTC)
}

// County returns a county by code.
func (c *Consortium) County(code string) *County {
	for _, co := range c.Counties {
		if co.Code == code {
			return co
		}
	}
	c.t.Fatalf("certtest: no county %s", code)
	return nil
}

// NewCA makes a self-signed CA for an organisation.
func NewCA(t testing.TB, cn, org string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	crt, _ := x509.ParseCertificate(der)
	return &CA{Cert: crt, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// KeyPEM is the CA key in PKCS #8 PEM.
func (ca *CA) KeyPEM(t testing.TB) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

var serial int64 = 100

// Issue mints an identity with NodeOU ou and, if attrs is not nil, the
// Fabric CA attribute extension.
func (ca *CA) Issue(t testing.TB, mspID, cn, ou string, attrs map[string]string) *Member {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}, Organization: []string{mspID}},
		NotBefore: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	if attrs != nil {
		v, _ := json.Marshal(map[string]any{"attrs": attrs})
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: []int{1, 2, 3, 4, 5, 6, 7, 8, 1}, Value: v})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	crt, _ := x509.ParseCertificate(der)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	ser, _ := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: certPEM})
	id := base64.StdEncoding.EncodeToString([]byte("x509::" + crt.Subject.String() + "::" + crt.Issuer.String()))
	return &Member{MSPID: mspID, Cert: crt, Key: key, CertPEM: certPEM, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), Serialized: ser, ID: id}
}

func (m *Member) sign(t testing.TB, msg []byte) []byte {
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, m.Key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func (c *Consortium) mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// configEnvelope is the channel's configuration transaction.
func (c *Consortium) configEnvelope() []byte {
	org := func(mspID string, ca *CA) *common.ConfigGroup {
		ou := func(s string) *msp.FabricOUIdentifier {
			return &msp.FabricOUIdentifier{Certificate: ca.PEM, OrganizationalUnitIdentifier: s}
		}
		fc := &msp.FabricMSPConfig{Name: mspID, RootCerts: [][]byte{ca.PEM}, FabricNodeOus: &msp.FabricNodeOUs{
			Enable: true, ClientOuIdentifier: ou("client"), PeerOuIdentifier: ou("peer"), AdminOuIdentifier: ou("admin"), OrdererOuIdentifier: ou("orderer"),
		}}
		mc := &msp.MSPConfig{Type: 0, Config: c.mustMarshal(fc)}
		return &common.ConfigGroup{Values: map[string]*common.ConfigValue{"MSP": {Value: c.mustMarshal(mc)}}}
	}
	app := &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{}, Policies: map[string]*common.ConfigPolicy{
		"Endorsement": {Policy: &common.Policy{Type: int32(common.Policy_IMPLICIT_META),
			Value: c.mustMarshal(&common.ImplicitMetaPolicy{SubPolicy: "Endorsement", Rule: common.ImplicitMetaPolicy_MAJORITY})}},
	}}
	for _, co := range c.Counties {
		app.Groups[co.MSPID] = org(co.MSPID, co.CA)
	}
	ord := &common.ConfigGroup{
		Groups: map[string]*common.ConfigGroup{OrdererMSP: org(OrdererMSP, c.OrdCA)},
		Values: map[string]*common.ConfigValue{"ConsensusType": {Value: c.mustMarshal(&orderer.ConsensusType{Type: "etcdraft"})}},
	}
	cfg := &common.Config{ChannelGroup: &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{"Application": app, "Orderer": ord}}}
	ch := &common.ChannelHeader{Type: int32(common.HeaderType_CONFIG), ChannelId: Channel, Timestamp: timestamppb.New(c.Now)}
	pl := &common.Payload{Header: &common.Header{ChannelHeader: c.mustMarshal(ch)}, Data: c.mustMarshal(&common.ConfigEnvelope{Config: cfg})}
	return c.mustMarshal(&common.Envelope{Payload: c.mustMarshal(pl)})
}

// ConfigBlock is block 0, the channel's configuration.
func (c *Consortium) ConfigBlock() *common.Block { return c.blocks[0] }

// Registry is the on-ledger county registry.
func (c *Consortium) Registry() []credit.County {
	var out []credit.County
	for _, co := range c.Counties {
		out = append(out, credit.County{Kind: "county", Code: co.Code, Name: co.Name, MSPID: co.MSPID})
	}
	return out
}

// Trust returns the trust roots exported from the configuration block.
func (c *Consortium) Trust() *cert.TrustRoots {
	tr, err := cert.TrustFromConfigBlock(c.ConfigBlock(), c.Registry())
	if err != nil {
		c.t.Fatal(err)
	}
	return tr
}

// Verifier returns a verifier trusting the consortium.
func (c *Consortium) Verifier() *cert.Verifier {
	v, err := cert.NewVerifier(c.Trust())
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// actor is the county's officer as the chaincode resolves it.
func (co *County) actor() credit.Actor {
	return credit.Actor{MSPID: co.MSPID, County: co.Code, Role: credit.RoleOfficer, Dept: credit.DeptCreditOffice, ID: co.Officer.ID}
}

// TxOptions change how a transaction is endorsed and validated.
type TxOptions struct {
	// Endorsers are the counties whose peers endorse; default the caller's
	// county and, for an issuance, the next county (a majority of 3).
	Endorsers []string
	// Validation is the flag the peers record (default VALID).
	Validation peer.TxValidationCode
	// BadEndorsement corrupts the first endorsement's signature.
	BadEndorsement bool
}

func compositeKey(k credit.Key) string {
	s := "\x00" + k.ObjectType + "\x00"
	for _, a := range k.Attrs {
		s += a + "\x00"
	}
	return s
}

// submit builds an endorser transaction by the county's officer writing
// the change's puts, orders it in a new block, and records the anchors'
// history. It returns the transaction ID and block number.
func (c *Consortium) submit(co *County, fn string, arg any, ch credit.Change, opts TxOptions, txID string, nonce []byte) (string, uint64) {
	t := c.t
	t.Helper()
	args, _ := json.Marshal(arg)
	result, _ := json.Marshal(ch.Result)
	var writes []*kvrwset.KVWrite
	for _, p := range ch.Puts {
		writes = append(writes, &kvrwset.KVWrite{Key: compositeKey(p.Key), Value: p.Value})
	}
	kv := c.mustMarshal(&kvrwset.KVRWSet{Writes: writes})
	rws := c.mustMarshal(&rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV, NsRwset: []*rwset.NsReadWriteSet{{Namespace: Chaincode, Rwset: kv}}})
	ev := c.mustMarshal(&peer.ChaincodeEvent{ChaincodeId: Chaincode, TxId: txID, EventName: ch.Event.Name})
	action := c.mustMarshal(&peer.ChaincodeAction{Results: rws, Events: ev, Response: &peer.Response{Status: 200, Payload: result}, ChaincodeId: &peer.ChaincodeID{Name: Chaincode, Version: "1.0"}})

	chdr := c.mustMarshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), ChannelId: Channel, TxId: txID, Timestamp: timestamppb.New(c.Now),
		Extension: c.mustMarshal(&peer.ChaincodeHeaderExtension{ChaincodeId: &peer.ChaincodeID{Name: Chaincode}})})
	shdr := c.mustMarshal(&common.SignatureHeader{Creator: co.Officer.Serialized, Nonce: nonce})
	spec := c.mustMarshal(&peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{Type: peer.ChaincodeSpec_GOLANG, ChaincodeId: &peer.ChaincodeID{Name: Chaincode}, Input: &peer.ChaincodeInput{Args: [][]byte{[]byte(fn), args}}}})
	ccpp := c.mustMarshal(&peer.ChaincodeProposalPayload{Input: spec})
	ph := sha256.Sum256(slices.Concat(chdr, shdr, ccpp))
	prp := c.mustMarshal(&peer.ProposalResponsePayload{ProposalHash: ph[:], Extension: action})
	var ends []*peer.Endorsement
	for _, code := range opts.Endorsers {
		p := c.County(code).Peer
		ends = append(ends, &peer.Endorsement{Endorser: p.Serialized, Signature: p.sign(t, slices.Concat(prp, p.Serialized))})
	}
	if opts.BadEndorsement && len(ends) > 0 {
		ends[0].Signature[len(ends[0].Signature)-1] ^= 1
	}
	cap := c.mustMarshal(&peer.ChaincodeActionPayload{ChaincodeProposalPayload: ccpp, Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp, Endorsements: ends}})
	tx := c.mustMarshal(&peer.Transaction{Actions: []*peer.TransactionAction{{Header: shdr, Payload: cap}}})
	pl := c.mustMarshal(&common.Payload{Header: &common.Header{ChannelHeader: chdr, SignatureHeader: shdr}, Data: tx})
	env := c.mustMarshal(&common.Envelope{Payload: pl, Signature: co.Officer.sign(t, pl)})

	c.mu.Lock()
	defer c.mu.Unlock()
	num := c.appendBlock([][]byte{env}, opts.Validation)
	c.txBlock[txID] = num
	c.codes[txID] = opts.Validation
	if opts.Validation == peer.TxValidationCode_VALID {
		for _, p := range ch.Puts {
			if p.Key.ObjectType != credit.TypeCertificate {
				continue
			}
			var a credit.Certificate
			_ = json.Unmarshal(p.Value, &a)
			c.anchors[a.ID] = &a
			c.history[a.ID] = append(c.history[a.ID], credit.HistoryEntry{TxID: txID, Timestamp: credit.Instant(c.Now), Record: p.Value})
		}
	}
	return txID, num
}

// appendBlock orders envelopes into the next block, signed by the orderer.
func (c *Consortium) appendBlock(data [][]byte, flags ...peer.TxValidationCode) uint64 {
	num := uint64(len(c.blocks))
	sum := sha256.Sum256(slices.Concat(data...))
	hdr := &common.BlockHeader{Number: num, PreviousHash: c.prevHash, DataHash: sum[:]}
	value := c.mustMarshal(&common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: 0}})
	sh := c.mustMarshal(&common.SignatureHeader{Creator: c.Orderer.Serialized, Nonce: []byte(fmt.Sprintf("n%d", num))})
	hb := headerBytes(hdr)
	sig := c.Orderer.sign(c.t, slices.Concat(value, sh, hb))
	md := make([][]byte, len(common.BlockMetadataIndex_name))
	md[common.BlockMetadataIndex_SIGNATURES] = c.mustMarshal(&common.Metadata{Value: value, Signatures: []*common.MetadataSignature{{SignatureHeader: sh, Signature: sig}}})
	fl := make([]byte, len(data))
	for i := range fl {
		if i < len(flags) {
			fl[i] = byte(flags[i])
		}
	}
	md[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = fl
	c.blocks = append(c.blocks, &common.Block{Header: hdr, Data: &common.BlockData{Data: data}, Metadata: &common.BlockMetadata{Metadata: md}})
	h := sha256.Sum256(hb)
	c.prevHash = h[:]
	return num
}

func headerBytes(h *common.BlockHeader) []byte {
	type asn1Header struct {
		Number       *big.Int
		PreviousHash []byte
		DataHash     []byte
	}
	b, err := asn1.Marshal(asn1Header{new(big.Int).SetUint64(h.Number), h.PreviousHash, h.DataHash})
	if err != nil {
		panic(err)
	}
	return b
}

// SM2Signer mints an SM2 signing certificate for the county's officer
// (cert.MintSM2Certificate) and returns its SM2SM3 signer.
func (co *County) SM2Signer(t testing.TB) *cert.Signer {
	t.Helper()
	certPEM, keyPEM, err := cert.MintSM2Certificate(co.Officer.Cert, co.CA.PEM, co.CA.KeyPEM(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cert.NewSM2Signer(co.MSPID, certPEM, keyPEM, co.CA.PEM)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTxID returns a nonce and the transaction ID Fabric derives from it
// and the creator.
func newTxID(creator []byte) (string, []byte) {
	nonce := make([]byte, 24)
	_, _ = rand.Read(nonce)
	sum := sha256.Sum256(slices.Concat(nonce, creator))
	return hex.EncodeToString(sum[:]), nonce
}

// Issued is a certificate made by Issue or IssueBatch.
type Issued struct {
	JWS        string
	Credential *cert.Credential
	TxID       string
	Block      uint64
}

func defaultEndorsers(co *County, c *Consortium) []string {
	for i, x := range c.Counties {
		if x == co {
			return []string{co.Code, c.Counties[(i+1)%len(c.Counties)].Code}
		}
	}
	return nil
}

// Issue issues a certificate by the county's officer about req.Subject
// whose records are records, endorsed and validated as opts say, and signs
// it with signer (nil: the officer's ES256 signer).
func (c *Consortium) Issue(co *County, req credit.IssueCertificateRequest, records []credit.Record, signer *cert.Signer, opts TxOptions) *Issued {
	c.t.Helper()
	txID, nonce := newTxID(co.Officer.Serialized)
	tx := credit.Tx{ID: txID, Time: c.Now}
	ch, err := credit.IssueCertificate(req, records, credit.WithDefault(nil), co.Name, co.actor(), tx)
	if err != nil {
		c.t.Fatalf("certtest: issue %s: %v", req.ID, err)
	}
	if opts.Endorsers == nil {
		opts.Endorsers = defaultEndorsers(co, c)
	}
	_, num := c.submit(co, "IssueCertificate", req, ch, opts, txID, nonce)
	res := ch.Result.(*credit.IssueCertificateResult)
	if signer == nil {
		signer = co.Signer
	}
	cred, err := cert.NewCredential(res, signer.Issuer(co.Name), cert.Position{Channel: Channel, Chaincode: Chaincode, TxID: txID, BlockNumber: num})
	if err != nil {
		c.t.Fatal(err)
	}
	jws, err := signer.Sign(cred)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Issued{JWS: jws, Credential: cred, TxID: txID, Block: num}
}

// IssueBatch issues one certificate per subject under one anchor.
func (c *Consortium) IssueBatch(co *County, req credit.IssueCertificateBatchRequest, records [][]credit.Record, opts TxOptions) []*Issued {
	c.t.Helper()
	txID, nonce := newTxID(co.Officer.Serialized)
	if records == nil {
		records = make([][]credit.Record, len(req.Subjects))
	}
	ch, err := credit.IssueCertificateBatch(req, records, credit.WithDefault(nil), co.Name, co.actor(), credit.Tx{ID: txID, Time: c.Now})
	if err != nil {
		c.t.Fatalf("certtest: issue batch %s: %v", req.BatchID, err)
	}
	if opts.Endorsers == nil {
		opts.Endorsers = defaultEndorsers(co, c)
	}
	_, num := c.submit(co, "IssueCertificateBatch", req, ch, opts, txID, nonce)
	creds, err := cert.NewBatchCredentials(ch.Result.(*credit.IssueCertificateBatchResult), co.Signer.Issuer(co.Name),
		cert.Position{Channel: Channel, Chaincode: Chaincode, TxID: txID, BlockNumber: num})
	if err != nil {
		c.t.Fatal(err)
	}
	out := make([]*Issued, len(creds))
	for i, cr := range creds {
		jws, err := co.Signer.Sign(cr)
		if err != nil {
			c.t.Fatal(err)
		}
		out[i] = &Issued{JWS: jws, Credential: cr, TxID: txID, Block: num}
	}
	return out
}

// SetStatus changes the status of an anchor, or of one member of a batch
// (id a member's certificate ID), by the county's officer (endorsed by the
// county's peer unless opts say otherwise).
func (c *Consortium) SetStatus(co *County, id, status, reason string, opts TxOptions) string {
	c.t.Helper()
	c.mu.Lock()
	a := c.anchors[credit.AnchorOf(id)]
	c.mu.Unlock()
	if a == nil {
		c.t.Fatalf("certtest: no anchor %s", credit.AnchorOf(id))
	}
	cp := *a
	txID, nonce := newTxID(co.Officer.Serialized)
	req := credit.SetCertificateStatusRequest{ID: id, Status: status, Reason: reason}
	ch, err := credit.SetCertificateStatus(&cp, req, co.actor(), credit.Tx{ID: txID, Time: c.Now})
	if err != nil {
		c.t.Fatalf("certtest: set status of %s: %v", id, err)
	}
	if opts.Endorsers == nil {
		opts.Endorsers = []string{co.Code}
	}
	c.submit(co, "SetCertificateStatus", req, ch, opts, txID, nonce)
	return txID
}

// Ledger is the consortium's ledger as online verification and MakeBundle
// read it.
type Ledger struct {
	c *Consortium
	// Down makes every call fail as an unreachable peer would.
	Down bool
}

// Ledger returns the consortium's ledger.
func (c *Consortium) Ledger() *Ledger { return &Ledger{c: c} }

var errDown = fmt.Errorf("peer unavailable: %w", client.ErrUnavailable)

// CertificateHistory returns an anchor's versions, oldest first.
func (l *Ledger) CertificateHistory(ctx context.Context, id string) ([]credit.HistoryEntry, client.Result, error) {
	if l.Down {
		return nil, client.Result{}, errDown
	}
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	h, ok := l.c.history[id]
	if !ok {
		return nil, client.Result{}, fmt.Errorf("certificate %s: %w", id, credit.ErrNotFound)
	}
	return slices.Clone(h), client.Result{}, nil
}

// TransactionByID returns a transaction with its validation code.
func (l *Ledger) TransactionByID(ctx context.Context, txID string) (*peer.ProcessedTransaction, error) {
	if l.Down {
		return nil, errDown
	}
	b, err := l.BlockByTxID(ctx, txID)
	if err != nil {
		return nil, err
	}
	var env common.Envelope
	if err := proto.Unmarshal(b.Data.Data[0], &env); err != nil {
		return nil, err
	}
	l.c.mu.Lock()
	code := l.c.codes[txID]
	l.c.mu.Unlock()
	return &peer.ProcessedTransaction{TransactionEnvelope: &env, ValidationCode: int32(code)}, nil
}

// BlockByTxID returns the block of a transaction.
func (l *Ledger) BlockByTxID(ctx context.Context, txID string) (*common.Block, error) {
	if l.Down {
		return nil, errDown
	}
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	n, ok := l.c.txBlock[txID]
	if !ok {
		return nil, fmt.Errorf("transaction %s: %w", txID, credit.ErrNotFound)
	}
	return proto.Clone(l.c.blocks[n]).(*common.Block), nil
}

// Bundle makes an offline bundle of certificates, with the trust roots.
func (c *Consortium) Bundle(jws ...string) *cert.Bundle {
	c.t.Helper()
	b, err := cert.MakeBundle(context.Background(), c.Ledger(), c.Trust(), jws...)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}
