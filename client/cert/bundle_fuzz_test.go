package cert_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

// FuzzReadBundle (issue 7: certificate and bundle parsing): an offline
// bundle is untrusted input, as the certificate is. For any bytes:
// ReadBundle and VerifyOffline never panic; a bundle ReadBundle accepts
// reads back the same after WriteTo; and a certificate verifies as valid
// only on a bundle whose anchoring block has the genuine header and
// transactions (the orderers sign the header, the header hashes the
// transactions; the peer's validation flags in the metadata are not
// signed, which the verdict's notes say). The seed corpus is the genuine
// bundle and testdata/fuzz/FuzzReadBundle.
func FuzzReadBundle(f *testing.F) {
	c := certtest.New(f)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	genuine := c.Bundle(iss.JWS)
	v := c.Verifier()
	opts := cert.Options{AsOf: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}
	r := v.VerifyOffline(iss.JWS, genuine, opts)
	if r.Verdict != cert.Valid {
		f.Fatalf("the genuine bundle: %s %v", r.Verdict, r.Findings)
	}
	var anchor *common.Block
	for _, b := range genuine.Blocks {
		if b.Number == r.BlockNumber {
			anchor = &common.Block{}
			if err := proto.Unmarshal(b.Block, anchor); err != nil {
				f.Fatal(err)
			}
		}
	}
	if anchor == nil {
		f.Fatalf("the genuine bundle lacks block %d", r.BlockNumber)
	}
	var seed bytes.Buffer
	if _, err := genuine.WriteTo(&seed); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add([]byte(`{"format":"credit-bundle/1"}`))
	f.Add([]byte(`{"format":"credit-bundle/1","blocks":[{"number":1,"block":"AA=="}],"certificates":["a.b.c"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := cert.ReadBundle(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := b.WriteTo(&out); err != nil {
			t.Fatalf("WriteTo of a bundle ReadBundle accepted: %v", err)
		}
		again, err := cert.ReadBundle(&out)
		if err != nil || !reflect.DeepEqual(b, again) {
			t.Fatalf("the bundle does not read back the same after WriteTo: %v", err)
		}
		r := v.VerifyOffline(iss.JWS, b, opts)
		if r.Verdict != cert.Valid {
			return
		}
		for _, bb := range b.Blocks {
			if bb.Number != anchor.GetHeader().GetNumber() {
				continue
			}
			var got common.Block
			if proto.Unmarshal(bb.Block, &got) == nil && proto.Equal(got.Header, anchor.Header) && proto.Equal(got.Data, anchor.Data) {
				return
			}
		}
		t.Fatalf("the certificate verifies on a bundle without the genuine block %d", anchor.GetHeader().GetNumber())
	})
}
