package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// The audit looks for what a colluding majority of counties can write and
// the chaincode's checks cannot stop (docs/CHAOS.md, "Known limits" 1):
// Fabric validates the creation of a key against the chaincode's MAJORITY
// policy alone, so two counties of three, running a chaincode of their
// own, can create a record that names the third county, or add and
// remove the chaincode's index entries. Records that exist are safe:
// each carries its county's key-level policy.
//
// Two checks, each a pass over what the index already has:
//
//   - creations (AuditCreations), over the blocks from block 0: every
//     record and certificate anchor a valid transaction creates must be
//     created by an identity of the county that the chaincode lets create
//     it (the record's receivedBy county for a repair or objection and the
//     repair's commitment, else its county) and endorsed by that county's
//     peer among others; a county's registry entry must be created by that
//     county's own MSP. The creator and endorser MSPs are those the
//     committing peer validated the signatures of.
//   - index entries (DB.AuditIndexes), over the mirror at its height: the
//     chaincode's subject and bycounty entries, certcounty entries and the
//     registry's countymsp entries must each name an existing record,
//     anchor or county that agrees with them, and every record, anchor and
//     county must have its entries.
//
// An honest ledger gives no finding: the chaincode writes exactly these
// entries, and a client submits through its own county's peer, which the
// gateway asks to endorse first. An officer who submits through another
// county's peer would show as an endorsement finding: the audit reports
// it, since a county's record written without its peer's endorsement is
// exactly what collusion looks like.

// Audit checks.
const (
	// AuditCreator: a key created by an identity of another county than
	// the one allowed to create it.
	AuditCreator = "creator"
	// AuditEndorsement: a record created without its county's endorsement.
	AuditEndorsement = "endorsement"
	// AuditIndex: a chaincode index entry without its record, or one that
	// disagrees with it, or a record without its entries.
	AuditIndex = "index"
)

// AuditFinding is one thing the audit found wrong.
type AuditFinding struct {
	Check string `json:"check"`
	// Key is the world-state key concerned, as FormatStateKey writes it.
	Key string `json:"key"`
	// Block and TxID name the creating transaction (creator and
	// endorsement findings).
	Block  uint64 `json:"block,omitempty"`
	TxID   string `json:"txId,omitempty"`
	Detail string `json:"detail"`
}

func (f AuditFinding) String() string {
	if f.TxID != "" {
		return fmt.Sprintf("%s %s (block %d, transaction %s): %s", f.Check, f.Key, f.Block, f.TxID, f.Detail)
	}
	return fmt.Sprintf("%s %s: %s", f.Check, f.Key, f.Detail)
}

// CreationAudit checks the creations of blocks given in order from block 0
// (AuditCreations streams them from a source).
type CreationAudit struct {
	ns string
	// exists holds the record and anchor keys that exist after the blocks
	// seen (a delete removes one).
	exists map[string]struct{}
	// counties maps county codes to MSP IDs, from the registry entries
	// created so far.
	counties map[string]string
	next     uint64
	// Blocks and Creations count the blocks seen and the keys created.
	Blocks, Creations int
}

// NewCreationAudit starts an audit of the creations in namespace ns
// (DefaultNamespace if "").
func NewCreationAudit(ns string) *CreationAudit {
	if ns == "" {
		ns = DefaultNamespace
	}
	return &CreationAudit{ns: ns, exists: map[string]struct{}{}, counties: map[string]string{}}
}

// audited reports whether keys of object type ot are checked at creation:
// the records, the certificate anchors and the registry entries.
func audited(ot string) bool {
	return credit.IsRecordKind(ot) || ot == credit.TypeCertificate || ot == credit.TypeCounty
}

// Block checks the creations of block b, the next block; fn hears of each
// finding.
func (a *CreationAudit) Block(b *common.Block, fn func(AuditFinding)) error {
	if n := b.GetHeader().GetNumber(); n != a.next {
		return fmt.Errorf("audit: block %d, the next is %d: %w", n, a.next, ErrGap)
	}
	pb, err := ParseBlock(b, a.ns)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	for i := range pb.Txs {
		tx := &pb.Txs[i]
		if !tx.Valid() {
			continue
		}
		var ids *txIdentities
		for _, w := range tx.Writes {
			ot, attrs, ok := keys.SplitCompositeKey(w.Key)
			if !ok || len(attrs) != 1 || !audited(ot) {
				continue
			}
			k := string(w.Key)
			if w.IsDelete {
				delete(a.exists, k)
				continue
			}
			if _, ok := a.exists[k]; ok {
				continue // an update: the key-level policy of its county applied
			}
			a.exists[k] = struct{}{}
			a.Creations++
			if ids == nil {
				if ids, err = parseTxIdentities(b.Data.Data[tx.Num]); err != nil {
					return fmt.Errorf("audit: block %d %s: %w: %w", pb.Number, tx.label(), err, ErrMalformed)
				}
			}
			a.check(pb.Number, tx.ID, ot, attrs[0], k, w.Value, ids, fn)
		}
	}
	a.next++
	a.Blocks++
	return nil
}

