package client

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hyperledger/fabric-gateway/pkg/identity"
)

// Signer is an identity that can sign: an X.509 certificate and its key.
type Signer struct {
	MSPID       string
	Certificate *x509.Certificate
	CertPEM     []byte
	Sign        identity.Sign
}

// LoadMSP reads a signing identity from an MSP folder laid out as Fabric's
// tools write it: the certificate is the single PEM file in signcerts/ and
// the key the single file in keystore/. The MSP ID is not stored in the
// folder, so the caller supplies it (from the network profile).
//
// Errors name the file that could not be used.
func LoadMSP(mspID, dir string) (*Signer, error) {
	if mspID == "" {
		return nil, errors.New("load msp: msp id is empty")
	}
	certPath, err := onlyFile(filepath.Join(dir, "signcerts"))
	if err != nil {
		return nil, fmt.Errorf("load msp %s: %w", dir, err)
	}
	keyPath, err := onlyFile(filepath.Join(dir, "keystore"))
	if err != nil {
		return nil, fmt.Errorf("load msp %s: %w", dir, err)
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("load msp: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("load msp: %w", err)
	}
	return NewSigner(mspID, certPEM, keyPEM)
}

// NewSigner builds a Signer from PEM-encoded certificate and private key.
func NewSigner(mspID string, certPEM, keyPEM []byte) (*Signer, error) {
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return &Signer{MSPID: mspID, Certificate: cert, CertPEM: certPEM, Sign: sign}, nil
}

// onlyFile returns the path of the one regular file in dir.
func onlyFile(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	switch len(files) {
	case 0:
		return "", fmt.Errorf("no file in %s", dir)
	case 1:
		return filepath.Join(dir, files[0]), nil
	default:
		return "", fmt.Errorf("%d files in %s, want exactly one", len(files), dir)
	}
}

// readPEMCerts reads a PEM file holding one or more certificates.
func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return certs, nil
}
