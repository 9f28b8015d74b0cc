package chaincode

// A stateful fake of the Fabric stub (fabric-chaincode-go/v2 dropped
// shimtest). It keeps committed state, key-level endorsement parameters and
// key history in a fakeNet; each invoke runs in a fakeStub that, like a
// peer's simulator, does not see its own writes, and the writes are
// committed only if the chaincode returned 200.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type histEntry struct {
	txID     string
	ts       time.Time
	value    []byte
	isDelete bool
}

// fakeNet is the committed ledger shared by all invocations of a test.
type fakeNet struct {
	t       testing.TB
	cc      *contractapi.ContractChaincode
	state   map[string][]byte
	sbe     map[string][]byte
	history map[string][]histEntry
	events  []*peer.ChaincodeEvent // one per committed write tx
	now     time.Time              // timestamp of the next transaction
	txSeq   int
	cas     map[string]*fakeCA
}

func newFakeNet(t testing.TB) *fakeNet {
	t.Helper()
	cc, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &fakeNet{
		t: t, cc: cc,
		state: map[string][]byte{}, sbe: map[string][]byte{}, history: map[string][]histEntry{},
		now: time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), // 2026-03-02 10:00 CST
		cas: map[string]*fakeCA{},
	}
}

// setDate sets the timestamp of the next transactions to 10:00 CST on date.
func (n *fakeNet) setDate(date string) {
	d, err := time.ParseInLocation(time.DateOnly, date, time.FixedZone("CST", 8*3600))
	if err != nil {
		n.t.Fatalf("setDate %q: %v", date, err)
	}
	n.now = d.Add(10 * time.Hour).UTC()
}

// invoke runs fn(arg) as who; the writes are committed on status 200.
func (n *fakeNet) invoke(who *fakeIdentity, fn string, arg string) (*peer.Response, *fakeStub) {
	n.t.Helper()
	n.txSeq++
	stub := &fakeStub{
		net: n, args: [][]byte{[]byte(fn), []byte(arg)}, creator: who.serialized,
		txID: fmt.Sprintf("tx%04d", n.txSeq), ts: n.now,
		writes: map[string][]byte{}, deletes: map[string]bool{}, sbeWrites: map[string][]byte{},
	}
	resp := n.cc.Invoke(stub)
	if resp.Status == shim.OK {
		stub.commit()
	}
	return resp, stub
}

// ok invokes and fails the test unless the call succeeds; it returns the payload.
func (n *fakeNet) ok(who *fakeIdentity, fn string, arg string) string {
	n.t.Helper()
	resp, _ := n.invoke(who, fn, arg)
	if resp.Status != shim.OK {
		n.t.Fatalf("%s(%s) as %s: status %d: %s", fn, arg, who.name, resp.Status, resp.Message)
	}
	return string(resp.Payload)
}

// fail invokes and fails the test unless the call fails; it returns the message.
func (n *fakeNet) fail(who *fakeIdentity, fn string, arg string) string {
	n.t.Helper()
	resp, _ := n.invoke(who, fn, arg)
	if resp.Status == shim.OK {
		n.t.Fatalf("%s(%s) as %s: succeeded, want an error; payload %s", fn, arg, who.name, resp.Payload)
	}
	return resp.Message
}

