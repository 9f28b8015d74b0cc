package main

import "testing"

// TestCheckEnvRefusesTLSWithoutKeys: FABRIC_NATIVE §1.7 — the peer CLI's
// CORE_PEER_TLS_ENABLED=true leaking into the server's environment must
// give a clear error, not a panic on an empty key path.
func TestCheckEnvRefusesTLSWithoutKeys(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
	}{
		{"plain CCaaS", map[string]string{"CHAINCODE_SERVER_ADDRESS": "127.0.0.1:9999", "CORE_CHAINCODE_ID_NAME": "credit_1:x"}, false},
		{"TLS without keys", map[string]string{"CHAINCODE_SERVER_ADDRESS": "127.0.0.1:9999", "CORE_PEER_TLS_ENABLED": "true"}, true},
		{"TLS with key only", map[string]string{"CHAINCODE_SERVER_ADDRESS": "a", "CORE_PEER_TLS_ENABLED": "true", "CORE_TLS_CLIENT_KEY_FILE": "k"}, true},
		{"TLS with keys", map[string]string{"CHAINCODE_SERVER_ADDRESS": "a", "CORE_PEER_TLS_ENABLED": "true", "CORE_TLS_CLIENT_KEY_FILE": "k", "CORE_TLS_CLIENT_CERT_FILE": "c"}, false},
		{"not a server", map[string]string{"CORE_PEER_TLS_ENABLED": "true"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkEnv(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
