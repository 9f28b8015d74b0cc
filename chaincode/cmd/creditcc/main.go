// Command creditcc is the credit chaincode server. Run as chaincode-as-a-
// service: with CHAINCODE_SERVER_ADDRESS (listen address) and
// CORE_CHAINCODE_ID_NAME (the package ID) set it listens for the peers;
// without them it dials a peer the classic way (CORE_PEER_ADDRESS).
//
// TLS for the server follows contract-api: CORE_PEER_TLS_ENABLED=true with
// CORE_TLS_CLIENT_KEY_FILE, CORE_TLS_CLIENT_CERT_FILE and, for client
// authentication, CORE_PEER_TLS_ROOTCERT_FILE. A shell carrying the peer
// CLI's CORE_PEER_TLS_ENABLED=true but no key files would make contract-api
// panic at start; creditcc refuses that with a clear message instead. Start
// it with a clean environment (env -u CORE_PEER_TLS_ENABLED …).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/countycredit/creditledger/chaincode"
)

func main() {
	if err := checkEnv(os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "creditcc:", err)
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

// checkEnv refuses a chaincode-server environment that asks for TLS without
// the key and certificate files (FABRIC_NATIVE §1.7 pitfall).
func checkEnv(getenv func(string) string) error {
	if getenv("CHAINCODE_SERVER_ADDRESS") == "" || getenv("CORE_PEER_TLS_ENABLED") != "true" {
		return nil
	}
	if getenv("CORE_TLS_CLIENT_KEY_FILE") == "" || getenv("CORE_TLS_CLIENT_CERT_FILE") == "" {
		return errors.New("CORE_PEER_TLS_ENABLED=true but CORE_TLS_CLIENT_KEY_FILE or CORE_TLS_CLIENT_CERT_FILE is empty; " +
			"unset CORE_PEER_TLS_ENABLED for a plain-text server or give the TLS key and certificate files")
	}
	return nil
}
