//go:build tools

// Package tools pins the Hyperledger Fabric release whose command-line
// binaries the local network runs. It is a separate module so that Fabric's
// large dependency graph never enters the product's go.mod. Build the binaries
// with `make fabric` (network/build-fabric.sh).
package tools

import (
	_ "github.com/hyperledger/fabric/cmd/configtxgen"
	_ "github.com/hyperledger/fabric/cmd/configtxlator"
	_ "github.com/hyperledger/fabric/cmd/cryptogen"
	_ "github.com/hyperledger/fabric/cmd/discover"
	_ "github.com/hyperledger/fabric/cmd/orderer"
	_ "github.com/hyperledger/fabric/cmd/osnadmin"
	_ "github.com/hyperledger/fabric/cmd/peer"
)