func (n *fakeNet) sortedKeys(start, end string) []string {
	var keys []string
	for k := range n.state {
		if k >= start && (end == "" || k < end) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// fakeStub is the stub of one invocation.
type fakeStub struct {
	shim.ChaincodeStubInterface // unimplemented methods panic
	net                         *fakeNet
	args                        [][]byte
	creator                     []byte
	txID                        string
	ts                          time.Time
	writes                      map[string][]byte
	deletes                     map[string]bool
	writeOrder                  []string
	sbeWrites                   map[string][]byte
	eventName                   string
	eventPayload                []byte
	eventCalls                  int
	// Write batching (StartWriteBatch … FinishWriteBatch): writes are
	// applied at once, as by a peer without batching; these count how the
	// chaincode used it.
	inBatch         bool
	batches         int // FinishWriteBatch calls that ended a batch
	unbatchedWrites int // writes made outside a batch
}

func (s *fakeStub) StartWriteBatch() { s.inBatch = true }

func (s *fakeStub) FinishWriteBatch() error {
	if s.inBatch {
		s.batches++
	}
	s.inBatch = false
	return nil
}

func (s *fakeStub) countWrite() {
	if !s.inBatch {
		s.unbatchedWrites++
	}
}

func (s *fakeStub) commit() {
	n := s.net
	for _, k := range s.writeOrder {
		if s.deletes[k] {
			delete(n.state, k)
			delete(n.sbe, k)
			n.history[k] = append(n.history[k], histEntry{txID: s.txID, ts: s.ts, isDelete: true})
			continue
		}
		v := s.writes[k]
		n.state[k] = v
		n.history[k] = append(n.history[k], histEntry{txID: s.txID, ts: s.ts, value: v})
	}
	for k, p := range s.sbeWrites {
		n.sbe[k] = p
	}
	if s.eventName != "" {
		n.events = append(n.events, &peer.ChaincodeEvent{TxId: s.txID, EventName: s.eventName, Payload: s.eventPayload})
	}
}

func (s *fakeStub) GetArgs() [][]byte { return s.args }
func (s *fakeStub) GetStringArgs() []string {
	out := make([]string, len(s.args))
	for i, a := range s.args {
		out[i] = string(a)
	}
	return out
}
func (s *fakeStub) GetFunctionAndParameters() (string, []string) {
	a := s.GetStringArgs()
	if len(a) == 0 {
		return "", nil
	}
	return a[0], a[1:]
}
func (s *fakeStub) GetTxID() string             { return s.txID }
func (s *fakeStub) GetChannelID() string        { return "credit" }
func (s *fakeStub) GetCreator() ([]byte, error) { return s.creator, nil }
func (s *fakeStub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	return timestamppb.New(s.ts), nil
}
func (s *fakeStub) GetDecorations() map[string][]byte        { return nil }
func (s *fakeStub) GetTransient() (map[string][]byte, error) { return nil, nil }

func (s *fakeStub) validKey(key string) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("key %q is not valid UTF-8", key)
	}
	return nil
}

// GetState reads committed state only, like a peer's simulator.
func (s *fakeStub) GetState(key string) ([]byte, error) {
	if err := s.validKey(key); err != nil {
		return nil, err
	}
	return s.net.state[key], nil
}

func (s *fakeStub) record(key string) {
	if _, seen := s.writes[key]; !seen && !s.deletes[key] {
		s.writeOrder = append(s.writeOrder, key)
	}
}

func (s *fakeStub) PutState(key string, value []byte) error {
	if err := s.validKey(key); err != nil {
		return err
	}
	if len(value) == 0 {
		return errors.New("PutState: an empty value is a delete; use DelState")
	}
	s.countWrite()
	s.record(key)
	s.writes[key] = append([]byte(nil), value...)
	delete(s.deletes, key)
	return nil
}

func (s *fakeStub) DelState(key string) error {
	if err := s.validKey(key); err != nil {
		return err
	}
	s.countWrite()
	s.record(key)
	delete(s.writes, key)
	s.deletes[key] = true
	return nil
}

func (s *fakeStub) SetStateValidationParameter(key string, ep []byte) error {
	if err := s.validKey(key); err != nil {
		return err
	}
	s.countWrite()
	s.sbeWrites[key] = append([]byte(nil), ep...)
	return nil
}

func (s *fakeStub) GetStateValidationParameter(key string) ([]byte, error) {
	return s.net.sbe[key], nil
}

func (s *fakeStub) SetEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("event name can not be empty string")
	}
	s.eventCalls++
	s.eventName, s.eventPayload = name, payload
	return nil
}

// Composite keys, exactly as the shim builds them.
const (
	ckNamespace = "\x00"
	ckMinRune   = rune(0)
	ckMaxRune   = rune(utf8.MaxRune)
)

func (s *fakeStub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	if err := ckValidate(objectType); err != nil {
		return "", err
	}
	ck := ckNamespace + objectType + string(ckMinRune)
	for _, a := range attributes {
		if err := ckValidate(a); err != nil {
			return "", err
		}
		ck += a + string(ckMinRune)
	}
	return ck, nil
}

func ckValidate(str string) error {
	if !utf8.ValidString(str) {
		return fmt.Errorf("not a valid utf8 string: [%x]", str)
	}
	for i, r := range str {
		if r == ckMinRune || r == ckMaxRune {
			return fmt.Errorf("input contains unicode %#U starting at position [%d]", r, i)
		}
	}
	return nil
}

func (s *fakeStub) SplitCompositeKey(key string) (string, []string, error) {
	if !strings.HasPrefix(key, ckNamespace) {
		return "", nil, fmt.Errorf("not a composite key: %q", key)
	}
	parts := strings.Split(key[1:], string(ckMinRune))
	if len(parts) < 2 || parts[len(parts)-1] != "" {
		return "", nil, fmt.Errorf("malformed composite key: %q", key)
	}
	return parts[0], parts[1 : len(parts)-1], nil
}

