package indexer

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
)

// mirrorDump is every row of the state mirror, as text.
func mirrorDump(t *testing.T, db *DB) string {
	t.Helper()
	var sb strings.Builder
	if err := db.ScanMirror(nil, nil, func(k, v []byte) error {
		fmt.Fprintf(&sb, "%q=%q\n", k, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestStoreRecorded: the rows Follow wrote for blocks 4 on, recorded and
// written again by StoreRecorded into an index holding blocks 0-3, give
// the index Follow made (the same digest); the mirror-only recording
// gives the same state mirror and not the same index; a block the
// recording lacks, or a block that does not follow the index's tip, stops
// it with nothing of that block written.
func TestStoreRecorded(t *testing.T) {
	w := newWorkload(t, 21, 40)
	for range 8 {
		w.block(12)
	}
	blocks := w.blocks
	const from = 4
	upTo := func(n int) *DB {
		db, _ := openMem(t)
		if err := db.Follow(t.Context(), sliceSource(blocks[:n])); err != nil {
			t.Fatal(err)
		}
		return db
	}
	ref := upTo(from)
	rec := NewRowRecording()
	ref.RecordRows(rec)
	if err := ref.Follow(t.Context(), sliceSource(blocks)); err != nil {
		t.Fatal(err)
	}
	ref.RecordRows(nil)
	h1, d1, err := ref.Digest()
	if err != nil {
		t.Fatal(err)
	}
	st := rec.Stats()
	if st.Blocks != len(blocks)-from || st.Rows <= st.MirrorRows || st.MirrorRows == 0 || st.Bytes == 0 {
		t.Fatalf("recording stats %+v for %d blocks", st, len(blocks)-from)
	}

	db := upTo(from)
	if err := db.StoreRecorded(t.Context(), sliceSource(blocks), uint64(len(blocks)), rec); err != nil {
		t.Fatal(err)
	}
	h2, d2, err := db.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 || !bytes.Equal(d1, d2) {
		t.Fatalf("stored: height %d digest %x; followed: height %d digest %x", h2, d2, h1, d1)
	}
	got, _ := db.Checkpoint()
	want, _ := ref.Checkpoint()
	if got.Block != want.Block || !bytes.Equal(got.Hash, want.Hash) || got.TxID != want.TxID {
		t.Fatalf("checkpoint %+v, Follow's %+v", got, want)
	}

	mo := upTo(from)
	if err := mo.StoreRecorded(t.Context(), sliceSource(blocks), uint64(len(blocks)), rec.MirrorOnly()); err != nil {
		t.Fatal(err)
	}
	if got, want := mirrorDump(t, mo), mirrorDump(t, ref); got != want {
		t.Fatalf("mirror-only store: the mirror differs from Follow's")
	}
	if h, d, err := mo.Digest(); err != nil || h != h1 || bytes.Equal(d, d1) {
		t.Fatalf("mirror-only store: height %d (want %d), same digest as Follow's: %v, %v", h, h1, bytes.Equal(d, d1), err)
	}
	if ms := rec.MirrorOnly().Stats(); ms.Rows != ms.MirrorRows+1 || ms.MirrorRows != st.MirrorRows {
		t.Fatalf("mirror-only stats %+v, of %+v", ms, st)
	}

	// A recording without block 4: nothing written.
	short := NewRowRecording()
	for n, rs := range rec.blocks {
		if n != from {
			short.blocks[n] = rs
		}
	}
	db = upTo(from)
	_, before, err := db.Digest()
	if err != nil {
		t.Fatal(err)
	}
	err = db.StoreRecorded(t.Context(), sliceSource(blocks), uint64(len(blocks)), short)
	if err == nil || !strings.Contains(err.Error(), "block 4: not in the recording") {
		t.Fatalf("block missing from the recording: %v", err)
	}
	if _, after, _ := db.Digest(); !bytes.Equal(after, before) || db.Height() != from {
		t.Fatalf("a refused store wrote something: height %d (want %d), digest changed: %v", db.Height(), from, !bytes.Equal(after, before))
	}

	// A block that does not chain on the index's tip.
	forged := make([]*common.Block, len(blocks))
	copy(forged, blocks)
	h := blocks[from].Header
	hdr := &common.BlockHeader{Number: h.Number, PreviousHash: bytes.Repeat([]byte{7}, 32), DataHash: h.DataHash}
	forged[from] = &common.Block{Header: hdr, Data: blocks[from].Data, Metadata: blocks[from].Metadata}
	db = upTo(from)
	err = db.StoreRecorded(t.Context(), sliceSource(forged), uint64(len(blocks)), rec)
	if !errors.Is(err, ErrHashChain) || !strings.Contains(err.Error(), "store recorded block 4: previous hash") {
		t.Fatalf("a block off the chain: %v", err)
	}
	if db.Height() != from {
		t.Fatalf("height %d after a refused store, want %d", db.Height(), from)
	}
}
