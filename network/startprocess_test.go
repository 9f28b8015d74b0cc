package network

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartProcessRefuses: StartProcess starts only a process of the
// topology, needs the Fabric folder and the package ID, and a chaincode
// server binary for a chaincode server; each refusal names what is wrong
// and starts nothing.
func TestStartProcessRefuses(t *testing.T) {
	dir := t.TempDir()
	l := Layout{Dir: dir, T: DefaultTopology()}
	if err := os.MkdirAll(l.ChaincodeDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	withID := &Network{Layout: l, fab: &fabric{binDir: filepath.Join(dir, "bin")}}
	if err := os.WriteFile(filepath.Join(l.ChaincodeDir(), "package-id"), []byte("credit_1.0:abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noID := &Network{Layout: Layout{Dir: t.TempDir(), T: DefaultTopology()}, fab: withID.fab}
	noFabric := &Network{Layout: l}
	for _, tc := range []struct {
		name    string
		n       *Network
		process string
		cc      string
		want    string
		is      error
	}{
		{"without the Fabric folder", noFabric, "orderer0", "", "opened without its Fabric folder", ErrInvalid},
		{"before up wrote the package ID", noID, "orderer0", "", "package ID", os.ErrNotExist},
		{"a process of no topology", withID, "orderer9", "", `process "orderer9": is not a process of this network`, nil},
		{"a chaincode server without its binary", withID, "cc.c330782", "", "chaincodeServer", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.n.StartProcess(context.Background(), tc.process, tc.cc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want errors.Is %v", err, tc.is)
			}
			var fe *FieldError
			if tc.is == nil && !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if ents, _ := os.ReadDir(tc.n.PidsDir()); len(ents) != 0 {
				t.Fatalf("pid files written: %v", ents)
			}
		})
	}
}
