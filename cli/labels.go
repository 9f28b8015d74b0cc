package cli

import "strings"

// Labels for --lang zh: field names (the JSON keys of records, also used
// as column headings) and the values of enumerations. English output uses
// the JSON keys and values themselves, so what an operator reads is what
// -o json and the ledger say. Keep every enumeration of chaincode/credit
// here: TestEveryEnumerationHasAChineseLabel checks.

// zhFields labels record fields and column headings.
var zhFields = map[string]string{
	// common record fields (DESIGN §8)
	"kind": "类别", "id": "编号", "subject": "主体", "county": "所属县", "department": "部门",
	"state": "状态", "derivedState": "当前状态", "createdAt": "创建时间", "createdBy": "创建人",
	"updatedAt": "更新时间", "txId": "交易编号", "block": "区块",
	// commitment
	"commitmentKind": "承诺类型", "content": "承诺内容", "contentHash": "承诺书摘要",
	"madeOn": "承诺日期", "deadline": "履诺期限", "deadlineBasis": "期限依据", "calendars": "工作日历",
	"repairId": "信用修复编号", "receivedBy": "受理县", "closedAt": "办结时间", "note": "备注",
	"breachReason": "违诺原因", "dishonestyId": "失信记录编号",
	// dishonesty
	"source": "来源", "commitmentId": "承诺编号", "reason": "理由", "date": "日期",
	// punishment
	"punishmentKind": "惩戒类型", "severity": "失信程度", "decisionDate": "决定日期",
	"decisionNo": "决定文书号", "legalBasis": "法律依据", "measures": "惩戒措施", "summary": "摘要",
	"ruleSet": "规则版本", "repairable": "可否修复", "requiresTrainingAndReport": "需培训证明和信用报告",
	"minEnd": "最短公示期满", "maxEnd": "最长公示期满", "revision": "版次", "correctedBy": "更正依据(异议)",
	"openRepairId": "办理中的信用修复", "repairedBy": "信用修复编号", "revokeReason": "撤销原因",
	"revokedBy": "撤销依据(异议)",
	// enforcement
	"punishmentId": "惩戒编号", "punishmentCounty": "惩戒县", "measure": "惩戒措施", "detail": "实施情况",
	// repair
	"evidence.identity": "身份证明材料摘要", "evidence.penaltyFulfilled": "履行法定义务证明摘要",
	"evidence.repairCommitment": "信用修复承诺书摘要", "evidence.training": "信用修复培训证明摘要",
	"evidence.creditReport": "信用报告摘要", "acceptedAt": "受理时间", "rejectReason": "不予修复理由",
	// objection
	"recordKind": "被异议记录类别", "recordId": "被异议记录编号", "answer": "答复", "action": "处理方式",
	"answeredAt": "答复时间", "correction.punishmentKind": "更正:惩戒类型", "correction.severity": "更正:失信程度",
	"correction.decisionDate": "更正:决定日期", "correction.decisionNo": "更正:决定文书号",
	"correction.legalBasis": "更正:法律依据", "correction.measures": "更正:惩戒措施",
	// county, rule set, calendar
	"code": "区划代码", "name": "名称", "mspId": "MSP 标识", "version": "版本", "effectiveFrom": "生效日期",
	"title": "标题", "needsChecking": "待核对原文",
	"general.minMonths": "一般失信:最短公示期(月)", "general.maxMonths": "一般失信:最长公示期(月)",
	"general.repairable": "一般失信:可否修复", "general.requiresTrainingAndReport": "一般失信:需培训证明和信用报告",
	"serious.minMonths": "严重失信:最短公示期(月)", "serious.maxMonths": "严重失信:最长公示期(月)",
	"serious.repairable": "严重失信:可否修复", "serious.requiresTrainingAndReport": "严重失信:需培训证明和信用报告",
	"special.minMonths": "特定严重失信:最短公示期(月)", "special.maxMonths": "特定严重失信:最长公示期(月)",
	"special.repairable": "特定严重失信:可否修复", "special.requiresTrainingAndReport": "特定严重失信:需培训证明和信用报告",
	"year": "年份", "holidays": "法定节假日", "workdays": "调休上班日",
	// transaction status, history, lists
	"found": "已上链", "valid": "有效", "validation": "验证结果", "timestamp": "时间", "isDelete": "删除",
	"records": "记录数", "history": "历史", "homeCounty": "登记地",
	// network status, up, down, clean
	"node": "节点", "address": "地址", "process": "进程", "pid": "进程号", "health": "健康状况",
	"height": "区块高度", "channel": "通道", "chaincode": "链码", "chaincodeCommitted": "链码已提交",
	"chaincodeSequence": "链码定义序号", "orderingLeader": "排序服务主节点", "healthy": "网络健康", "runFolder": "运行目录", "removed": "已删除",
	"profile": "连接配置", "opsAddress": "运维地址",
	// identity issue, show
	"mspIdSource": "MSP 标识来源", "mspIdVerified": "MSP 标识已核实", "ous": "组织单元", "role": "角色",
	"roleSource": "角色来源", "dept": "科室", "enrollmentId": "登记标识", "notBefore": "生效时间",
	"notAfter": "到期时间", "validity": "有效期", "issuer": "签发者", "mspDir": "MSP 目录",
}

