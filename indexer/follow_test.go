package indexer

import (
	"errors"
	"testing"
	"time"
)

// TestFollowToStopsAtHeight: FollowTo brings the index to a height and
// stops there, even on a source that would go on (a live peer), and does
// not open the source when the index is already there.
func TestFollowToStopsAtHeight(t *testing.T) {
	w := newWorkload(t, 21, 20)
	for range 12 {
		w.block(8)
	}
	tests := []struct {
		name   string
		height uint64
		want   uint64
		opens  int
	}{
		{"to the middle", 7, 7, 1},
		{"to the end", uint64(len(w.blocks)), uint64(len(w.blocks)), 1},
		{"already there", 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openMem(t)
			src := &failingSource{blocks: w.blocks} // blocks in Recv after the last block until ctx ends
			if err := db.FollowTo(t.Context(), src, tc.height); err != nil {
				t.Fatal(err)
			}
			if db.Height() != tc.want || len(src.starts) != tc.opens {
				t.Fatalf("height %d after %d opens, want %d after %d", db.Height(), len(src.starts), tc.want, tc.opens)
			}
		})
	}
}

// TestOnApplyReportsEachWrittenBlock: the hook sees every block written,
// in order, and not a block skipped as already applied or one that failed.
func TestOnApplyReportsEachWrittenBlock(t *testing.T) {
	w := newWorkload(t, 22, 20)
	for range 6 {
		w.block(8)
	}
	var got []uint64
	var took time.Duration
	db, err := Open(t.TempDir(), Options{OnApply: func(r ApplyResult, d time.Duration) {
		got = append(got, r.Block)
		took += d
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Follow(t.Context(), sliceSource(w.blocks[:5])); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Apply(w.blocks[2]); err != nil { // skipped
		t.Fatal(err)
	}
	if _, err := db.Apply(w.blocks[6]); !errors.Is(err, ErrGap) { // fails
		t.Fatalf("block 6 before 5: %v", err)
	}
	if _, err := db.Apply(w.blocks[5]); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || got[0] != 0 || got[5] != 5 || took <= 0 {
		t.Fatalf("OnApply saw blocks %v in %v", got, took)
	}
}
