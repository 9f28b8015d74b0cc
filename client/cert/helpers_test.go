package cert_test

import "encoding/base64"

func b64url(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
