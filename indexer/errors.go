package indexer

import "errors"

// Sentinel errors. Errors returned by this package wrap at most one of them
// (and lookups may instead wrap credit.ErrInvalid or credit.ErrNotFound);
// test with errors.Is. Ingest errors (ErrHashChain, ErrDataHash, ErrGap,
// ErrMalformed, ErrRecord, ErrChannel) stop ingest: nothing of the block was
// written, and applying the same block again fails the same way.
var (
	// ErrHashChain: a block's previous-hash does not equal the stored header
	// hash of the block before it, or a block delivered again does not hash
	// to the header hash stored for its number. The ledger being followed
	// is not the one the index was built from.
	ErrHashChain = errors.New("hash chain broken")
	// ErrDataHash: a block's data does not hash to its header's data hash.
	ErrDataHash = errors.New("block data does not match its data hash")
	// ErrGap: a block skips ahead of the next expected block number.
	ErrGap = errors.New("block out of sequence")
	// ErrMalformed: a block, or a valid transaction in it, does not parse.
	ErrMalformed = errors.New("malformed block")
	// ErrRecord: a value the chaincode wrote under a record key is not a
	// record as DESIGN §8 describes it.
	ErrRecord = errors.New("record does not decode")
	// ErrChannel: a transaction belongs to another channel than the one the
	// index follows.
	ErrChannel = errors.New("transaction of another channel")
	// ErrFormat: the directory holds an index of an unknown format version,
	// or data that is not an index, or an index of another namespace.
	ErrFormat = errors.New("unsupported index format")
	// ErrClosed: the DB was closed.
	ErrClosed = errors.New("index closed")
)
