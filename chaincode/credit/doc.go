// Package credit is the domain of the county credit ledger: subjects,
// commitments, dishonesty records, punishments, cross-county enforcement,
// credit repair and objections, with their validation, state machines and
// the publicity and repair rules; the working-day calendars; the world-state
// key schema; and the sentinel errors. It imports the standard library only
// and does no I/O: each operation takes the current record(s), the request,
// the caller (Actor) and the transaction (Tx), and returns a Change — the
// state writes, index moves and the one event — for the Fabric binding in
// package chaincode to apply. That keeps every rule testable without Fabric.
//
// See docs/DESIGN.md for the shared contract and docs/RULES.md for the table
// of rules, their sources and their tests.
package credit
