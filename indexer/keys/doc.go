// Package keys defines the indexer's on-disk key schema: the one-byte table
// prefixes, the typed key parts, and the keys built from them.
//
// Every key part has a named type with three methods: Encode appends its
// encoding to a byte slice, Decode reads it back from the front of a byte
// slice and returns the rest, and String formats it for people. Every key
// is a struct of parts with the same three methods; Format prints any key by
// dispatching on its prefix. Decode never panics: bytes that are not a valid
// encoding give an error wrapping ErrCorrupt.
//
// # Format version
//
// The prefixes, the part encodings, the due kinds and the indicator codes
// are frozen. Changing any of them, or the encoding of any value, needs a new
// FormatVersion. The indexer stores the version under /meta/format when it
// creates an index and refuses to open an index with another version; the
// remedy is to rebuild the index from block 0.
//
// # Part encodings
//
//	part                                      encoding                       order
//	Kind ID Subject County Class State        bytes, 0x00 → 0x00 0xFF,        bytewise
//	MetaName                                  then terminator 0x00 0x01
//	BlockNum                                  8 bytes big-endian             numeric
//	TxNum Date (yyyymmdd) Month (yyyymm)      4 bytes big-endian             numeric
//	DueKind Indicator                         1 byte                         numeric
//
// The escaped string encoding preserves order and is self-delimiting, so a
// string part may be followed by further parts and a scan over a prefix
// ending in a complete part never strays into a longer value.
//
// # Schema
//
//	prefix  table       key parts after the prefix                 value
//	0x01    meta        MetaName                                   per row, see below
//	0x02    block       BlockNum                                   header hash (32 bytes), then counts
//	0x03    mirror      world-state key, verbatim, to the end       world-state value, verbatim
//	0x04    history     Kind, ID, BlockNum, TxNum                  tx ID, tx time, delete flag, value
//	0x05    by-subject  Subject, Kind, ID                          owning county code
//	0x06    by-county   County, Kind, Class, State, ID             subject
//	0x07    due         County, DueKind, Date, ID                  subject
//	0x08    counter     County, Month, Indicator                   int64, 8 bytes big-endian
//	0x09    facts       Kind, ID                                   the record's facts (indexer encoding)
//	0x0A    seen        County, Subject                            months first seen / first committed
//
// Meta rows: /meta/format holds FormatVersion (4 bytes big-endian);
// /meta/namespace the mirrored chaincode namespace; /meta/checkpoint the
// last applied block (number, header hash, last transaction ID); /meta/stats
// the running ingest counters.
//
// The mirror holds every key the credit chaincode wrote in its namespace
// (DESIGN §7), so a scan of the mirror table is a scan of the chaincode's
// world state in key order. History rows exist for every one-attribute
// composite key (records, counties, rule sets, calendars); by-subject,
// by-county, due, facts and seen rows for records (commitment, punishment,
// dishonesty, enforcement, repair, objection). The due table holds open
// commitments by deadline (DueDeadline) and active punishments by the end of
// their publicity (DuePublicityEnd). Counter rows of county AllCounties ("*")
// aggregate all counties.
package keys
