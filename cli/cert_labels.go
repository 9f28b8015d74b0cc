package cli

import (
	"strconv"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
)

// Labels of the certificate commands for --lang zh: their fields, the
// purposes, the verification modes, verdicts and reasons (from
// client/cert, so the CLI, the printed page and the web page say the
// same).
func init() {
	for k, v := range map[string]string{
		"certificateId": "证书编号", "anchorId": "锚定记录", "digest": "内容摘要(SHA-256)",
		"noAdverseRecord": "无不良信用记录", "validFrom": "生效日期", "validUntil": "有效期至", "alg": "签名算法",
		"file": "文件", "html": "网页文件", "pdf": "PDF 文件", "purpose": "用途", "issuedAt": "签发时间",
		"issueTxId": "签发交易", "merkleRoot": "默克尔根", "count": "证书数", "statusReason": "状态变更原因",
		"statusChangedBy": "状态变更人", "verdict": "核验结果", "mode": "核验方式", "asOf": "核验时点",
		"currentState": "最新状态", "endorsers": "背书机构", "finding": "原因", "findings": "原因",
		"note": "说明", "qr": "二维码内容", "certificates": "证书数", "blocks": "区块",
		"channel": "通道", "trustFingerprint": "信任根指纹", "fingerprint": "信任根指纹",
		"configBlock": "配置区块", "ordererType": "排序服务类型", "endorsement": "背书策略",
		"organizations": "成员机构", "counties": "县(市、区)", "exportedAt": "导出时间",
	} {
		if _, ok := zhFields[k]; !ok {
			zhFields[k] = v
		}
	}
	if _, ok := zhKinds[credit.TypeCertificate]; !ok {
		zhKinds[credit.TypeCertificate] = "区块链证书"
	}
	purposes := map[string]string{}
	for _, p := range credit.Purposes {
		purposes[p] = credit.PurposeLabel(p)
	}
	zhValues["purpose"] = purposes
	zhValues["mode"] = map[string]string{cert.ModeOnline: "在线核验", cert.ModeOffline: "离线核验"}
	zhValues["verdict"] = map[string]string{string(cert.Valid): cert.Valid.Label(), string(cert.Invalid): cert.Invalid.Label(), string(cert.CannotTell): cert.CannotTell.Label()}
}

// writeAnchor prints a certificate anchor as WriteTx (res non-nil) or
// WriteRecord do, with its states labelled as certificate states (a
// certificate's expired is 已过期, not a punishment's 公示期满).
func (p *Printer) writeAnchor(a *credit.Certificate, res *client.Result) error {
	if p.JSON() {
		if res != nil {
			return p.WriteTx(*res, a)
		}
		return p.WriteJSON(a)
	}
	rows, err := p.fieldRows(a)
	if err != nil {
		return err
	}
	for _, r := range rows {
		switch r[0] {
		case p.Label("state"):
			r[1] = p.certState(a.State)
		case p.Label("derivedState"):
			r[1] = p.certState(a.DerivedState)
		case p.Label("statusChangedBy"):
			r[1] = readableIdentity(a.StatusChangedBy)
		}
	}
	if res != nil {
		rows = append(rows, []string{p.Label("block"), strconv.FormatUint(res.BlockNumber, 10)})
	}
	return p.Table(nil, rows)
}

// verdict is a verdict as shown: its code, or its Chinese label.
func (p *Printer) verdict(v cert.Verdict) string {
	if p.Lang == "zh" {
		return v.Label()
	}
	return string(v)
}

// reason is a verification reason as shown: its code, or its Chinese label.
func (p *Printer) reason(r cert.Reason) string {
	if p.Lang == "zh" {
		return r.Label()
	}
	return string(r)
}

// certState is a certificate state as shown (valid, suspended, revoked,
// expired: 有效, 已暂停, 已撤销, 已过期 in Chinese).
func (p *Printer) certState(s string) string {
	if p.Lang == "zh" {
		return cert.Label(s)
	}
	return s
}
