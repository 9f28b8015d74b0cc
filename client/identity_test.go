package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeMSP(t *testing.T, keys int) string {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "officer1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"signcerts", "keystore"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, typ string, b []byte) {
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "signcerts", "cert.pem"), "CERTIFICATE", der)
	for i := 0; i < keys; i++ {
		write(filepath.Join(dir, "keystore", "k"+string(rune('0'+i))+"_sk"), "PRIVATE KEY", pkcs8)
	}
	return dir
}

func TestLoadMSP(t *testing.T) {
	s, err := LoadMSP("County330782MSP", writeMSP(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if s.MSPID != "County330782MSP" || s.Certificate.Subject.CommonName != "officer1" {
		t.Fatalf("got %+v", s)
	}
	sig, err := s.Sign(make([]byte, 32))
	if err != nil || len(sig) == 0 {
		t.Fatalf("sign: %v", err)
	}
}

func TestLoadMSPRefusesAmbiguousKeystore(t *testing.T) {
	_, err := LoadMSP("County330782MSP", writeMSP(t, 2))
	if err == nil || !strings.Contains(err.Error(), "2 files in") {
		t.Fatalf("want a two-keys error, got %v", err)
	}
	_, err = LoadMSP("", writeMSP(t, 1))
	if err == nil || !strings.Contains(err.Error(), "msp id is empty") {
		t.Fatalf("want empty msp id error, got %v", err)
	}
}