func (s *fakeStub) partialRange(objectType string, attrs []string) (string, string, error) {
	start, err := s.CreateCompositeKey(objectType, attrs)
	if err != nil {
		return "", "", err
	}
	return start, start + string(ckMaxRune), nil
}

type fakeKVIter struct {
	kvs []*queryresult.KV
	i   int
}

func (it *fakeKVIter) HasNext() bool { return it.i < len(it.kvs) }
func (it *fakeKVIter) Close() error  { return nil }
func (it *fakeKVIter) Next() (*queryresult.KV, error) {
	if !it.HasNext() {
		return nil, errors.New("no more results")
	}
	it.i++
	return it.kvs[it.i-1], nil
}

func (s *fakeStub) iter(keys []string) *fakeKVIter {
	it := &fakeKVIter{}
	for _, k := range keys {
		it.kvs = append(it.kvs, &queryresult.KV{Namespace: "credit", Key: k, Value: s.net.state[k]})
	}
	return it
}

func (s *fakeStub) GetStateByPartialCompositeKey(objectType string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	start, end, err := s.partialRange(objectType, attrs)
	if err != nil {
		return nil, err
	}
	return s.iter(s.net.sortedKeys(start, end)), nil
}

// GetStateByPartialCompositeKeyWithPagination pages like LevelDB on a peer:
// the bookmark is the key to start from; it is "" after the last page.
func (s *fakeStub) GetStateByPartialCompositeKeyWithPagination(objectType string, attrs []string,
	pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	start, end, err := s.partialRange(objectType, attrs)
	if err != nil {
		return nil, nil, err
	}
	if pageSize <= 0 {
		return nil, nil, fmt.Errorf("pageSize must be greater than zero, got %d", pageSize)
	}
	if bookmark != "" {
		if bookmark < start || bookmark >= end {
			return nil, nil, fmt.Errorf("bookmark %q is outside the range", bookmark)
		}
		start = bookmark
	}
	keys := s.net.sortedKeys(start, end)
	next := ""
	if len(keys) > int(pageSize) {
		next = keys[pageSize]
		keys = keys[:pageSize]
	}
	return s.iter(keys), &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(keys)), Bookmark: next}, nil
}

type fakeHistIter struct {
	mods []*queryresult.KeyModification
	i    int
}

func (it *fakeHistIter) HasNext() bool { return it.i < len(it.mods) }
func (it *fakeHistIter) Close() error  { return nil }
func (it *fakeHistIter) Next() (*queryresult.KeyModification, error) {
	if !it.HasNext() {
		return nil, errors.New("no more results")
	}
	it.i++
	return it.mods[it.i-1], nil
}

// GetHistoryForKey returns the committed modifications, newest first, as a
// peer does.
func (s *fakeStub) GetHistoryForKey(key string) (shim.HistoryQueryIteratorInterface, error) {
	h := s.net.history[key]
	it := &fakeHistIter{}
	for i := len(h) - 1; i >= 0; i-- {
		e := h[i]
		it.mods = append(it.mods, &queryresult.KeyModification{TxId: e.txID, Value: e.value, Timestamp: timestamppb.New(e.ts), IsDelete: e.isDelete})
	}
	return it, nil
}

// --- identities ---

// fakeCA is the certificate authority of one MSP.
type fakeCA struct {
	mspID string
	key   *ecdsa.PrivateKey
	cert  *x509.Certificate
}

// fakeIdentity is a serialized X.509 identity (msp.SerializedIdentity).
type fakeIdentity struct {
	name       string
	mspID      string
	serialized []byte
}

var attrOID = []int{1, 2, 3, 4, 5, 6, 7, 8, 1}

func (n *fakeNet) ca(mspID string) *fakeCA {
	if ca, ok := n.cas[mspID]; ok {
		return ca
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		n.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca." + mspID, Organization: []string{mspID}},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		n.t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &fakeCA{mspID: mspID, key: key, cert: cert}
	n.cas[mspID] = ca
	return ca
}

// identity mints a certificate for name in mspID with NodeOU ou ("client",
// "admin", "peer") and, if attrs is not nil, the Fabric CA attribute
// extension {"attrs":{...}}.
func (n *fakeNet) identity(mspID, name, ou string, attrs map[string]string) *fakeIdentity {
	n.t.Helper()
	ca := n.ca(mspID)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		n.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name, OrganizationalUnit: []string{ou}},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if attrs != nil {
		v, err := json.Marshal(map[string]any{"attrs": attrs})
		if err != nil {
			n.t.Fatal(err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: attrOID, Value: v})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		n.t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ser, err := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: pemBytes})
	if err != nil {
		n.t.Fatal(err)
	}
	return &fakeIdentity{name: name + "@" + mspID, mspID: mspID, serialized: ser}
}
