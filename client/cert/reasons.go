package cert

import "fmt"

// Verdict is the answer of a verification.
type Verdict string

// The three answers.
const (
	Valid      Verdict = "valid"
	Invalid    Verdict = "invalid"
	CannotTell Verdict = "cannot-tell"
)

// Label is the verdict in Chinese, for the printed page and the web page.
func (v Verdict) Label() string {
	switch v {
	case Valid:
		return "有效"
	case Invalid:
		return "无效"
	case CannotTell:
		return "无法判断"
	}
	return string(v)
}

// Reason is a stable code for one finding of a verification. Each code
// has a class: it makes a certificate invalid, leaves the verifier unable
// to tell, or only notes a limit of what was checked.
type Reason string

// Reasons that make a certificate invalid.
const (
	// ReasonMalformed: not a compact JWS holding a certificate of this format.
	ReasonMalformed Reason = "malformed"
	// ReasonBadSignature: the JWS signature does not verify over the header
	// and payload: a byte was changed (header, payload or signature).
	ReasonBadSignature Reason = "bad-signature"
	// ReasonUntrustedCA: the signing certificate does not chain to the CA of
	// any member organisation of the channel.
	ReasonUntrustedCA Reason = "untrusted-ca"
	// ReasonWrongIssuer: the county the certificate names is not the one
	// whose CA issued the signing certificate, or whose officer anchored it.
	ReasonWrongIssuer Reason = "wrong-issuer"
	// ReasonAnchorMismatch: the certificate's claims do not match the ledger
	// anchor it points to (another subject's anchor, a digest, validity,
	// purpose, transaction or block that differs): a replayed anchor.
	ReasonAnchorMismatch Reason = "anchor-mismatch"
	// ReasonMerkleProof: the batch member's Merkle proof does not lead to the
	// anchored root.
	ReasonMerkleProof Reason = "merkle-proof"
	// ReasonExpired: the verification time is after validUntil.
	ReasonExpired Reason = "expired"
	// ReasonNotYetValid: the verification time is before the issuance.
	ReasonNotYetValid Reason = "not-yet-valid"
	// ReasonRevoked: the issuing county revoked the certificate.
	ReasonRevoked Reason = "revoked"
	// ReasonSuspended: the issuing county suspended the certificate.
	ReasonSuspended Reason = "suspended"
	// ReasonLedgerProof: the anchoring transaction's proof fails: a
	// signature of its creator, an endorser or the orderers does not
	// verify, or the transaction is not in the block it names.
	ReasonLedgerProof Reason = "ledger-proof"
	// ReasonEndorsementPolicy: the anchoring transaction lacks the
	// endorsements the channel requires (a majority of counties including
	// the issuing county for an issuance; the issuing county for a status
	// change).
	ReasonEndorsementPolicy Reason = "endorsement-policy"
	// ReasonTxInvalid: the ledger marks the anchoring transaction invalid
	// (online only: its validation code is not VALID).
	ReasonTxInvalid Reason = "tx-invalid"
	// ReasonAnchorNotFound: the ledger holds no such anchor or transaction.
	ReasonAnchorNotFound Reason = "anchor-not-found"
)

// Reasons that leave the verifier unable to tell.
const (
	// ReasonEvidenceMissing: the bundle or the trust roots lack what the
	// check needs (the anchoring transaction, the issuer's organisation).
	ReasonEvidenceMissing Reason = "evidence-missing"
	// ReasonLedgerUnavailable: the ledger could not be asked, or its peer
	// had not committed the block the certificate names within MaxLedgerWait.
	ReasonLedgerUnavailable Reason = "ledger-unavailable"
)

// Notes: limits of an offline check, stated with a valid verdict.
const (
	// NoteValidityFlag: whether the peers validated the anchoring
	// transaction (its flag in the block) is recorded by each peer, not
	// signed by the orderers, so it cannot be checked offline.
	NoteValidityFlag Reason = "validity-flag-unchecked"
	// NoteRevocationAfterBundle: a suspension or revocation after the
	// bundle's last block cannot be seen offline.
	NoteRevocationAfterBundle Reason = "revocation-after-bundle"
	// NoteTrustFromBundle: the trust roots came from the bundle itself;
	// compare their fingerprint with the one the network publishes.
	NoteTrustFromBundle Reason = "trust-from-bundle"
)

// Class is what a reason means for the verdict.
type Class int

// The classes of reasons.
const (
	ClassInvalid Class = iota
	ClassCannotTell
	ClassNote
)

var reasonInfo = map[Reason]struct {
	class Class
	label string
}{
	ReasonMalformed:           {ClassInvalid, "证书格式错误"},
	ReasonBadSignature:        {ClassInvalid, "签名无效（内容被篡改）"},
	ReasonUntrustedCA:         {ClassInvalid, "签名证书不属于联盟成员机构"},
	ReasonWrongIssuer:         {ClassInvalid, "签发机构与签名证书不符"},
	ReasonAnchorMismatch:      {ClassInvalid, "证书内容与链上锚定记录不符"},
	ReasonMerkleProof:         {ClassInvalid, "批量证书默克尔证明错误"},
	ReasonExpired:             {ClassInvalid, "证书已过期"},
	ReasonNotYetValid:         {ClassInvalid, "证书尚未生效"},
	ReasonRevoked:             {ClassInvalid, "证书已撤销"},
	ReasonSuspended:           {ClassInvalid, "证书已暂停使用"},
	ReasonLedgerProof:         {ClassInvalid, "链上交易证明无效"},
	ReasonEndorsementPolicy:   {ClassInvalid, "背书不满足通道策略"},
	ReasonTxInvalid:           {ClassInvalid, "锚定交易在账本上无效"},
	ReasonAnchorNotFound:      {ClassInvalid, "账本上没有该锚定记录"},
	ReasonEvidenceMissing:     {ClassCannotTell, "缺少核验所需材料"},
	ReasonLedgerUnavailable:   {ClassCannotTell, "无法访问账本"},
	NoteValidityFlag:          {ClassNote, "离线无法核验交易有效性标志"},
	NoteRevocationAfterBundle: {ClassNote, "离线无法核验证书包生成之后的撤销"},
	NoteTrustFromBundle:       {ClassNote, "信任根取自证书包本身"},
}

// Reasons lists every reason code, invalid ones first.
var Reasons = []Reason{
	ReasonMalformed, ReasonBadSignature, ReasonUntrustedCA, ReasonWrongIssuer, ReasonAnchorMismatch,
	ReasonMerkleProof, ReasonExpired, ReasonNotYetValid, ReasonRevoked, ReasonSuspended,
	ReasonLedgerProof, ReasonEndorsementPolicy, ReasonTxInvalid, ReasonAnchorNotFound,
	ReasonEvidenceMissing, ReasonLedgerUnavailable,
	NoteValidityFlag, NoteRevocationAfterBundle, NoteTrustFromBundle,
}

// Class says whether the reason makes a certificate invalid, leaves the
// verifier unable to tell, or is a note.
func (r Reason) Class() Class { return reasonInfo[r].class }

// Label is the reason in Chinese.
func (r Reason) Label() string {
	if l := reasonInfo[r].label; l != "" {
		return l
	}
	return string(r)
}

// Finding is one reason with the details of the case, in English.
type Finding struct {
	Reason Reason `json:"reason"`
	Detail string `json:"detail"`
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s", f.Reason, f.Detail) }

// Label is the reason's Chinese label.
func (f Finding) Label() string { return f.Reason.Label() }

func finding(r Reason, format string, args ...any) Finding {
	return Finding{Reason: r, Detail: fmt.Sprintf(format, args...)}
}
