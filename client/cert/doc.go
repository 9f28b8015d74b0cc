// Package cert makes and checks blockchain credit certificates
// (社会信用区块链证书): W3C Verifiable Credentials 2.0, secured as compact JWS
// (VC-JOSE-COSE), whose credit status is computed by the chaincode and
// anchored on the ledger. docs/CERTIFICATES.md is the reference for the
// format; this is the manual for the API.
//
// # Issuing
//
// An officer's Signer (LoadOfficer from its Fabric MSP folder, or
// NewSigner; NewSM2Signer for the optional SM2/SM3 profile, with a
// certificate from MintSM2Certificate) signs the credential NewCredential
// or NewBatchCredentials builds from the chaincode's issuance result and
// the transaction's ledger position. Issue and IssueBatch do it all through
// a *client.Client connected as that officer: submit, wait for the commit,
// build, sign. IssueBatch splits big batches into anchors of
// DefaultBatchChunk subjects (ChunkID names them).
//
// # Verifying
//
// A Verifier trusts the channel's TrustRoots: the member organisations'
// MSP certificates from the latest configuration block, the ordering
// service and the county registry (ExportTrust reads them from the ledger;
// an auditor compares Fingerprint with the published one). It answers
// Valid, Invalid or CannotTell in a Report, with findings that carry a
// stable Reason code (English details, Chinese Label for pages) and notes
// on what could not be checked.
//
//   - VerifyOnline asks the ledger (Ledger, implemented by *client.Client):
//     the anchoring transaction exists and is VALID, it wrote the anchor
//     the certificate claims, and the anchor's history gives its status
//     at Options.AsOf.
//   - VerifyOffline checks a certificate against a Bundle (MakeBundle):
//     the blocks of the anchor's transactions with their orderer
//     signatures and data hashes, each transaction's creator signature and
//     endorsements (a majority of counties including the issuer for an
//     issuance; the issuer for a status change), and, for a batch member,
//     its Merkle proof. It notes that the peer-local validity flag and any
//     change after the bundle was made cannot be checked offline.
//     VerifyBundle verifies all of a bundle's certificates.
//
// Both start with the JWS: the signature over header and payload (a changed
// byte anywhere is ReasonBadSignature), the x5c chain to a county CA of the
// trust roots (ReasonUntrustedCA otherwise), the issuer named in the
// credential against that CA's county (ReasonWrongIssuer), and the status
// digest, recomputed as SHA-256 of the status's RFC 8785 form, against the
// claim and the anchor (ReasonAnchorMismatch, ReasonMerkleProof).
//
// A Verifier caches what does not change (a header's chain, a block's and a
// transaction's proofs, an anchor's versions in a bundle), so verifying the
// members of one batch from one bundle costs about one signature check
// each (BenchmarkOfflineVerifyBatch). It is safe for concurrent use.
//
// # Printing
//
// RenderHTML writes a printable page in Chinese with a QR code; PrintPDF
// turns it into PDF with a headless Chromium.
//
// Package certtest builds a consortium and ledger in memory for tests.
package cert
