// Package replay re-executes the credit chaincode's transactions from the
// channel's blocks with the reference chaincode (package chaincode, the
// code this repository ships), against the world state as the ledger had
// it just before each one, and compares what the reference chaincode
// writes with what the transaction wrote.
//
// It is the check for what endorsement policies cannot stop (docs/CHAOS.md,
// "Known limits"): a county that endorses with a chaincode server of its
// own can rewrite its own records (its key-level policy only asks its own
// peer), and a majority of counties can create any key. Such a
// transaction is VALID on every peer, but the reference chaincode, given
// the same proposal (function, argument, creator, timestamp), writes
// something else or refuses it. An honest ledger replays exactly: the
// chaincode is deterministic (cli/chaos TestEndorsementDeterminism), and a
// valid transaction read what the state held just before it in its block
// (Fabric's MVCC and phantom-read validation).
//
// Replay keeps its own copy of the namespace's world state (an in-memory
// Pebble store, values and key-level policies), applies each valid
// transaction's writes as the ledger did, and never its own.
package replay

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/countycredit/creditledger/chaincode"
)

// Finding is a transaction the reference chaincode does not reproduce.
type Finding struct {
	Block uint64 `json:"block"`
	TxID  string `json:"txId"`
	// Function is the transaction function the proposal named; Creator
	// the creator's MSP.
	Function string `json:"function"`
	Creator  string `json:"creator"`
	Detail   string `json:"detail"`
}

func (f Finding) String() string {
	return fmt.Sprintf("block %d, transaction %s (%s by %s): %s", f.Block, f.TxID, f.Function, f.Creator, f.Detail)
}

// validationParameter is the metadata name of a key-level endorsement
// policy in a write set (Fabric's pb.MetaDataKeys_VALIDATION_PARAMETER).
var validationParameter = peer.MetaDataKeys_VALIDATION_PARAMETER.String()

// Replayer replays the blocks of one channel, in order from block 0.
type Replayer struct {
	ns      string
	channel string
	cc      *contractapi.ContractChaincode
	state   *pebble.DB // 'v'+key: value; 'p'+key: key-level policy
	next    uint64
	// Blocks and Txs count the blocks and the transactions of the
	// namespace replayed.
	Blocks, Txs int
}

// New starts a replay of namespace ns (the credit chaincode's name).
func New(ns string) (*Replayer, error) {
	cc, err := chaincode.New()
	if err != nil {
		return nil, err
	}
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		return nil, err
	}
	return &Replayer{ns: ns, cc: cc, state: db}, nil
}

// Close releases the state copy.
func (r *Replayer) Close() error { return r.state.Close() }

type quiet struct{}

func (quiet) Infof(string, ...any)         {}
func (quiet) Errorf(string, ...any)        {}
func (quiet) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// tx is a valid endorser transaction as replay needs it.
type tx struct {
	id, channel string
	time        *timestamppb.Timestamp
	creator     []byte // serialized identity
	creatorMSP  string
	chaincode   string
	args        [][]byte
	writes      map[string]write // of the namespace, by key
	policies    map[string][]byte
	status      int32 // the endorsed response's status
	actions     int   // the transaction's actions (one, as clients make them)
}

type write struct {
	value []byte
	del   bool
}

// Block replays block b, the next block; fn hears of each finding.
// Errors are blocks out of order or that do not parse.
func (r *Replayer) Block(b *common.Block, fn func(Finding)) error {
	n := b.GetHeader().GetNumber()
	if n != r.next {
		return fmt.Errorf("replay: block %d, the next is %d", n, r.next)
	}
	var filter []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		filter = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	for i, env := range b.GetData().GetData() {
		if i >= len(filter) || peer.TxValidationCode(filter[i]) != peer.TxValidationCode_VALID {
			continue // invalid transactions changed nothing
		}
		t, err := r.parse(env)
		if err != nil {
			return fmt.Errorf("replay: block %d tx %d: %w", n, i, err)
		}
		if t == nil {
			continue // not an endorser transaction
		}
		if t.chaincode == r.ns {
			r.Txs++
			r.check(n, t, fn)
		} else if len(t.writes)+len(t.policies) > 0 {
			fn(Finding{Block: n, TxID: t.id, Function: t.chaincode, Creator: t.creatorMSP,
				Detail: fmt.Sprintf("chaincode %s wrote %d key(s) of namespace %s", t.chaincode, len(t.writes)+len(t.policies), r.ns)})
		}
		if err := r.apply(t); err != nil {
			return fmt.Errorf("replay: block %d tx %d: %w", n, i, err)
		}
	}
	r.next++
	r.Blocks++
	return nil
}

