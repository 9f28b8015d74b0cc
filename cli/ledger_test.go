package cli

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/countycredit/creditledger/network"
)

const testProfile = `{
  "name": "t", "channel": "credit", "chaincode": "credit",
  "counties": [
    {"code": "330782", "name": "义乌市", "mspId": "County330782MSP",
     "peers": [{"name": "peer0", "address": "127.0.0.1:7080", "tlsRootCert": "/r/a.pem"},
               {"name": "peer1", "address": "127.0.0.1:7090", "tlsRootCert": "/r/a.pem"}],
     "caCert": "/r/ca.pem", "caKey": "/r/ca.key", "adminMsp": "/r/users/Admin@c330782.credit.local/msp",
     "usersDir": "/r/c330782.credit.local/users"},
    {"code": "330182", "name": "建德市", "mspId": "County330182MSP",
     "peers": [{"name": "peer0", "address": "127.0.0.1:7100", "tlsRootCert": "/r/b.pem"}],
     "caCert": "/r/ca.pem", "caKey": "/r/ca.key", "adminMsp": "/r/adminB/msp", "usersDir": "/r/c330182.credit.local/users"}
  ],
  "orderers": [{"name": "orderer0", "address": "127.0.0.1:7050", "tlsRootCert": "/r/o.pem"}]
}`

func TestCallerResolution(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "network.json")
	writeFile(t, profile, testProfile)
	tests := []struct {
		name    string
		env     map[string]string
		admin   bool
		county  string
		peer    string
		msp     string
		wantErr error
	}{
		{"defaults: first county, first peer, officer1", nil, false, "330782", "peer0", "/r/c330782.credit.local/users/officer1@c330782.credit.local/msp", nil},
		{"county, peer and user", map[string]string{"CREDITCTL_COUNTY": "330182", "CREDITCTL_USER": "clerk"}, false, "330182", "peer0",
			"/r/c330182.credit.local/users/clerk@c330182.credit.local/msp", nil},
		{"second peer", map[string]string{"CREDITCTL_PEER": "peer1"}, false, "330782", "peer1", "", nil},
		{"explicit msp", map[string]string{"CREDITCTL_MSP": "/m/msp"}, false, "330782", "peer0", "/m/msp", nil},
		{"admin command: the county admin", map[string]string{"CREDITCTL_COUNTY": "330182"}, true, "330182", "peer0", "/r/adminB/msp", nil},
		{"admin command with a named user", map[string]string{"CREDITCTL_USER": "boss"}, true, "330782", "peer0",
			"/r/c330782.credit.local/users/boss@c330782.credit.local/msp", nil},
		{"county not in the profile", map[string]string{"CREDITCTL_COUNTY": "110000"}, false, "", "", "", network.ErrInvalid},
		{"peer not in the county", map[string]string{"CREDITCTL_PEER": "peer9"}, false, "", "", "", network.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envProfile: profile}
			for k, v := range tt.env {
				env[k] = v
			}
			ios, _, _, _ := Test()
			f := &Factory{IO: ios, Getenv: func(k string) string { return env[k] }}
			c, err := f.callerAs(tt.admin)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || ExitCode(err) != ExitInvalid {
					t.Fatalf("err = %v (exit %d), want %v", err, ExitCode(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.County.Code != tt.county || c.Peer.Name != tt.peer || (tt.msp != "" && c.MSPDir != tt.msp) {
				t.Errorf("caller = county %s, peer %s, msp %s", c.County.Code, c.Peer.Name, c.MSPDir)
			}
			if code, _ := f.CountyCode(); code != tt.county {
				t.Errorf("CountyCode = %s", code)
			}
		})
	}
}
