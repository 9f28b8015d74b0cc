// Command creditcc is the credit chaincode server. Run as chaincode-as-a-
// service: with CHAINCODE_SERVER_ADDRESS (listen address) and
// CORE_CHAINCODE_ID_NAME (the package ID) set it listens for the peers;
// without them it dials a peer the classic way (CORE_PEER_ADDRESS).
//
// TLS for the server follows contract-api: CORE_PEER_TLS_ENABLED=true with
// CORE_TLS_CLIENT_KEY_FILE, CORE_TLS_CLIENT_CERT_FILE and, for client
// authentication, CORE_PEER_TLS_ROOTCERT_FILE. Start it with a clean
// environment: a shell carrying the peer CLI's CORE_PEER_TLS_ENABLED=true but
// no key files makes it fail at start.
package main

import (
	"fmt"
	"os"

	"github.com/countycredit/creditledger/chaincode"
)

func main() {
	if os.Getenv("CHAINCODE_SERVER_ADDRESS") != "" && os.Getenv("CORE_PEER_TLS_ENABLED") == "true" &&
		os.Getenv("CORE_TLS_CLIENT_KEY_FILE") == "" {
		fmt.Fprintln(os.Stderr, "creditcc: CORE_PEER_TLS_ENABLED=true but CORE_TLS_CLIENT_KEY_FILE is empty; "+
			"unset CORE_PEER_TLS_ENABLED for a plain-text server or give the TLS key and certificate files")
		os.Exit(2)
	}
	cc, err := chaincode.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "creditcc:", err)
		os.Exit(1)
	}
	if err := cc.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "creditcc:", err)
		os.Exit(1)
	}
}