// check replays t and reports how its writes differ from the reference
// chaincode's.
func (r *Replayer) check(block uint64, t *tx, fn func(Finding)) {
	function := ""
	if len(t.args) > 0 {
		function = string(t.args[0])
	}
	report := func(format string, args ...any) {
		fn(Finding{Block: block, TxID: t.id, Function: function, Creator: t.creatorMSP, Detail: fmt.Sprintf(format, args...)})
	}
	s := &stub{r: r, t: t, writes: map[string]write{}, policies: map[string][]byte{}}
	resp, err := s.invoke()
	switch {
	case err != nil:
		report("the reference chaincode failed on it: %v", err)
		return
	case resp.GetStatus() != shim.OK:
		report("the reference chaincode refuses it: %s", resp.GetMessage())
		return
	case t.status != shim.OK:
		report("the endorsed response has status %d; the reference chaincode answers %d", t.status, resp.GetStatus())
	}
	if t.actions != 1 {
		report("%d actions; the Gateway and the peer CLI make one: only the first was replayed", t.actions)
	}
	var diffs []string
	for _, k := range unionKeys(t.writes, s.writes) {
		got, inLedger := t.writes[k]
		want, inReplay := s.writes[k]
		switch {
		case !inReplay:
			diffs = append(diffs, fmt.Sprintf("%s written (%s), the reference chaincode does not write it", showKey(k), show(got)))
		case !inLedger:
			diffs = append(diffs, fmt.Sprintf("%s not written, the reference chaincode writes it (%s)", showKey(k), show(want)))
		case got.del != want.del || !bytes.Equal(got.value, want.value):
			g, w := show(got), show(want)
			if !got.del && !want.del {
				g, w = differing(got.value, want.value)
			}
			diffs = append(diffs, fmt.Sprintf("%s written as %s, the reference chaincode writes %s", showKey(k), g, w))
		}
	}
	for _, k := range unionKeys(t.policies, s.policies) {
		got, inLedger := t.policies[k]
		want, inReplay := s.policies[k]
		if inLedger != inReplay || !bytes.Equal(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s: its key-level policy differs from the reference chaincode's (%d bytes written, %d expected)", showKey(k), len(got), len(want)))
		}
	}
	if len(diffs) > 0 {
		const most = 5
		more := ""
		if len(diffs) > most {
			more = fmt.Sprintf("; and %d more", len(diffs)-most)
			diffs = diffs[:most]
		}
		report("%s%s", strings.Join(diffs, "; "), more)
	}
}

// unionKeys returns the keys of a and b, sorted (findings in key order,
// never in map order).
func unionKeys[V any](a, b map[string]V) []string {
	out := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// apply applies t's writes, as the ledger did.
func (r *Replayer) apply(t *tx) error {
	if len(t.writes)+len(t.policies) == 0 {
		return nil
	}
	b := r.state.NewBatch()
	defer b.Close()
	for k, w := range t.writes {
		var err error
		if w.del {
			err = errors.Join(b.Delete(stateKey('v', k), nil), b.Delete(stateKey('p', k), nil))
		} else {
			err = b.Set(stateKey('v', k), w.value, nil)
		}
		if err != nil {
			return err
		}
	}
	for k, p := range t.policies {
		var err error
		if len(p) == 0 {
			err = b.Delete(stateKey('p', k), nil)
		} else {
			err = b.Set(stateKey('p', k), p, nil)
		}
		if err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

func stateKey(kind byte, k string) []byte { return append([]byte{kind}, k...) }

// showKey formats a world-state key: a composite key as type{attr,…}.
func showKey(k string) string {
	if strings.HasPrefix(k, "\x00") && strings.HasSuffix(k, "\x00") && len(k) >= 2 {
		parts := strings.Split(k[1:len(k)-1], "\x00")
		return parts[0] + "{" + strings.Join(parts[1:], ",") + "}"
	}
	return fmt.Sprintf("%q", k)
}

func show(w write) string {
	if w.del {
		return "deleted"
	}
	const most = 160
	v := string(w.value)
	if len(v) > most {
		cut := most
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut] + "…"
	}
	return v
}

// differing shows where two values part: from a little before the first
// byte that differs, for a few dozen bytes of each.
func differing(a, b []byte) (string, string) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-24, 0)
	for from > 0 && from < len(a) && !utf8.RuneStart(a[from]) {
		from--
	}
	cut := func(v []byte) string {
		end := min(i+40, len(v))
		for end < len(v) && !utf8.RuneStart(v[end]) {
			end++
		}
		out := string(v[min(from, len(v)):end])
		if from > 0 {
			out = "…" + out
		}
		if end < len(v) {
			out += "…"
		}
		return out
	}
	return cut(a), cut(b)
}

