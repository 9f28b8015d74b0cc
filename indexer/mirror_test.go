package indexer

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/countycredit/creditledger/indexer/keys"
)

// TestMirrorEqualsWorldState is reconcile in miniature: after a workload,
// the mirror scanned in key order holds exactly the simulated peer's world
// state of the credit namespace, key for key and byte for byte.
func TestMirrorEqualsWorldState(t *testing.T) {
	w := newWorkload(t, 5, 60)
	for range 40 {
		w.block(15)
	}
	db, _ := openMem(t)
	if err := db.Follow(t.Context(), sliceSource(w.blocks)); err != nil {
		t.Fatal(err)
	}
	seen := 0
	var last []byte
	err := db.ScanMirror(nil, nil, func(k, v []byte) error {
		if last != nil && bytes.Compare(last, k) >= 0 {
			return fmt.Errorf("keys out of order: %q then %q", last, k)
		}
		last = bytes.Clone(k)
		want, ok := w.sim.world[string(k)]
		if !ok {
			return fmt.Errorf("mirror has %s, the world state does not", keys.FormatStateKey(k))
		}
		if !bytes.Equal(v, want) {
			return fmt.Errorf("mirror value of %s differs from the world state", keys.FormatStateKey(k))
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(w.sim.world) {
		t.Fatalf("mirror holds %d keys, the world state %d", seen, len(w.sim.world))
	}
	t.Logf("%d keys equal", seen)
}

func TestScanMirrorRangeAndGet(t *testing.T) {
	db, _ := openMem(t)
	for _, b := range fixtureBlocks(t) {
		if _, err := db.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	// One object type, as reconcile pages through ListState.
	start := keys.CompositeKey("commitment")
	end := keys.PrefixEnd(start)
	var got []string
	if err := db.ScanMirror(start, end, func(k, _ []byte) error {
		got = append(got, keys.FormatStateKey(k))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := "[commitment{C-1} commitment{R-1.commitment}]"; fmt.Sprint(got) != want {
		t.Errorf("commitments in the mirror: %v, want %s", got, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := db.ScanMirror(nil, nil, func([]byte, []byte) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("ScanMirror with a failing callback: %v after %d keys", err, n)
	}
	v, ok, err := db.MirrorGet(keys.CompositeKey("countymsp", "County330783MSP"))
	if err != nil || !ok || string(v) != "330783" {
		t.Errorf("MirrorGet(countymsp) = %q, %v, %v", v, ok, err)
	}
	if _, ok, err := db.MirrorGet(keys.CompositeKey("commitment", "C-2")); err != nil || ok {
		t.Errorf("MirrorGet of the deleted C-2 = %v, %v; want absent", ok, err)
	}
	cp, ok := db.Checkpoint()
	if !ok || cp.Block != 5 || cp.TxID != "apply-R-1" || len(cp.Hash) != 32 {
		t.Errorf("Checkpoint = %+v, %v", cp, ok)
	}
}