// zhValues labels enumeration values, per field. Fields sharing an
// enumeration point to the same map.
var zhValues = map[string]map[string]string{
	"kind":           zhKinds,
	"recordKind":     zhKinds,
	"commitmentKind": zhCommitmentKinds,
	"punishmentKind": zhPunishmentKinds,
	"severity":       zhSeverities,
	"state":          zhStates,
	"derivedState":   zhStates,
	"measure":        zhMeasures,
	"measures":       zhMeasures,
	"department":     zhDepartments,
	"action":         {"revoke": "撤销", "correct": "更正"},
	"source":         {"commitment-breach": "违背承诺"},
}

var zhKinds = map[string]string{
	"commitment": "信用承诺", "dishonesty": "失信记录", "punishment": "失信惩戒",
	"enforcement": "联合惩戒实施", "repair": "信用修复", "objection": "异议",
	"county": "县(市、区)", "ruleset": "公示与修复规则", "calendar": "工作日历",
}

var zhCommitmentKinds = map[string]string{
	"approval":          "告知承诺(审批替代型)",
	"missing-materials": "容缺受理",
	"voluntary":         "主动型承诺",
	"industry":          "行业自律型承诺",
	"repair":            "信用修复承诺",
}

var zhPunishmentKinds = map[string]string{
	"publicity": "行政处罚信息公示",
	"blacklist": "严重失信主体名单",
	"watchlist": "重点关注名单",
}

var zhSeverities = map[string]string{
	"general": "一般失信",
	"serious": "严重失信",
	"special": "特定严重失信",
}

var zhStates = map[string]string{
	"made": "已承诺", "fulfilled": "已履诺", "breached": "已违诺", "overdue": "已逾期",
	"active": "公示中", "repaired": "已修复", "revoked": "已撤销", "expired": "公示期满",
	"applied": "已申请", "accepted": "已受理", "completed": "修复完成", "rejected": "不予修复",
	"raised": "已提出", "upheld": "异议成立", "dismissed": "异议不成立",
	"recorded": "已记录",
}

var zhMeasures = map[string]string{
	"procurement":      "限制参与政府采购",
	"bidding":          "限制参与招标投标",
	"subsidy":          "限制申请财政资金、补贴",
	"tax-preference":   "限制享受税收优惠",
	"honours":          "限制评优评先",
	"inspection":       "提高监督检查频次",
	"high-consumption": "限制高消费",
	"market-access":    "限制市场准入、行政许可",
	"financing":        "限制融资授信",
}

// zhDepartments are the department codes the network and the docs use;
// a code not listed is shown as it is.
var zhDepartments = map[string]string{
	"credit-office":     "信用办",
	"market":            "市场监管局",
	"tax":               "税务局",
	"housing":           "住建局",
	"environment":       "生态环境局",
	"transport":         "交通运输局",
	"human-resources":   "人力社保局",
	"emergency":         "应急管理局",
	"court":             "人民法院",
	"finance":           "财政局",
	"commerce":          "商务局",
	"agriculture":       "农业农村局",
	"health":            "卫生健康委",
	"education":         "教育局",
	"public-security":   "公安局",
	"natural-resources": "自然资源局",
}

// Label is the heading of a field: its JSON key in English, its Chinese
// label with --lang zh (the key itself if none is known).
func (p *Printer) Label(key string) string {
	if p.Lang != "zh" {
		return key
	}
	if l, ok := zhFields[key]; ok {
		return l
	}
	return key
}

// Value is how a field's value is shown: as it is in English; with
// --lang zh, enumerations (also inside comma-separated lists) and booleans
// are translated.
func (p *Printer) Value(key, v string) string {
	if p.Lang != "zh" || v == "" {
		return v
	}
	switch v {
	case "true":
		return "是"
	case "false":
		return "否"
	}
	m, ok := zhValues[key]
	if !ok {
		return v
	}
	parts := strings.Split(v, ", ")
	for i, s := range parts {
		if l, ok := m[s]; ok {
			parts[i] = l
		}
	}
	return strings.Join(parts, "、")
}
