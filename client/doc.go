// Package client is a thin, typed layer over the Fabric Gateway client
// (github.com/hyperledger/fabric-gateway v1.12.0) for the credit chaincode.
//
// # Why fabric-gateway
//
// The original design named fabric-sdk-go. Upstream deprecated it in January
// 2024 and archived it in April 2025; fabric-samples removed its
// applications, and the Fabric maintainers state that only the peer Gateway
// API works correctly with BFT ordering. Against Fabric 3.1.1 it needed a
// patched pseudo-version and a hand-listed orderer, failed intermittently
// dialling a second organisation, and cannot share a binary with
// fabric-protos-go-apiv2 without a protobuf-registry override. The Gateway
// client submitted, evaluated and streamed blocks from block 0 first time.
//
// # Layers
//
//   - Connect dials one peer's Gateway service over TLS with an identity
//     loaded from an MSP folder (LoadMSP). Close releases the connection.
//   - Submit and Evaluate call a chaincode function with one JSON argument
//     and decode its JSON result. Each stage has its own timeout (Timeouts).
//     Submit retries, with backoff, a transaction invalidated by an MVCC or
//     phantom-read conflict: the failed transaction is invalid on the
//     ledger, so the retry (a new transaction ID) cannot duplicate a record,
//     and record IDs are chosen by the caller so even a retry after an
//     ambiguous failure is refused as EXISTS rather than duplicated.
//   - Typed methods (MakeCommitment, ImposePunishment, …) wrap Submit and
//     Evaluate for every chaincode transaction and query.
//   - OpenBlocks streams the channel's blocks from a given block number for
//     the indexer; stream failures are returned by Recv, never swallowed.
//
// # Errors
//
// Every failure is a *TxError carrying the stage (evaluate, endorse,
// submit, commit-status, commit) and the transaction ID. Chaincode refusals
// carry a bracketed code ("[TOO_EARLY] …") that is mapped back to the
// chaincode/credit sentinel, so errors.Is(err, credit.ErrTooEarly) works
// across the network. A transaction whose fate is unknown (submitted, then
// the commit status could not be read) matches ErrCommitUnknown; resolve it
// with TransactionStatus before retrying.
package client
