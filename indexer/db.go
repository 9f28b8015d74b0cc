package indexer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// DefaultNamespace is the chaincode namespace mirrored by default (DESIGN
// §5: chaincode name credit).
const DefaultNamespace = "credit"

// Options configure Open. The zero value is usable.
type Options struct {
	// Namespace is the chaincode namespace to mirror; "" means
	// DefaultNamespace. It is stored in a new index, and an index built for
	// another namespace is refused. It may not be a system namespace.
	Namespace string
	// Channel, if set, is the channel the index follows: a transaction
	// header naming another channel stops ingest with ErrChannel.
	Channel string
	// FS is the filesystem holding the index; nil means the operating
	// system's.
	FS vfs.FS
	// Logger receives Pebble's log. Nil discards informational messages and
	// writes errors to standard error. Pebble calls Fatalf when a write to
	// its log fails (the commit pipeline cannot continue); the default
	// exits the process, which is safe: every block is one atomic batch.
	// Should a Logger's Fatalf return, Open's wrapper panics, so that a
	// failed commit never looks like a successful one.
	Logger pebble.Logger
	// OnApply, if set, is called after each block Apply wrote (not for a
	// block skipped as already applied, nor one that failed), once the
	// batch is committed, with what was applied and how long Apply took
	// (parsing, building the batch and the synced commit). It runs on the
	// goroutine that called Apply or Follow and delays the next block, so
	// it must be quick: metrics and progress displays.
	OnApply func(res ApplyResult, took time.Duration)
}

// Checkpoint says how far ingest has come.
type Checkpoint struct {
	// Block is the number of the last applied block.
	Block uint64
	// Hash is its header hash (BlockHeaderHash).
	Hash []byte
	// TxID is the ID of its last transaction ("" for a block whose last
	// transaction has none).
	TxID string
}

// Stats are the ingest counters, for status displays and metrics. All
// counts run over every applied block since block 0.
type Stats struct {
	Namespace string
	// Height is the number of blocks applied, which is also the number of
	// the next block Apply expects.
	Height uint64
	// Checkpoint is the last applied block; valid when Height > 0.
	Checkpoint Checkpoint
	// Txs counts every transaction; Valid those the peer marked valid;
	// Invalid the others (never indexed); Config the valid config
	// transactions; CreditTxs the valid transactions with at least one
	// write in the namespace.
	Txs, Valid, Invalid, Config, CreditTxs uint64
	// Writes counts the namespace writes applied, Deletes those that were
	// deletes.
	Writes, Deletes uint64
	// AppliedAt is the wall-clock time of the last Apply that wrote a block
	// in this process (zero if none).
	AppliedAt time.Time
}

// DB is an open index. Apply and Follow may not be called concurrently with
// each other; lookups may be called concurrently with anything, and each
// sees the index as of one applied block.
type DB struct {
	pdb     *pebble.DB
	ns      string
	channel string
	onApply func(ApplyResult, time.Duration)

	applyMu sync.Mutex // serialises building blocks (Apply, Follow)
	tip     chainTip   // the last block built; guarded by applyMu
	rows    rowCache   // rows as of tip; guarded by applyMu
	// recording, if set, keeps the rows of every block built (RecordRows);
	// guarded by applyMu.
	recording *RowRecording

	// pending are the blocks built and not yet committed, oldest first
	// (Follow commits one while it builds the next).
	pendMu   sync.Mutex
	pendCond *sync.Cond
	pending  []*builtBlock

	mu        sync.RWMutex
	closed    bool
	height    uint64
	cp        Checkpoint
	counts    counts
	appliedAt time.Time
	broken    error // a failed log sync: no more blocks
}

// Open opens the index in dir, creating it if the directory is empty or
// does not exist. It refuses (ErrFormat) a directory holding an index of
// another format version or another namespace, or a Pebble store that is
// not an index.
func Open(dir string, opts Options) (*DB, error) {
	ns := opts.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	if isSystemNamespace(ns) {
		return nil, fmt.Errorf("open index %s: namespace %q is a system namespace: %w", dir, ns, credit.ErrInvalid)
	}
	po := &pebble.Options{FS: opts.FS, Logger: opts.Logger,
		// Sized for an index of millions of records on a small machine:
		// larger memtables and block cache than Pebble's defaults (4 MB
		// and 8 MB) mean fewer flushes and compactions during ingest and
		// fewer reads from disk for the facts and counters each block
		// reads. Not larger: every row a block writes is inserted into
		// the memtable's skiplist, and every row it reads is looked up
		// there first, which costs more the larger it is; replaying
		// 100,000 transactions took about 3.8 s with 64 MB memtables and
		// 2.5-2.9 s with 16 MB ones (the flushes run beside ingest).
		// Memory: at most 4 memtables (64 MB) plus the cache.
		MemTableSize:                16 << 20,
		MemTableStopWritesThreshold: 4,
		CacheSize:                   64 << 20,
		LBaseMaxBytes:               256 << 20,
	}
	// Bloom filters spare the reads of rows that do not exist yet (a new
	// record's facts, a subject first seen) a visit to every level.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	if po.FS == nil {
		po.FS = vfs.Default
	}
	if po.Logger == nil {
		po.Logger = quietLogger{os.Stderr}
	}
	po.Logger = fatalGuard{po.Logger}
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	db := &DB{pdb: pdb, ns: ns, channel: opts.Channel, onApply: opts.OnApply, rows: rowCache{}}
	db.pendCond = sync.NewCond(&db.pendMu)
	if err := db.load(); err != nil {
		pdb.Close()
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	return db, nil
}

