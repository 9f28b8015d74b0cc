// Package chaincode binds the credit domain (package credit) to Hyperledger
// Fabric with fabric-contract-api-go/v2.
//
// It owns what the domain must not know: the stub, the caller's X.509
// identity and its attributes, the county registry lookup, the composite
// keys, key-level endorsement and events. Every transaction takes one JSON
// object and returns a JSON document; see docs/DESIGN.md §5 for the list,
// §6 for error codes and §7 for the key schema.
//
// Endorsement: the chaincode-level policy is the channel default MAJORITY;
// every record key, county registry entry and certificate anchor
// additionally carries a key-level policy requiring a peer of the owning
// county; index keys carry none (DESIGN §7). Defence in depth: MAJORITY
// guards creation and the index keys, the key-level policy every later
// change of a record, so another county cannot alter a county's records
// even with a modified client or chaincode server (cli/chaos). The caller's
// county is checked against its registry entry, not the index alone.
package chaincode
