//go:build tools

// Package deps pins, through blank imports under the "tools" build tag, the
// third-party modules the project has chosen, so that `go mod tidy` keeps
// them at the versions in go.mod before every package uses them. It is never
// compiled into a binary.
package deps

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/cockroachdb/datadriven"
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/emmansun/gmsm/sm2"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	_ "github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	_ "github.com/hyperledger/fabric-chaincode-go/v2/shim"
	_ "github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	_ "github.com/hyperledger/fabric-gateway/pkg/client"
	_ "github.com/hyperledger/fabric-protos-go-apiv2/common"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/skip2/go-qrcode"
	_ "github.com/spf13/cobra"
	_ "gopkg.in/yaml.v3"
)