func (db *DB) load() error {
	format, err := db.get(keys.Meta{Name: keys.MetaFormat}.Encode(nil))
	if err != nil {
		return err
	}
	if format == nil {
		empty, err := db.isEmpty()
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("store has data but no format version: not an index: %w", ErrFormat)
		}
		b := db.pdb.NewBatch()
		defer b.Close()
		_ = b.Set(keys.Meta{Name: keys.MetaFormat}.Encode(nil), encodeFormat(keys.FormatVersion), nil)
		_ = b.Set(keys.Meta{Name: keys.MetaNamespace}.Encode(nil), []byte(db.ns), nil)
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("initialise index: %w", err)
		}
		return nil
	}
	if len(format) != 4 || decodeFormat(format) != keys.FormatVersion {
		return fmt.Errorf("index format version %s, this build reads %d; rebuild the index from block 0: %w",
			formatString(format), keys.FormatVersion, ErrFormat)
	}
	ns, err := db.get(keys.Meta{Name: keys.MetaNamespace}.Encode(nil))
	if err != nil {
		return err
	}
	if string(ns) != db.ns {
		return fmt.Errorf("index mirrors namespace %q, opened for %q: %w", ns, db.ns, ErrFormat)
	}
	if v, err := db.get(keys.Meta{Name: keys.MetaCheckpoint}.Encode(nil)); err != nil {
		return err
	} else if v != nil {
		if db.cp, err = decodeCheckpoint(v); err != nil {
			return err
		}
		db.height = db.cp.Block + 1
	}
	defer func() { db.tip = chainTip{height: db.height, cp: db.cp, counts: db.counts} }()
	if v, err := db.get(keys.Meta{Name: keys.MetaStats}.Encode(nil)); err != nil {
		return err
	} else if v != nil {
		if db.counts, err = decodeCounts(v); err != nil {
			return err
		}
	}
	return nil
}

func encodeFormat(v uint32) []byte {
	return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

func decodeFormat(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func formatString(b []byte) string {
	if len(b) == 4 {
		return fmt.Sprint(decodeFormat(b))
	}
	return fmt.Sprintf("%x", b)
}

func (db *DB) isEmpty() (bool, error) {
	it, err := db.pdb.NewIter(nil)
	if err != nil {
		return false, err
	}
	empty := !it.First()
	return empty, errors.Join(it.Error(), it.Close())
}

// get returns a copy of the value of key, or nil if it is absent.
func (db *DB) get(key []byte) ([]byte, error) {
	return getFrom(db.pdb, key)
}

type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func getFrom(r getter, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", keys.Format(key), err)
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out, closer.Close()
}

// Close closes the index. Lookups and Apply after Close return ErrClosed.
func (db *DB) Close() error {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	db.waitCommitted()
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	db.mu.Unlock()
	if err := db.pdb.Close(); err != nil {
		return fmt.Errorf("close index: %w", err)
	}
	return nil
}

// Ping returns ErrClosed once the index is closed, else nil: a health
// check.
func (db *DB) Ping() error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	return nil
}

// Namespace returns the mirrored chaincode namespace.
func (db *DB) Namespace() string { return db.ns }

// Checkpoint returns the last applied block. ok is false when no block has
// been applied; the next block to apply is then block 0.
func (db *DB) Checkpoint() (cp Checkpoint, ok bool) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.cp, db.height > 0
}

// Height returns the number of blocks applied: the number of the next block
// Apply expects.
func (db *DB) Height() uint64 {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.height
}

// Stats returns the ingest counters.
func (db *DB) Stats() Stats {
	db.mu.RLock()
	defer db.mu.RUnlock()
	c := db.counts
	return Stats{
		Namespace: db.ns, Height: db.height, Checkpoint: db.cp,
		Txs: c.Txs, Valid: c.Valid, Invalid: c.Invalid, Config: c.Config, CreditTxs: c.CreditTxs,
		Writes: c.Writes, Deletes: c.Deletes, AppliedAt: db.appliedAt,
	}
}

// view runs fn on a consistent snapshot of the index, as of one applied
// block. Close waits for running views.
func (db *DB) view(fn func(s *pebble.Snapshot) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	s := db.pdb.NewSnapshot()
	return errors.Join(fn(s), s.Close())
}

// quietLogger is the default Pebble logger: errors to w, no chatter.
type quietLogger struct{ w io.Writer }

func (quietLogger) Infof(string, ...any) {}

func (l quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(l.w, "indexer: pebble: "+format+"\n", args...)
}

func (quietLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "indexer: pebble: fatal: "+format+"\n", args...)
	os.Exit(1)
}

// fatalGuard makes sure Fatalf never returns: Pebble carries on after
// calling it, as if the commit had succeeded.
type fatalGuard struct{ pebble.Logger }

func (g fatalGuard) Fatalf(format string, args ...any) {
	g.Logger.Fatalf(format, args...)
	panic(fmt.Sprintf("indexer: pebble: fatal: "+format, args...))
}
