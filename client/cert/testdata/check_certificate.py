#!/usr/bin/env python3
"""Check a credit certificate's content without creditctl (docs/CERTIFICATES.md).

Reads a compact JWS certificate from the file named on the command line (or
stdin) and checks, with the Python standard library only:
  1. the status digest: SHA-256 of the RFC 8785 form of creditStatus equals
     credentialStatus.digest;
  2. for a batch member, the Merkle proof (RFC 9162) from
     leaf = SHA-256(0x00 || certificateId || digest) to the proof's root.
It prints the header fields, the digest and the root to compare with the
ledger anchor. With --openssl DIR it also writes, for openssl to check the
ES256 signature and the chain: DIR/input.txt (the JWS signing input),
DIR/sig.der (the signature r||s as DER), DIR/signer.pem (x5c[0]) and
DIR/ca.pem (x5c[1]).

  python3 check_certificate.py cert.jws --openssl out
  openssl x509 -in out/signer.pem -pubkey -noout > out/pub.pem
  openssl dgst -sha256 -verify out/pub.pem -signature out/sig.der out/input.txt
  openssl verify -CAfile published-county-ca.pem out/signer.pem
"""
import base64, hashlib, json, os, sys


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def canonical(value):
    # RFC 8785 for the statuses the chaincode writes (ASCII member names,
    # integers only): sorted members, no spaces, UTF-8, JSON.stringify escapes.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(leaf, index, size, path):
    # RFC 9162 section 2.1.3.2
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def der_int(b):
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return bytes([2, len(b)]) + b


def pem(der):
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def write_openssl_files(directory, header, header_b64, payload_b64, sig_b64):
    os.makedirs(directory, exist_ok=True)
    sig = b64url(sig_b64)
    body = der_int(sig[:32]) + der_int(sig[32:])
    files = {
        "input.txt": (header_b64 + "." + payload_b64).encode(),
        "sig.der": bytes([0x30, len(body)]) + body,
        "signer.pem": pem(base64.b64decode(header["x5c"][0])).encode(),
        "ca.pem": pem(base64.b64decode(header["x5c"][1])).encode(),
    }
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def main():
    args = sys.argv[1:]
    out_dir = None
    if "--openssl" in args:
        i = args.index("--openssl")
        out_dir = args[i + 1]
        del args[i:i + 2]
    jws = (open(args[0]).read() if args else sys.stdin.read()).strip()
    header_b64, payload_b64, sig_b64 = jws.split(".")
    header = json.loads(b64url(header_b64))
    vc = json.loads(b64url(payload_b64))
    status = vc["credentialStatus"]
    digest = hashlib.sha256(canonical(vc["credentialSubject"]["creditStatus"])).hexdigest()
    print("alg", header["alg"], "typ", header["typ"], "x5c", len(header["x5c"]))
    print("certificate", status["certificateId"], "anchor", status["anchorId"], "tx", status["txId"], "block", status["blockNumber"])
    print("digest", digest)
    if digest != status["digest"]:
        print("FAIL: the status hashes to", digest, "the certificate claims", status["digest"])
        return 1
    proof = status.get("merkleProof")
    if proof:
        leaf = hashlib.sha256(b"\x00" + status["certificateId"].encode("utf-8") + bytes.fromhex(digest)).digest()
        root = root_from_path(leaf, proof["leafIndex"], proof["treeSize"], [bytes.fromhex(p) for p in proof["path"]])
        if root is None or root.hex() != proof["root"]:
            print("FAIL: the Merkle proof does not lead to root", proof["root"])
            return 1
        print("merkle root", proof["root"], "leaf", proof["leafIndex"], "of", proof["treeSize"])
    if out_dir:
        write_openssl_files(out_dir, header, header_b64, payload_b64, sig_b64)
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
