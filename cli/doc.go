// Package cli is creditctl, the operator's command line, and the project's
// composition root: it is the only package that wires the chaincode domain,
// the Fabric client, the indexer and the network together, and nothing
// imports it.
//
// Commands are "creditctl <noun> <verb>", one file per noun. Every command
// follows the same shape, borrowed from the GitHub CLI:
//
//   - an Options struct holds the parsed flags and the command's
//     dependencies (IO streams, a way to connect to the ledger);
//   - NewCmdX(f, runF) builds the cobra command; parsing fills Options and
//     then calls runF (tests pass their own runF to check parsing alone);
//   - runX(opts) does the work and is tested with buffered IO.
//
// Data goes to stdout, progress and diagnostics to stderr. Errors map to the
// exit codes of ExitCode.
package cli
