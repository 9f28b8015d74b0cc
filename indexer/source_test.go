package indexer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

func openMem(t *testing.T) (*DB, *vfs.MemFS) {
	t.Helper()
	fs := vfs.NewMem()
	db, err := Open("idx", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, fs
}

func fixtureBlocks(t testing.TB) []*common.Block {
	t.Helper()
	bs, err := ReadBlockDir("testdata/blocks/synthetic")
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// failingSource delivers its blocks, then fails with err (or blocks until
// ctx is done when err is nil). It records the start of each open.
type failingSource struct {
	blocks []*common.Block
	err    error
	starts []uint64
}

func (s *failingSource) OpenBlocks(ctx context.Context, start uint64) (BlockStream, error) {
	s.starts = append(s.starts, start)
	return &failingStream{ctx: ctx, src: s, next: start}, nil
}

type failingStream struct {
	ctx  context.Context
	src  *failingSource
	next uint64
}

func (s *failingStream) Recv() (*common.Block, error) {
	if s.next < uint64(len(s.src.blocks)) {
		b := s.src.blocks[s.next]
		s.next++
		return b, nil
	}
	if s.src.err != nil {
		return nil, s.src.err
	}
	<-s.ctx.Done()
	return nil, s.ctx.Err()
}

func (s *failingStream) Close() error { return nil }

var errConnLost = errors.New("connection to peer lost")

func TestFollow(t *testing.T) {
	blocks := fixtureBlocks(t)
	t.Run("a stream failure is returned, after the blocks before it", func(t *testing.T) {
		db, _ := openMem(t)
		src := &failingSource{blocks: blocks[:3], err: errConnLost}
		err := db.Follow(context.Background(), src)
		if !errors.Is(err, errConnLost) {
			t.Fatalf("Follow error = %v, want the stream's error", err)
		}
		if db.Height() != 3 {
			t.Errorf("height %d, want 3", db.Height())
		}
		if want := "follow: receive block 3: connection to peer lost"; err.Error() != want {
			t.Errorf("error text %q, want %q", err, want)
		}
	})
	t.Run("a restart resumes from the checkpoint", func(t *testing.T) {
		db, fs := openMem(t)
		src := &failingSource{blocks: blocks[:2], err: errConnLost}
		_ = db.Follow(context.Background(), src)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db2, err := Open("idx", Options{FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		src.blocks, src.err = blocks, errConnLost
		_ = db2.Follow(context.Background(), src)
		if got := src.starts; len(got) != 2 || got[0] != 0 || got[1] != 2 {
			t.Errorf("stream opened at %v, want [0 2]", got)
		}
		if db2.Height() != uint64(len(blocks)) {
			t.Errorf("height %d, want %d", db2.Height(), len(blocks))
		}
	})
	t.Run("cancelling the context stops it", func(t *testing.T) {
		db, _ := openMem(t)
		ctx, cancel := context.WithCancel(context.Background())
		src := &failingSource{blocks: blocks}
		done := make(chan error)
		go func() { done <- db.Follow(ctx, src) }()
		for db.Height() < uint64(len(blocks)) {
			time.Sleep(time.Millisecond) // until the stream waits after the last block
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Follow error = %v, want context.Canceled", err)
		}
	})
	t.Run("a source that repeats blocks changes nothing", func(t *testing.T) {
		db, _ := openMem(t)
		for range 2 {
			if err := db.Follow(context.Background(), repeatSource(blocks)); err != nil {
				t.Fatal(err)
			}
		}
		if s := db.Stats(); s.Height != uint64(len(blocks)) || s.Txs != 14 {
			t.Errorf("stats %+v, want height %d and 14 txs", s, len(blocks))
		}
	})
	t.Run("a source with a gap stops with ErrGap", func(t *testing.T) {
		db, _ := openMem(t)
		src := &failingSource{blocks: []*common.Block{blocks[0], blocks[2]}, err: errConnLost}
		if err := db.Follow(context.Background(), src); !errors.Is(err, ErrGap) {
			t.Fatalf("Follow error = %v, want ErrGap", err)
		}
	})
	t.Run("a stream returning neither block nor error", func(t *testing.T) {
		db, _ := openMem(t)
		if err := db.Follow(context.Background(), nilSource{}); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Follow error = %v, want ErrMalformed", err)
		}
	})
}

// repeatSource ignores start and delivers every block from 0.
type repeatSource []*common.Block

func (s repeatSource) OpenBlocks(context.Context, uint64) (BlockStream, error) {
	return &sliceStream{blocks: s}, nil
}

type nilSource struct{}

func (nilSource) OpenBlocks(context.Context, uint64) (BlockStream, error) { return nilSource{}, nil }
func (nilSource) Recv() (*common.Block, error)                            { return nil, nil }
func (nilSource) Close() error                                            { return nil }

func TestCapture(t *testing.T) {
	dir := t.TempDir()
	n, err := Capture(context.Background(), DirSource{Dir: "testdata/blocks/synthetic"}, dir, 1, 4)
	if err != nil || n != 3 {
		t.Fatalf("Capture = %d, %v; want 3 blocks", n, err)
	}
	for i := uint64(1); i < 4; i++ {
		want, err := os.ReadFile(filepath.Join("testdata/blocks/synthetic", BlockFileName(i)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, BlockFileName(i)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("captured block %d differs from its source", i)
		}
	}
	// A finite source ending early is not an error.
	if n, err := Capture(context.Background(), DirSource{Dir: "testdata/blocks/synthetic"}, t.TempDir(), 4, 100); err != nil || n != 2 {
		t.Errorf("Capture past the end = %d, %v; want 2 blocks", n, err)
	}
	// A failing stream is reported.
	src := &failingSource{err: errConnLost}
	if _, err := Capture(context.Background(), src, t.TempDir(), 0, 1); !errors.Is(err, errConnLost) {
		t.Errorf("Capture error = %v, want the stream's error", err)
	}
}

func TestDirSourceGap(t *testing.T) {
	dir := t.TempDir()
	for _, b := range fixtureBlocks(t) {
		if b.Header.Number != 2 {
			if err := WriteBlockFile(dir, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	db, _ := openMem(t)
	err := db.Follow(context.Background(), DirSource{Dir: dir})
	if err == nil || db.Height() != 2 {
		t.Fatalf("Follow over a directory missing block 2: height %d, error %v", db.Height(), err)
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(fs vfs.FS) error
		opts    Options
		wantErr error
	}{
		{"a system namespace", nil, Options{Namespace: "_lifecycle"}, credit.ErrInvalid},
		{"an index of another namespace", func(fs vfs.FS) error {
			db, err := Open("idx", Options{FS: fs, Namespace: "other"})
			if err != nil {
				return err
			}
			return db.Close()
		}, Options{}, ErrFormat},
		{"an unknown format version", func(fs vfs.FS) error {
			db, err := Open("idx", Options{FS: fs})
			if err != nil {
				return err
			}
			if err := db.Close(); err != nil {
				return err
			}
			return rawSet(fs, keys.Meta{Name: keys.MetaFormat}.Encode(nil), encodeFormat(keys.FormatVersion+1))
		}, Options{}, ErrFormat},
		{"a Pebble store that is not an index", func(fs vfs.FS) error {
			return rawSet(fs, []byte("some key"), []byte("value"))
		}, Options{}, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			if tc.prepare != nil {
				if err := tc.prepare(fs); err != nil {
					t.Fatal(err)
				}
			}
			tc.opts.FS = fs
			db, err := Open("idx", tc.opts)
			if !errors.Is(err, tc.wantErr) {
				if db != nil {
					db.Close()
				}
				t.Fatalf("Open error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func rawSet(fs vfs.FS, k, v []byte) error {
	pdb, err := pebble.Open("idx", &pebble.Options{FS: fs, Logger: quietLogger{os.Stderr}})
	if err != nil {
		return err
	}
	return errors.Join(pdb.Set(k, v, pebble.Sync), pdb.Close())
}

func TestClosed(t *testing.T) {
	db, _ := openMem(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Apply(fixtureBlocks(t)[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Close: %v, want ErrClosed", err)
	}
	if _, err := db.SubjectProfile(credit.CompleteCreditCode("91330782MA2EXAMPL"), credit.NewDate(2026, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("lookup after Close: %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestLookupsDuringIngest runs lookups while blocks are applied; with
// -race it checks the locking, and every profile read must be consistent
// with one block height.
func TestLookupsDuringIngest(t *testing.T) {
	w := newWorkload(t, 11, 40)
	for range 30 {
		w.block(10)
	}
	db, _ := openMem(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, subj := range w.subjects[:4] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p, err := db.SubjectProfile(subj, credit.NewDate(2025, 6, 1))
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range p.Records {
					if r.Head().Subject != subj {
						t.Errorf("profile of %s holds a record of %s", subj, r.Head().Subject)
					}
				}
				if _, err := db.Indicators("330782", keys.MakeMonth(2025, 1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for _, b := range w.blocks {
		if _, err := db.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if out, err := checkInvariants(db); err != nil {
		t.Fatal(err)
	} else {
		t.Log(out)
	}
}

// TestWorkloadInvariants applies a long random workload and checks, after
// every block, that the incrementally maintained index rows and counters
// equal those recomputed from the records' facts, and that the mirror's
// records and the facts correspond.
func TestWorkloadInvariants(t *testing.T) {
	w := newWorkload(t, 3, 80)
	db, _ := openMem(t)
	for _, b := range w.blocks {
		if _, err := db.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	blocks := slices.Clone(w.blocks)
	for i := range 60 {
		b := w.block(12)
		blocks = append(blocks, b)
		if _, err := db.Apply(b); err != nil {
			t.Fatal(err)
		}
		if _, err := checkInvariants(db); err != nil {
			t.Fatalf("after workload block %d: %v", i, err)
		}
	}
	out, _ := checkInvariants(db)
	s := db.Stats()
	t.Logf("%s; %d txs (%d invalid), %d writes", out, s.Txs, s.Invalid, s.Writes)
	// The chaincode's own operations, submitted through each caller's
	// county: the audit finds nothing.
	var findings []AuditFinding
	a, err := AuditCreations(t.Context(), sliceSource(blocks), "", uint64(len(blocks)), func(f AuditFinding) { findings = append(findings, f) })
	if err != nil {
		t.Fatal(err)
	}
	ia, err := db.AuditIndexes(func(f AuditFinding) { findings = append(findings, f) })
	if err != nil || len(findings) != 0 {
		t.Fatalf("audit of the workload: %v %v", err, findings)
	}
	if a.Creations < ia.Records || ia.Entries < 2*ia.Records || ia.Counties != 3 {
		t.Fatalf("audit checked too little: %d creations; %+v", a.Creations, ia)
	}
}
