// Package cli is creditctl, the operator's command line, and the project's
// composition root: it is the only package that wires the chaincode domain,
// the Fabric client, the indexer and the network together, and nothing
// imports it.
//
// # Commands
//
// Commands are "creditctl <noun> <verb>", one file per noun, added to the
// root by an init function appending to commandAdders. Every command
// follows the same shape, borrowed from the GitHub CLI:
//
//   - an Options struct holds the parsed flags and the command's
//     dependencies; ledger commands embed Base (streams, a func that
//     connects to the ledger, the clock, the caller's county, the person
//     key, output format and language), built by Factory.base;
//   - NewCmdX(f, runF) builds the cobra command; RunE fills Options,
//     calls f.resolveBase (the settings are known only after parsing) and
//     then runF (tests pass their own runF to check parsing alone) or runX;
//   - runX(opts) does the work and is tested with buffered IO (Test) and a
//     fake Ledger. It validates everything first (the credit request's
//     Validate, which runs the chaincode's own context-free checks, plus
//     the local clock checks such as a decision date after today), and
//     only then calls opts.Ledger: bad input never reaches the network.
//
// Every command has Examples in its help. Usage mistakes return a
// *UsageError (exit 64); bad input is a *credit.FieldError naming the field
// (and the flag that sets it) and the rule (exit 2).
//
// # Settings
//
// Factory.Settings resolves, once, with precedence flag > CREDITCTL_*
// environment > config file > default: profile (network.json; default
// .run/net/network.json found by walking up from the working directory),
// county (default the profile's first), user (officer1) or msp (an
// explicit MSP folder), peer (the county's first), output (table, plain,
// json; default table on a terminal, plain otherwise), lang (en, zh) and
// person-key-file. The config file is YAML with the flag names as keys:
// --config, CREDITCTL_CONFIG, or $XDG_CONFIG_HOME/creditctl/config.yaml.
// Factory.Profile loads the profile, Factory.Caller resolves county, peer
// and MSP folder, Factory.Ledger connects (*client.Client satisfies
// Ledger), Factory.Now is the clock (Factory.Clock in tests).
//
// # Output
//
// Data goes to stdout through a Printer, progress and diagnostics to
// stderr. Formats: table (aligned by display width, so Chinese lines up),
// plain (tab-separated, no header), json (the record JSON exactly as the
// chaincode returns it; a write prints the envelope TxEnvelope
// {"txId","block","record"}). With --lang zh, headings and enumeration
// values come from labels.go. docs/OPERATOR.md documents the schema;
// golden files in testdata/json hold it still.
//
// # Errors and exit codes
//
// ExitCode maps an error to the table in exitcode.go (DESIGN §6) through
// classifiers: the credit sentinels (errors.Is across the network, thanks
// to client), client.ErrCommitUnknown (75), network and identity errors.
// reportError prints the error and, for a transaction of unknown fate, its
// ID and the command that resolves it ("creditctl tx status <txid>").
package cli
