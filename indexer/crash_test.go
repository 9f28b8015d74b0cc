package indexer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
)

// crashBlocks returns a workload chain: genesis, county registrations, and
// four blocks of credit transactions, one of them (150 transactions) large
// enough that its batch spans many 32 KiB WAL blocks.
func crashBlocks(t *testing.T) []*common.Block {
	t.Helper()
	w := newWorkload(t, 7, 60)
	for _, n := range []int{5, 8, 150, 6} {
		w.block(n)
	}
	return w.blocks
}

// dumpFS opens the index on fs and returns every key and value, and the
// height.
func dumpFS(t *testing.T, fs vfs.FS) (string, uint64) {
	t.Helper()
	db, err := Open("idx", Options{FS: fs})
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer db.Close()
	var sb strings.Builder
	err = db.view(func(s *pebble.Snapshot) error {
		return scan(s, nil, nil, func(k, v []byte) error {
			fmt.Fprintf(&sb, "%x=%x\n", k, v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String(), db.Height()
}

// references applies blocks one by one and returns the full dump after
// each prefix: refs[k] is the index after blocks[0:k].
func references(t *testing.T, blocks []*common.Block) []string {
	t.Helper()
	fs := vfs.NewMem()
	refs := make([]string, 0, len(blocks)+1)
	for k := 0; k <= len(blocks); k++ {
		if k > 0 {
			db, err := Open("idx", Options{FS: fs})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Apply(blocks[k-1]); err != nil {
				t.Fatalf("reference apply %d: %v", k-1, err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
		d, _ := dumpFS(t, fs)
		refs = append(refs, d)
	}
	return refs
}

// sliceSource is a BlockSource over blocks in memory.
type sliceSource []*common.Block

func (s sliceSource) OpenBlocks(_ context.Context, start uint64) (BlockStream, error) {
	return &sliceStream{blocks: s, next: start}, nil
}

type sliceStream struct {
	blocks []*common.Block
	next   uint64
}

func (s *sliceStream) Recv() (*common.Block, error) {
	if s.next >= uint64(len(s.blocks)) {
		return nil, io.EOF
	}
	b := s.blocks[s.next]
	s.next++
	return b, nil
}

func (s *sliceStream) Close() error { return nil }

// checkRecovered opens a crashed filesystem and checks that it holds the
// index after exactly k or k+1 blocks, then that ingest resumes from its
// checkpoint to the same final index as a run without crash.
func checkRecovered(t *testing.T, what string, fs vfs.FS, refs []string, blocks []*common.Block, k int) (applied bool) {
	t.Helper()
	got, height := dumpFS(t, fs)
	switch {
	case height == uint64(k) && got == refs[k]:
	case height == uint64(k+1) && got == refs[k+1]:
		applied = true
	default:
		t.Fatalf("%s: after a crash while applying block %d the index has height %d and matches neither the index before the block nor after it", what, k, height)
	}
	db, err := Open("idx", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Follow(context.Background(), sliceSource(blocks)); err != nil {
		t.Fatalf("%s: resume: %v", what, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if final, _ := dumpFS(t, fs); final != refs[len(blocks)] {
		t.Fatalf("%s: after resuming, the index differs from one built without a crash", what)
	}
	return applied
}

// TestCrashLeavesWholeBlockOrNone kills the indexer, in effect, between
// every two filesystem operations it makes while applying each block: at
// each operation it takes a crash clone of the in-memory filesystem (what a
// disk holds after power loss at that moment: all synced data, and none,
// half or all of the unsynced data). Opening each clone must show the index
// exactly as it was before the block or exactly as after it, never a part,
// and following the blocks from the checkpoint must end in the same index
// as a run without crashes. A clone taken after Apply returned must hold
// the block: the commit was synced.
func TestCrashLeavesWholeBlockOrNone(t *testing.T) {
	blocks := crashBlocks(t)
	refs := references(t, blocks)
	rng := rand.New(rand.NewPCG(1, 2))
	clones, whole := 0, 0
	for k := range blocks {
		mem := vfs.NewCrashableMem()
		var mu sync.Mutex
		armed := false
		type clone struct {
			fs  *vfs.MemFS
			cfg string
		}
		var taken []clone
		take := func() {
			for _, pct := range []int{0, 50, 100} {
				cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: pct}
				if pct > 0 { // CrashClone draws for every unsynced block, even at 100 %
					cfg.RNG = rand.New(rand.NewPCG(rng.Uint64(), 0))
				}
				taken = append(taken, clone{mem.CrashClone(cfg), fmt.Sprintf("%d%% of unsynced data", pct)})
			}
		}
		fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(errorfs.Op) error {
			mu.Lock()
			defer mu.Unlock()
			if armed {
				take()
			}
			return nil
		}))
		db, err := Open("idx", Options{FS: fs, Logger: dyingLogger{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks[:k] {
			if _, err := db.Apply(b); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		armed = true
		mu.Unlock()
		_, applyErr := db.Apply(blocks[k])
		mu.Lock()
		armed = false
		durable := mem.CrashClone(vfs.CrashCloneCfg{})
		mu.Unlock()
		if applyErr != nil {
			t.Fatalf("apply %d: %v", k, applyErr)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if got, h := dumpFS(t, durable); h != uint64(k+1) || got != refs[k+1] {
			t.Fatalf("block %d: Apply returned but a crash right after loses it (height %d)", k, h)
		}
		if len(taken) == 0 {
			t.Fatalf("block %d: no filesystem operation while applying", k)
		}
		for i, c := range taken {
			if checkRecovered(t, fmt.Sprintf("block %d, crash point %d (%s)", k, i/3, c.cfg), c.fs, refs, blocks, k) {
				whole++
			}
		}
		clones += len(taken)
	}
	t.Logf("%d blocks, %d crash clones recovered: %d with the whole block, %d with none of it", len(blocks), clones, whole, clones-whole)
}

// errFatal is what the test logger panics with when Pebble reports a fatal
// error: the process would die there.
var errFatal = errors.New("pebble fatal error (the process would exit)")

type dyingLogger struct{}

func (dyingLogger) Infof(string, ...any)  {}
func (dyingLogger) Errorf(string, ...any) {}
func (dyingLogger) Fatalf(format string, args ...any) {
	panic(fmt.Errorf("%w: "+format, append([]any{errFatal}, args...)...))
}

// isLogWrite reports whether op writes or syncs Pebble's write-ahead log,
// where a block's batch is made durable.
func isLogWrite(op errorfs.Op) bool {
	switch op.Kind {
	case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		return strings.HasSuffix(op.Path, ".log")
	}
	return false
}

// TestCrashOnWriteError makes the n-th write or sync of Pebble's
// write-ahead log fail while a block is applied, for every n until the
// block applies without reaching it. Pebble treats a failed log write as
// fatal (the process would exit; the test logger panics instead). The disk
// as it stands then (a crash clone) must hold the whole block or none of
// it. (A failure while rotating to a new log file, or creating one, makes
// Pebble panic with the commit mutex held, which a test process cannot
// survive; that is a process crash, and TestCrashLeavesWholeBlockOrNone
// covers crashes at every point.)
func TestCrashOnWriteError(t *testing.T) {
	blocks := crashBlocks(t)
	refs := references(t, blocks)
	// An 8-transaction block: the large one fills the memtable, and a WAL
	// rotation whose close fails makes Pebble panic with a mutex held.
	k := len(blocks) - 3
	failures := 0
	for n := int32(0); ; n++ {
		mem := vfs.NewCrashableMem()
		toggle := &errorfs.Toggle{Injector: errorfs.OnIndex(n)}
		fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op) error {
			if !isLogWrite(op) {
				return nil
			}
			return toggle.MaybeError(op)
		}))
		db, err := Open("idx", Options{FS: fs, Logger: dyingLogger{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks[:k] {
			if _, err := db.Apply(b); err != nil {
				t.Fatal(err)
			}
		}
		toggle.On()
		applyErr := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%v", r)
				}
			}()
			_, err = db.Apply(blocks[k])
			return err
		}()
		crashed := mem.CrashClone(vfs.CrashCloneCfg{})
		toggle.Off()
		if applyErr == nil {
			_ = db.Close()
			if failures == 0 {
				t.Fatal("no injected failure reached Apply")
			}
			t.Logf("%d failure points while applying a %d-transaction block", failures, len(blocks[k].Data.Data))
			return
		}
		failures++
		// The DB is not closed: after a fatal commit error the process
		// would be gone. Its background work may go on writing to mem;
		// the crash clone was taken before.
		checkRecovered(t, fmt.Sprintf("write %d fails (%v)", n, applyErr), crashed, refs, blocks, k)
		if n > 200 {
			t.Fatal("Apply still failing after 200 injected failure points")
		}
	}
}

// TestCrashDuringFollowLeavesAPrefix is the crash test of Follow, which
// writes each block's batch to the log while the blocks before it are
// still syncing: a crash clone taken at every filesystem operation while
// it ingests every block from an empty index must open to the index after
// some number of whole blocks (refs), at least every block Follow had
// already reported applied (OnApply) when the clone was taken, and resume
// to the index built without crashes.
func TestCrashDuringFollowLeavesAPrefix(t *testing.T) {
	blocks := crashBlocks(t)
	refs := references(t, blocks)
	rng := rand.New(rand.NewPCG(3, 4))
	mem := vfs.NewCrashableMem()
	var mu sync.Mutex
	var published uint64 // blocks OnApply reported
	type clone struct {
		fs        *vfs.MemFS
		cfg       string
		published uint64
	}
	var taken []clone
	armed := false
	fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(errorfs.Op) error {
		mu.Lock()
		defer mu.Unlock()
		if !armed {
			return nil
		}
		for _, pct := range []int{0, 100} {
			cfg := vfs.CrashCloneCfg{UnsyncedDataPercent: pct}
			if pct > 0 {
				cfg.RNG = rand.New(rand.NewPCG(rng.Uint64(), 0))
			}
			taken = append(taken, clone{mem.CrashClone(cfg), fmt.Sprintf("%d%% of unsynced data", pct), published})
		}
		return nil
	}))
	db, err := Open("idx", Options{FS: fs, Logger: dyingLogger{}, OnApply: func(r ApplyResult, _ time.Duration) {
		mu.Lock()
		published = r.Block + 1
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	armed = true
	mu.Unlock()
	if err := db.Follow(t.Context(), sliceSource(blocks)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	armed = false
	mu.Unlock()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	heights := map[uint64]int{}
	for i, c := range taken {
		got, h := dumpFS(t, c.fs)
		if h > uint64(len(blocks)) || got != refs[h] {
			t.Fatalf("crash point %d (%s): height %d and not the index after %d whole blocks", i/2, c.cfg, h, h)
		}
		if h < c.published {
			t.Fatalf("crash point %d (%s): block %d was reported applied, the crashed index has height %d", i/2, c.cfg, c.published-1, h)
		}
		heights[h]++
		k := min(int(h), len(blocks)-1)
		checkRecovered(t, fmt.Sprintf("crash point %d (%s)", i/2, c.cfg), c.fs, refs, blocks, k)
	}
	if len(heights) < 3 {
		t.Fatalf("crash clones recovered to heights %v only", heights)
	}
	t.Logf("%d crash clones during Follow; recovered heights (height: clones) %v", len(taken), heights)
}
