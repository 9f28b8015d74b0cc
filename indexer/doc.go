// Package indexer mirrors the credit chaincode's world state into a Pebble
// store and answers lookups on it in well under a millisecond: a subject's
// records, a record's history, per-county lists, and the county credit
// indicators of seed 002 (Linyi) with the targets of seed 004 (Shaanxi).
//
// # Ingest
//
// The indexer follows one channel's blocks, in order from block 0, through
// a BlockSource (implemented by package client over fabric-gateway; the
// indexer never imports a Fabric client). DB.Follow opens the source at the
// checkpoint and calls DB.Apply for each block; Apply may also be called
// directly.
//
// Apply parses the block (ParseBlock): it checks the block's data hash and
// its previous hash against the stored header hash of the block before it
// (Fabric's BlockHeaderHash: SHA-256 over the ASN.1 DER of number,
// previous hash and data hash), so that a block from another ledger stops
// ingest with ErrHashChain. Only transactions the committing peer marked
// VALID in the block's TRANSACTIONS_FILTER metadata are read; invalid ones
// (an MVCC read conflict, an endorsement failure, a payload that does not
// parse) are counted and never indexed. Config transactions are counted and
// skipped. From each valid endorser transaction the writes of the mirrored
// namespace (the chaincode name, "credit" by default) are taken from every
// action and read-write set in which they appear, including writes made
// through another chaincode; writes of other namespaces, including the
// system namespaces _lifecycle, lscc, cscc and qscc (chaincode definitions
// and upgrades), are skipped. A write with an empty value is a delete, as
// in Fabric.
//
// Everything one block changes is written in one Pebble batch committed
// with Sync: the state mirror (each world-state key and value, verbatim;
// deletes delete), history rows (each write of each record: block,
// transaction, time and value), the secondary indexes (by subject, by
// county and state, by due date), the facts kept per record, the indicator
// counters, the block's header hash, the running counts and the checkpoint
// (block number, header hash, last transaction ID). A crash at any point
// therefore leaves either the whole block or none of it, and the checkpoint
// always names the last block whose effects are present. A block at or
// below the checkpoint is checked against its stored hash and ignored, so
// a source that redelivers blocks after a restart changes nothing; a block
// beyond the next expected one is refused with ErrGap. On any error Apply
// writes nothing, and the same block fails the same way again: ingest
// stops loudly rather than index something wrong.
//
// # Records and facts
//
// A value written under a record key (commitment, punishment, dishonesty,
// enforcement, repair, objection; DESIGN §7) is decoded with the
// chaincode's own types (package credit); one that does not decode stops
// ingest with ErrRecord. For each record the indexer keeps its facts:
// owner county, subject, class (commitment or punishment kind), stored
// state, severity, deadline, end of publicity, and the UTC+8 dates of the
// transactions that created it and closed it (moved it out of its open
// state). Index rows and indicator contributions are functions of the facts
// alone; a write replaces the old facts by the new ones, deleting the old
// rows and subtracting the old contributions before adding the new. Nothing
// at ingest scans: each write costs a bounded number of reads and writes.
//
// # Lookups
//
// SubjectProfile, Record, RecordHistory, BlackList, WatchList,
// OverdueCommitments, PublicityEnding, RepairsAwaitingDecision and
// Indicators each read one consistent snapshot. Derived states (overdue,
// expired) are computed against the caller's as-of date with the
// chaincode's own rule. ScanMirror and MirrorGet expose the mirror in key
// order, for reconciliation against the peer's world state; Stats gives the
// counters for a status display.
//
// # County indicators
//
// Counters are kept per county and per UTC+8 calendar month, and for all
// counties together (county "*"). Flows count events in their month;
// gauges store changes and are summed over the months up to the one asked
// for. Expiry and overdue are time-derived, with no transaction to mark
// them: a punishment's exit by expiry is counted in the month of its maxEnd
// (the day it reads expired) from the moment it is imposed, and taken back
// if it leaves the list earlier by repair or revocation; a commitment
// becomes overdue in the month of the day after its deadline, taken back if
// it is fulfilled or breached before. The figures for a month that is not
// over therefore show what the ledger has scheduled, which later blocks may
// change. docs/INDEXER.md defines every indicator.
//
// # Storage
//
// Keys are built by package keys, whose doc comment holds the schema
// table; the format version is checked at Open, and an index of another
// version is refused with ErrFormat (the remedy is a rebuild from block 0).
package indexer