// check checks the creation of key k (object type ot, ID id) with value v.
func (a *CreationAudit) check(block uint64, txID, ot, id, k string, v []byte, ids *txIdentities, fn func(AuditFinding)) {
	report := func(check, format string, args ...any) {
		fn(AuditFinding{Check: check, Key: keys.FormatStateKey([]byte(k)), Block: block, TxID: txID, Detail: fmt.Sprintf(format, args...)})
	}
	if ot == credit.TypeCounty {
		var c struct {
			MSPID string `json:"mspId"`
		}
		if err := json.Unmarshal(v, &c); err != nil || c.MSPID == "" {
			report(AuditCreator, "the registry entry does not read as a county: %v", err)
			return
		}
		if ids.creator != c.MSPID {
			report(AuditCreator, "county %s registered with MSP %s by an identity of %s (only an admin of the county's own MSP registers it)", id, c.MSPID, ids.creator)
		}
		a.counties[id] = c.MSPID
		return
	}
	var h struct {
		County     string `json:"county"`
		ReceivedBy string `json:"receivedBy"`
	}
	if err := json.Unmarshal(v, &h); err != nil || h.County == "" {
		report(AuditCreator, "the value names no county: %v", err)
		return
	}
	// The county allowed to create it: the one that received the
	// application or objection, else the record's own.
	by, why := h.County, "its county"
	if h.ReceivedBy != "" {
		by, why = h.ReceivedBy, "the county that received it (receivedBy)"
	}
	mspID, ok := a.counties[by]
	if !ok {
		report(AuditCreator, "created by an identity of %s for county %s, %s, which was not registered", ids.creator, by, why)
		return
	}
	if ids.creator != mspID {
		report(AuditCreator, "county %s's %s created by an identity of %s; %s, %s, is %s", h.County, ot, ids.creator, why, by, mspID)
	}
	if !slices.Contains(ids.endorsers, mspID) {
		report(AuditEndorsement, "created without the endorsement of county %s (%s), %s; endorsed by %s", by, mspID, why, strings.Join(ids.endorsers, ", "))
	}
}

// AuditCreations checks the creations of blocks [0, height) of src.
func AuditCreations(ctx context.Context, src BlockSource, ns string, height uint64, fn func(AuditFinding)) (*CreationAudit, error) {
	a := NewCreationAudit(ns)
	return a, EachBlock(ctx, src, height, func(b *common.Block) error { return a.Block(b, fn) })
}

