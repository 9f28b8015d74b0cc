package indexer

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// Reading a subject's records. The profile is the lookup people wait on,
// so it reads in two passes and allocates little: first up to
// profileChunk by-subject rows, each record's value read and held as
// Pebble returns it; then one string, exactly sized, of their IDs and
// values, from which every record is decoded (decodeRecordValue) with its
// strings cut from that one string rather than copied one by one. A row
// the first pass does not read plainly — a key part with an escaped byte,
// a kind that is not a record kind, a record that is not mirrored, a read
// error — ends it, and that row and the rest go through the row-by-row
// path (subjectRow), which decides and words every error as SubjectProfile
// always has. Records come back in index order, and the first error in
// that order is the one returned, either way.
// TestSubjectRecordsMatchRowByRow and TestSubjectRecordsCorruptIndex check
// it against the row-by-row read it replaced.

// subjectRecords returns the records listed under subject in the
// by-subject index of s, decoded, with derived states as of asOf, sorted
// by kind, then ID.
func subjectRecords(s *pebble.Snapshot, subject string, asOf credit.Date) ([]credit.Record, error) {
	// One buffer for the bounds (keys.BySubjectPrefix, keys.PrefixEnd of
	// it) and the mirror keys.
	buf := make([]byte, 0, 4*len(subject)+8+128)
	lower := keys.Subject(subject).Encode(append(buf, byte(keys.PrefixBySubject)))
	lower = lower[:len(lower):len(lower)]
	upper := prefixEnd(append(buf[len(lower):len(lower)], lower...))
	upper = upper[:len(upper):len(upper)]
	mk := buf[len(lower)+len(upper) : len(lower)+len(upper)]
	it, err := s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	recs, err := readSubjectRecords(s, it, subject, len(lower), mk, asOf)
	if err != nil {
		return nil, errors.Join(err, it.Close())
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, err
	}
	return recs, nil
}

// profileChunk is the most rows the first pass holds at a time.
const profileChunk = 32

// heldRow is a row of the first pass: the record's kind, its ID's length
// in the chunk's ID buffer, and its value as Pebble holds it until closed.
type heldRow struct {
	kind        string
	idLen       int
	value       []byte
	valueLen    int
	closer      io.Closer
	errOnClosed error
}

// readSubjectRecords reads the rows of it (the by-subject rows of
// subject, whose prefix is prefixLen bytes long); mk is room for the
// mirror keys.
func readSubjectRecords(s *pebble.Snapshot, it *pebble.Iterator, subject string, prefixLen int, mk []byte, asOf credit.Date) ([]credit.Record, error) {
	var held [profileChunk]heldRow
	var idArr [profileChunk * 32]byte
	var recs []credit.Record
	valid := it.First()
	plain := true
	for valid && plain {
		// First pass: up to profileChunk rows, their values held open.
		n, size := 0, 0
		ids := idArr[:0]
		for ; valid && n < profileChunk; valid = it.Next() {
			if _, err := it.ValueAndErr(); err != nil {
				plain = false
				break
			}
			kind, id, ok := splitBySubject(it.Key()[prefixLen:])
			if !ok {
				plain = false
				break
			}
			mk = appendMirrorKey(mk[:0], kind, id)
			v, closer, err := s.Get(mk)
			if err != nil {
				plain = false
				break
			}
			ids = append(ids, id...)
			held[n] = heldRow{kind: kind, idLen: len(id), value: v, valueLen: len(v), closer: closer}
			n++
			size += len(id) + len(v)
		}
		// One string of every ID and value, exactly sized; the values
		// released.
		var sb strings.Builder
		sb.Grow(size)
		for i := range n {
			h := &held[i]
			sb.Write(ids[:h.idLen])
			ids = ids[h.idLen:]
			sb.Write(h.value)
			h.errOnClosed = h.closer.Close()
			h.value, h.closer = nil, nil
		}
		str := sb.String()
		// Second pass: decode, in order, with loadRecord's errors.
		if recs == nil {
			recs = make([]credit.Record, 0, n)
		}
		for i := range n {
			h := &held[i]
			id, value := str[:h.idLen], str[h.idLen:h.idLen+h.valueLen]
			str = str[h.idLen+h.valueLen:]
			if h.errOnClosed != nil {
				return nil, h.errOnClosed
			}
			rec, err := decodeRecordValue(h.kind, id, value)
			if err != nil {
				return nil, err
			}
			rec.Derive(asOf)
			recs = append(recs, rec)
		}
	}
	// Whatever the first pass did not read plainly, row by row.
	for ; valid; valid = it.Next() {
		rec, err := subjectRow(s, it, subject, asOf)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if recs == nil {
		recs = []credit.Record{}
	}
	return recs, nil
}

// subjectRow reads the record of the by-subject row at it, row by row.
func subjectRow(s *pebble.Snapshot, it *pebble.Iterator, subject string, asOf credit.Date) (credit.Record, error) {
	if _, err := it.ValueAndErr(); err != nil {
		return nil, err
	}
	var bs keys.BySubject
	if err := bs.Decode(it.Key()); err != nil {
		return nil, err
	}
	rec, err := loadRecord(s, string(bs.Kind), string(bs.ID), asOf)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("index lists %s %s under %s but the record is not mirrored", bs.Kind, bs.ID, subject)
	}
	return rec, nil
}

// splitBySubject splits the rest of a by-subject key after its subject
// into a record kind and an ID; ok is false unless both parts are plain
// (no escaped byte), the kind is a record kind and nothing follows.
func splitBySubject(rest []byte) (kind string, id []byte, ok bool) {
	k, rest, ok := plainKeyPart(rest)
	if !ok {
		return "", nil, false
	}
	for _, rk := range credit.RecordKinds {
		if string(k) == rk {
			kind = rk
		}
	}
	id, rest, ok = plainKeyPart(rest)
	if !ok || kind == "" || len(rest) != 0 {
		return "", nil, false
	}
	return kind, id, true
}

// plainKeyPart reads an escaped key string part (keys: its bytes, then the
// terminator 0x00 0x01) that holds no 0x00 byte, aliasing b.
func plainKeyPart(b []byte) (part, rest []byte, ok bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == 0x00 {
			if b[i+1] != 0x01 {
				return nil, nil, false
			}
			return b[:i], b[i+2:], true
		}
	}
	return nil, nil, false
}

// prefixEnd is keys.PrefixEnd, in place.
func prefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		prefix[i]++
		if prefix[i] != 0 {
			return prefix[:i+1]
		}
	}
	return nil
}

// appendMirrorKey appends the mirror key of the record kind{id}:
// keys.Mirror{Key: keys.CompositeKey(kind, id)}.Encode(dst).
func appendMirrorKey(dst []byte, kind string, id []byte) []byte {
	dst = append(dst, byte(keys.PrefixMirror), 0x00)
	dst = append(dst, kind...)
	dst = append(dst, 0x00)
	dst = append(dst, id...)
	return append(dst, 0x00)
}
