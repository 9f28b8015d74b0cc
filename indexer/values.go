package indexer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/countycredit/creditledger/indexer/keys"
)

// Value encodings. Like the keys, they are part of the on-disk format
// (keys.FormatVersion). Every value that is not a fixed-size number starts
// with a one-byte encoding version, so that a value of a newer format is
// recognised as such instead of being misread.
const valueVersion = 1

var errCorruptValue = errors.New("corrupt index value")

// enc appends fields to a value.
type enc []byte

func (e enc) str(s string) enc   { return append(binary.AppendUvarint(e, uint64(len(s))), s...) }
func (e enc) bytes(b []byte) enc { return append(binary.AppendUvarint(e, uint64(len(b))), b...) }
func (e enc) uint(v uint64) enc  { return binary.AppendUvarint(e, v) }
func (e enc) int(v int64) enc    { return binary.AppendVarint(e, v) }
func (e enc) bool(v bool) enc {
	if v {
		return append(e, 1)
	}
	return append(e, 0)
}

// dec reads fields from a value; the first error sticks.
type dec struct {
	b    []byte
	err  error
	what string
}

func newDec(what string, b []byte) dec {
	d := dec{b: b, what: what}
	if len(b) == 0 || b[0] != valueVersion {
		d.err = fmt.Errorf("decode %s: unknown value version: %w", what, errCorruptValue)
		return d
	}
	d.b = b[1:]
	return d
}

func (d *dec) fail(field string) {
	if d.err == nil {
		d.err = fmt.Errorf("decode %s: field %s: %w", d.what, field, errCorruptValue)
	}
}

func (d *dec) uint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) int(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes(field string) []byte {
	l := d.uint(field)
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)) < l {
		d.fail(field)
		return nil
	}
	v := d.b[:l:l]
	d.b = d.b[l:]
	return v
}

func (d *dec) str(field string) string { return string(d.bytes(field)) }

func (d *dec) bool(field string) bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 || d.b[0] > 1 {
		d.fail(field)
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *dec) date(field string) keys.Date {
	v := keys.Date(d.uint(field))
	if d.err == nil && v != 0 && !v.Valid() {
		d.fail(field)
	}
	return v
}

func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("decode %s: %d trailing bytes: %w", d.what, len(d.b), errCorruptValue)
	}
	return d.err
}

// historyValue is the value of a keys.History row.
type historyValue struct {
	TxID     string
	Time     time.Time
	IsDelete bool
	Value    []byte
}

func (h historyValue) encode() []byte {
	e := enc{valueVersion}.str(h.TxID).int(h.Time.Unix()).uint(uint64(h.Time.Nanosecond())).bool(h.IsDelete)
	return append(e, h.Value...)
}

func decodeHistory(b []byte) (historyValue, error) {
	d := newDec("history", b)
	var h historyValue
	h.TxID = d.str("txId")
	sec := d.int("time")
	nsec := d.uint("time")
	h.IsDelete = d.bool("isDelete")
	if d.err != nil {
		return h, d.err
	}
	h.Time = time.Unix(sec, int64(nsec)).UTC()
	h.Value = d.b
	return h, nil
}

// blockValue is the value of a keys.Block row.
type blockValue struct {
	Hash                        []byte
	Txs, Valid, Invalid, Config uint64
	Writes, Deletes             uint64
}

func (v blockValue) encode() []byte {
	return enc{valueVersion}.bytes(v.Hash).uint(v.Txs).uint(v.Valid).uint(v.Invalid).uint(v.Config).
		uint(v.Writes).uint(v.Deletes)
}

func decodeBlockValue(b []byte) (blockValue, error) {
	d := newDec("block", b)
	v := blockValue{Hash: d.bytes("hash")}
	v.Txs, v.Valid, v.Invalid = d.uint("txs"), d.uint("valid"), d.uint("invalid")
	v.Config, v.Writes, v.Deletes = d.uint("config"), d.uint("writes"), d.uint("deletes")
	return v, d.done()
}

func (c Checkpoint) encode() []byte {
	return enc{valueVersion}.uint(c.Block).bytes(c.Hash).str(c.TxID)
}

func decodeCheckpoint(b []byte) (Checkpoint, error) {
	d := newDec("checkpoint", b)
	c := Checkpoint{Block: d.uint("block"), Hash: d.bytes("hash"), TxID: d.str("txId")}
	return c, d.done()
}

// checkpointBlock returns the block of a checkpoint value, checked as
// decodeCheckpoint checks it, without copying its transaction ID.
func checkpointBlock(b []byte) (uint64, error) {
	d := newDec("checkpoint", b)
	block := d.uint("block")
	d.bytes("hash")
	d.bytes("txId")
	return block, d.done()
}

// counts are the running ingest counters kept under /meta/stats.
type counts struct {
	Txs, Valid, Invalid, Config, CreditTxs, Writes, Deletes uint64
}

func (c counts) encode() []byte {
	return enc{valueVersion}.uint(c.Txs).uint(c.Valid).uint(c.Invalid).uint(c.Config).uint(c.CreditTxs).
		uint(c.Writes).uint(c.Deletes)
}

func decodeCounts(b []byte) (counts, error) {
	d := newDec("stats", b)
	var c counts
	c.Txs, c.Valid, c.Invalid, c.Config = d.uint("txs"), d.uint("valid"), d.uint("invalid"), d.uint("config")
	c.CreditTxs, c.Writes, c.Deletes = d.uint("creditTxs"), d.uint("writes"), d.uint("deletes")
	return c, d.done()
}

// seenValue is the value of a keys.Seen row.
type seenValue struct {
	First     keys.Month // month the county's records first named the subject
	Committed keys.Month // month a commitment of the county first named it; 0 if none yet
}

func (s seenValue) encode() []byte {
	return enc{valueVersion}.uint(uint64(s.First)).uint(uint64(s.Committed))
}

func decodeSeen(b []byte) (seenValue, error) {
	d := newDec("seen", b)
	s := seenValue{First: keys.Month(d.uint("first")), Committed: keys.Month(d.uint("committed"))}
	return s, d.done()
}

// Counter values are a signed count, 8 bytes big-endian two's complement.
func encodeCount(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func decodeCount(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("decode counter: %d bytes, want 8: %w", len(b), errCorruptValue)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
