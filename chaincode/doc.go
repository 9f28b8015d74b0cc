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
// every record key and index key additionally carries a key-level policy
// requiring a peer of the owning county (defence in depth: MAJORITY guards
// creation, the key-level policy guards every later change, so a peer of
// another county cannot alter a county's records even with a modified client).
package chaincode