// EachBlock calls fn with blocks [0, height) of src, in order. A source
// that ends before height is an error (ErrGap), as is a block out of
// order.
func EachBlock(ctx context.Context, src BlockSource, height uint64, fn func(*common.Block) error) error {
	if height == 0 {
		return nil
	}
	s, err := src.OpenBlocks(ctx, 0)
	if err != nil {
		return fmt.Errorf("read blocks: %w", err)
	}
	defer s.Close()
	for n := uint64(0); n < height; n++ {
		b, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("read blocks: they end at %d, before height %d: %w", n, height, ErrGap)
		}
		if err != nil {
			return fmt.Errorf("read blocks: block %d: %w", n, err)
		}
		if got := b.GetHeader().GetNumber(); got != n {
			return fmt.Errorf("read blocks: expected block %d, got %d: %w", n, got, ErrGap)
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// txIdentities are a transaction's creator MSP and its endorsers' MSPs
// (of every action), in order.
type txIdentities struct {
	creator   string
	endorsers []string
}

// parseTxIdentities reads the creator and endorsers of an endorser
// transaction's envelope. Not on ingest's path: proto.Unmarshal is plain
// enough here.
func parseTxIdentities(env []byte) (*txIdentities, error) {
	var e common.Envelope
	var p common.Payload
	var sh common.SignatureHeader
	var creator msp.SerializedIdentity
	var tx peer.Transaction
	if err := proto.Unmarshal(env, &e); err != nil {
		return nil, fmt.Errorf("unmarshal envelope: %w", err)
	}
	if err := proto.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("unmarshal payload: %w", err)
	}
	if err := proto.Unmarshal(p.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, fmt.Errorf("unmarshal signature header: %w", err)
	}
	if err := proto.Unmarshal(sh.Creator, &creator); err != nil {
		return nil, fmt.Errorf("unmarshal creator: %w", err)
	}
	if err := proto.Unmarshal(p.Data, &tx); err != nil {
		return nil, fmt.Errorf("unmarshal transaction: %w", err)
	}
	out := &txIdentities{creator: creator.Mspid}
	for i, ta := range tx.Actions {
		var cap peer.ChaincodeActionPayload
		if err := proto.Unmarshal(ta.Payload, &cap); err != nil {
			return nil, fmt.Errorf("action %d: unmarshal chaincode action payload: %w", i, err)
		}
		for _, en := range cap.GetAction().GetEndorsements() {
			var id msp.SerializedIdentity
			if err := proto.Unmarshal(en.Endorser, &id); err != nil {
				return nil, fmt.Errorf("action %d: unmarshal endorser: %w", i, err)
			}
			if !slices.Contains(out.endorsers, id.Mspid) {
				out.endorsers = append(out.endorsers, id.Mspid)
			}
		}
	}
	return out, nil
}

// IndexAudit counts what DB.AuditIndexes compared.
type IndexAudit struct {
	// Height is the index's height: the state compared is after block
	// Height-1.
	Height uint64 `json:"height"`
	// Records, Anchors and Counties are the keys read; Entries the index
	// entries (subject, bycounty, certcounty, countymsp) checked.
	Records  int `json:"records"`
	Anchors  int `json:"anchors"`
	Counties int `json:"counties"`
	Entries  int `json:"entries"`
}

// auditedRecord is what the index entries of a record must agree with.
type auditedRecord struct {
	subject, county, state string
	subjectEntries         int
	byCountyEntries        int
}

// AuditIndexes checks the chaincode's index entries in the mirror against
// the records, certificate anchors and counties they index, both ways
// (see AuditCreations for the other check); fn hears of each finding, in
// key order of each table. It holds every record's subject, county and
// state in memory (about 150 bytes a record).
func (db *DB) AuditIndexes(fn func(AuditFinding)) (IndexAudit, error) {
	var out IndexAudit
	err := db.view(func(s *pebble.Snapshot) error {
		var err error
		if out.Height, err = readHeight(s); err != nil {
			return err
		}
		return auditIndexes(s, &out, fn)
	})
	if err != nil {
		return out, fmt.Errorf("audit indexes: %w", err)
	}
	return out, nil
}

func auditIndexes(s *pebble.Snapshot, out *IndexAudit, fn func(AuditFinding)) error {
	report := func(k []byte, format string, args ...any) {
		fn(AuditFinding{Check: AuditIndex, Key: keys.FormatStateKey(k), Detail: fmt.Sprintf(format, args...)})
	}
	// each scans the mirror rows of object type ot.
	each := func(ot string, f func(k []byte, attrs []string, v []byte) error) error {
		lower := keys.Mirror{Key: keys.CompositeKey(ot)}.Encode(nil)
		return scan(s, lower, keys.PrefixEnd(lower), func(k, v []byte) error {
			_, attrs, ok := keys.SplitCompositeKey(k[1:])
			if !ok {
				return fmt.Errorf("%s: not a composite key: %w", keys.Format(k), ErrRecord)
			}
			return f(k[1:], attrs, v)
		})
	}
	records := map[string]*auditedRecord{} // by kind + "\x00" + id
	for _, kind := range credit.RecordKinds {
		err := each(kind, func(k []byte, attrs []string, v []byte) error {
			if len(attrs) != 1 {
				return nil // not a record key
			}
			var h struct{ Subject, County, State string }
			if err := json.Unmarshal(v, &h); err != nil {
				report(k, "the record does not read: %v", err)
				return nil
			}
			out.Records++
			records[kind+"\x00"+attrs[0]] = &auditedRecord{subject: h.Subject, county: h.County, state: h.State}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// subject{subject, kind, id} = county
	err := each(credit.TypeSubject, func(k []byte, attrs []string, v []byte) error {
		out.Entries++
		if len(attrs) != 3 {
			report(k, "a subject index entry has 3 attributes, this one %d", len(attrs))
			return nil
		}
		r := records[attrs[1]+"\x00"+attrs[2]]
		switch {
		case r == nil:
			report(k, "no %s %s exists", attrs[1], attrs[2])
		case r.subject != attrs[0] || r.county != string(v):
			report(k, "%s %s is about %s, of county %s; the entry says %s, of county %s", attrs[1], attrs[2], r.subject, r.county, attrs[0], v)
		default:
			r.subjectEntries++
		}
		return nil
	})
	if err != nil {
		return err
	}
	// bycounty{county, kind, state, id} = subject
	err = each(credit.TypeByCounty, func(k []byte, attrs []string, v []byte) error {
		out.Entries++
		if len(attrs) != 4 {
			report(k, "a bycounty index entry has 4 attributes, this one %d", len(attrs))
			return nil
		}
		r := records[attrs[1]+"\x00"+attrs[3]]
		switch {
		case r == nil:
			report(k, "no %s %s exists", attrs[1], attrs[3])
		case r.county != attrs[0] || r.state != attrs[2] || r.subject != string(v):
			report(k, "%s %s is of county %s, %s, about %s; the entry says county %s, %s, about %s", attrs[1], attrs[3], r.county, r.state, r.subject, attrs[0], attrs[2], v)
		default:
			r.byCountyEntries++
		}
		return nil
	})
	if err != nil {
		return err
	}
	var missing []string
	for key, r := range records {
		if r.subjectEntries != 1 || r.byCountyEntries != 1 {
			missing = append(missing, key)
		}
	}
	slices.Sort(missing) // findings in key order, not map order
	for _, key := range missing {
		kind, id, _ := strings.Cut(key, "\x00")
		r := records[key]
		if r.subjectEntries == 0 {
			report(keys.CompositeKey(kind, id), "no subject index entry subject{%s,%s,%s}: SubjectRecords and certificates do not see it", r.subject, kind, id)
		}
		if r.byCountyEntries == 0 {
			report(keys.CompositeKey(kind, id), "no bycounty index entry bycounty{%s,%s,%s,%s}: the county's lists do not show it", r.county, kind, r.state, id)
		}
	}

	// certcounty{county, id} = county, for each certificate anchor.
	anchors := map[string]string{} // id → issuing county
	err = each(credit.TypeCertificate, func(k []byte, attrs []string, v []byte) error {
		if len(attrs) != 1 {
			return nil
		}
		var h struct{ County string }
		if err := json.Unmarshal(v, &h); err != nil {
			report(k, "the anchor does not read: %v", err)
			return nil
		}
		out.Anchors++
		anchors[attrs[0]] = h.County
		return nil
	})
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	err = each(credit.TypeCertCounty, func(k []byte, attrs []string, v []byte) error {
		out.Entries++
		if len(attrs) != 2 {
			report(k, "a certcounty entry has 2 attributes, this one %d", len(attrs))
			return nil
		}
		c, ok := anchors[attrs[1]]
		switch {
		case !ok:
			report(k, "no certificate %s exists", attrs[1])
		case c != attrs[0] || string(v) != attrs[0]:
			report(k, "certificate %s was issued by county %s; the entry says %s (value %s)", attrs[1], c, attrs[0], v)
		default:
			listed[attrs[1]] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range unmatched(anchors, listed) {
		report(keys.CompositeKey(credit.TypeCertificate, id), "no certcounty entry certcounty{%s,%s}: ListCertificates does not show it", anchors[id], id)
	}

	// countymsp{msp} = code, for each county{code} naming msp.
	counties := map[string]string{} // code → MSP ID
	err = each(credit.TypeCounty, func(k []byte, attrs []string, v []byte) error {
		if len(attrs) != 1 {
			return nil
		}
		var c struct {
			MSPID string `json:"mspId"`
		}
		if err := json.Unmarshal(v, &c); err != nil {
			report(k, "the registry entry does not read: %v", err)
			return nil
		}
		out.Counties++
		counties[attrs[0]] = c.MSPID
		return nil
	})
	if err != nil {
		return err
	}
	mapped := map[string]bool{}
	err = each(credit.TypeCountyMSP, func(k []byte, attrs []string, v []byte) error {
		out.Entries++
		if len(attrs) != 1 {
			report(k, "a countymsp entry has 1 attribute, this one %d", len(attrs))
			return nil
		}
		code := string(v)
		switch m, ok := counties[code]; {
		case !ok:
			report(k, "MSP %s is mapped to county %s, which is not registered", attrs[0], code)
		case m != attrs[0]:
			report(k, "MSP %s is mapped to county %s, whose registry entry names MSP %s", attrs[0], code, m)
		default:
			mapped[code] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, code := range unmatched(counties, mapped) {
		report(keys.CompositeKey(credit.TypeCounty, code), "no countymsp entry maps MSP %s to it", counties[code])
	}
	return nil
}

// unmatched returns the keys of m that matched does not hold, sorted (so
// that findings come in key order, never in map order).
func unmatched(m map[string]string, matched map[string]bool) []string {
	var out []string
	for k := range m {
		if !matched[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