// parse reads a valid transaction's envelope; nil for one that is not an
// endorser transaction.
func (r *Replayer) parse(env []byte) (*tx, error) {
	var e common.Envelope
	if err := proto.Unmarshal(env, &e); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	var p common.Payload
	if err := proto.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	if common.HeaderType(ch.Type) != common.HeaderType_ENDORSER_TRANSACTION {
		return nil, nil
	}
	var sh common.SignatureHeader
	if err := proto.Unmarshal(p.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(sh.Creator, &id); err != nil {
		return nil, fmt.Errorf("creator: %w", err)
	}
	t := &tx{id: ch.TxId, channel: ch.ChannelId, time: ch.Timestamp, creator: sh.Creator, creatorMSP: id.Mspid,
		writes: map[string]write{}, policies: map[string][]byte{}, status: shim.OK}
	var trans peer.Transaction
	if err := proto.Unmarshal(p.Data, &trans); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	t.actions = len(trans.Actions)
	// The writes of every action (as the committer applies them); the
	// proposal and response of the first (a transaction the Gateway or
	// the peer CLI makes has one; check reports any other number).
	for ai, ta := range trans.Actions {
		var cap peer.ChaincodeActionPayload
		if err := proto.Unmarshal(ta.Payload, &cap); err != nil {
			return nil, fmt.Errorf("action %d: chaincode action payload: %w", ai, err)
		}
		var prp peer.ProposalResponsePayload
		if err := proto.Unmarshal(cap.GetAction().GetProposalResponsePayload(), &prp); err != nil {
			return nil, fmt.Errorf("action %d: proposal response payload: %w", ai, err)
		}
		var action peer.ChaincodeAction
		if err := proto.Unmarshal(prp.Extension, &action); err != nil {
			return nil, fmt.Errorf("action %d: chaincode action: %w", ai, err)
		}
		if ai == 0 {
			var cpp peer.ChaincodeProposalPayload
			if err := proto.Unmarshal(cap.ChaincodeProposalPayload, &cpp); err != nil {
				return nil, fmt.Errorf("proposal payload: %w", err)
			}
			var cis peer.ChaincodeInvocationSpec
			if err := proto.Unmarshal(cpp.Input, &cis); err != nil {
				return nil, fmt.Errorf("invocation spec: %w", err)
			}
			t.chaincode = cis.GetChaincodeSpec().GetChaincodeId().GetName()
			t.args = cis.GetChaincodeSpec().GetInput().GetArgs()
			t.status = action.GetResponse().GetStatus()
		}
		var rws rwset.TxReadWriteSet
		if err := proto.Unmarshal(action.Results, &rws); err != nil {
			return nil, fmt.Errorf("action %d: read-write set: %w", ai, err)
		}
		for _, ns := range rws.NsRwset {
			if ns.Namespace != r.ns {
				continue
			}
			var kv kvrwset.KVRWSet
			if err := proto.Unmarshal(ns.Rwset, &kv); err != nil {
				return nil, fmt.Errorf("action %d: %s read-write set: %w", ai, ns.Namespace, err)
			}
			for _, w := range kv.Writes {
				// As Fabric's committer: an empty value deletes.
				t.writes[w.Key] = write{value: w.Value, del: w.IsDelete || len(w.Value) == 0}
			}
			for _, m := range kv.MetadataWrites {
				var p []byte
				for _, e := range m.Entries {
					if e.Name == validationParameter {
						p = e.Value
					}
				}
				t.policies[m.Key] = p
			}
		}
	}
	return t, nil
}

// stub is the chaincode's view of the ledger during a replay: the state
// copy as it was before the transaction (Fabric's simulation does not read
// its own writes), the transaction's proposal, and the writes it makes.
type stub struct {
	shim.ChaincodeStubInterface // not implemented: a call panics, and the replay reports it
	r                           *Replayer
	t                           *tx
	writes                      map[string]write
	policies                    map[string][]byte
}

// invoke runs the reference chaincode on the transaction's proposal.
func (s *stub) invoke() (resp *peer.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.r.cc.Invoke(s), nil
}

func (s *stub) GetArgs() [][]byte { return s.t.args }
func (s *stub) GetStringArgs() []string {
	out := make([]string, len(s.t.args))
	for i, a := range s.t.args {
		out[i] = string(a)
	}
	return out
}
func (s *stub) GetFunctionAndParameters() (string, []string) {
	a := s.GetStringArgs()
	if len(a) == 0 {
		return "", nil
	}
	return a[0], a[1:]
}
func (s *stub) GetTxID() string                                      { return s.t.id }
func (s *stub) GetChannelID() string                                 { return s.t.channel }
func (s *stub) GetCreator() ([]byte, error)                          { return s.t.creator, nil }
func (s *stub) GetTxTimestamp() (*timestamppb.Timestamp, error)      { return s.t.time, nil }
func (s *stub) GetDecorations() map[string][]byte                    { return nil }
func (s *stub) GetTransient() (map[string][]byte, error)             { return nil, nil }
func (s *stub) StartWriteBatch()                                     {}
func (s *stub) FinishWriteBatch() error                              { return nil }
func (s *stub) SetEvent(string, []byte) error                        { return nil }
func (s *stub) GetStateValidationParameter(k string) ([]byte, error) { return s.get('p', k) }

func (s *stub) get(kind byte, k string) ([]byte, error) {
	v, closer, err := s.r.state.Get(stateKey(kind, k))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

func (s *stub) GetState(k string) ([]byte, error) { return s.get('v', k) }

func (s *stub) PutState(k string, v []byte) error {
	if k == "" {
		return errors.New("key must not be an empty string")
	}
	s.writes[k] = write{value: bytes.Clone(v), del: len(v) == 0}
	return nil
}

func (s *stub) DelState(k string) error {
	s.writes[k] = write{del: true}
	return nil
}

func (s *stub) SetStateValidationParameter(k string, ep []byte) error {
	s.policies[k] = bytes.Clone(ep)
	return nil
}

// Composite keys, as the shim builds them.
func (s *stub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	return shim.CreateCompositeKey(objectType, attributes)
}

// SplitCompositeKey splits as the shim's stub does (which panics on a key
// without a separator; so does this one, and the replay reports it).
func (s *stub) SplitCompositeKey(key string) (string, []string, error) {
	var parts []string
	from := 1
	for i := 1; i < len(key); i++ {
		if key[i] == 0 {
			parts = append(parts, key[from:i])
			from = i + 1
		}
	}
	return parts[0], parts[1:], nil
}

// scan returns the state copy's keys and values in [start, end), at most
// limit (0: all).
func (s *stub) scan(start, end string, limit int) ([]*queryresult.KV, string, error) {
	it, err := s.r.state.NewIter(&pebble.IterOptions{LowerBound: stateKey('v', start), UpperBound: stateKey('v', end)})
	if err != nil {
		return nil, "", err
	}
	defer it.Close()
	var out []*queryresult.KV
	for ok := it.First(); ok; ok = it.Next() {
		k := string(it.Key()[1:])
		if limit > 0 && len(out) == limit {
			return out, k, it.Error()
		}
		out = append(out, &queryresult.KV{Namespace: s.r.ns, Key: k, Value: bytes.Clone(it.Value())})
	}
	return out, "", it.Error()
}

func (s *stub) partial(objectType string, attrs []string) (string, string, error) {
	start, err := shim.CreateCompositeKey(objectType, attrs)
	if err != nil {
		return "", "", err
	}
	return start, start + string(utf8.MaxRune), nil
}

func (s *stub) GetStateByPartialCompositeKey(objectType string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	start, end, err := s.partial(objectType, attrs)
	if err != nil {
		return nil, err
	}
	kvs, _, err := s.scan(start, end, 0)
	return &kvIter{kvs: kvs}, err
}

// GetStateByPartialCompositeKeyWithPagination pages as LevelDB on a peer
// does: the bookmark is the key to start from, "" after the last page.
func (s *stub) GetStateByPartialCompositeKeyWithPagination(objectType string, attrs []string,
	pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	start, end, err := s.partial(objectType, attrs)
	if err != nil {
		return nil, nil, err
	}
	if pageSize <= 0 {
		return nil, nil, fmt.Errorf("pageSize must be greater than zero, got %d", pageSize)
	}
	if bookmark != "" {
		start = bookmark
	}
	kvs, next, err := s.scan(start, end, int(pageSize))
	return &kvIter{kvs: kvs}, &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(kvs)), Bookmark: next}, err
}

// GetHistoryForKey answers no history: only queries read it, and a
// query's result does not change the writes compared.
func (s *stub) GetHistoryForKey(string) (shim.HistoryQueryIteratorInterface, error) {
	return &histIter{}, nil
}

type kvIter struct {
	kvs []*queryresult.KV
	i   int
}

func (it *kvIter) HasNext() bool { return it.i < len(it.kvs) }
func (it *kvIter) Close() error  { return nil }
func (it *kvIter) Next() (*queryresult.KV, error) {
	if !it.HasNext() {
		return nil, errors.New("no more results")
	}
	it.i++
	return it.kvs[it.i-1], nil
}

type histIter struct{}

func (histIter) HasNext() bool { return false }
func (histIter) Close() error  { return nil }
func (histIter) Next() (*queryresult.KeyModification, error) {
	return nil, errors.New("no more results")
}
