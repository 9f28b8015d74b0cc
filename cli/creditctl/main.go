// Command creditctl is the operator's command line for the county credit
// ledger. See the README's operator guide and `creditctl --help`.
package main

import (
	"os"

	"github.com/countycredit/creditledger/cli"
)

func main() {
	os.Exit(cli.Main(&cli.Factory{IO: cli.System()}, os.Args[1:]))
}
