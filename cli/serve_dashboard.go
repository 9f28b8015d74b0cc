package cli

import (
	"net/http"
	"strconv"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/keys"
)

// A county's dashboard, read from the index (the indexer's Go API on the
// index folder, or a running `index serve` over HTTP): the black list,
// the overdue commitments, the repairs awaiting a decision, and the
// month's indicators. The index is a mirror of the ledger kept by
// `creditctl index run|serve`; certificate verification never uses it.

type dashboardPage struct {
	pageBase
	County     string
	CountyName string
	AsOf       string
	Month      string
	Counties   []cert.TrustCounty
	Height     uint64
	BlackList  []*credit.Punishment
	Overdue    []*credit.Commitment
	Repairs    []*credit.Repair
	Indicators *indexer.Indicators
	CountyOf   func(string) string
}

func (s *certServer) handleDashboard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := dashboardPage{pageBase: s.base("县域信用看板"), County: q.Get("county"), AsOf: q.Get("asOf"), Month: q.Get("month"), CountyOf: s.countyName}
	if s.trust != nil {
		p.Counties = s.trust.Counties
	}
	if p.County == "" {
		p.County = s.county
	}
	now := s.now()
	if p.AsOf == "" {
		p.AsOf = credit.DateOf(now).String()
	}
	asOf, err := credit.ParseDate(p.AsOf)
	if err != nil {
		p.Error = "日期 " + p.AsOf + " 无效：应为 YYYY-MM-DD。"
		render(w, http.StatusBadRequest, "dashboard", p)
		return
	}
	if p.Month == "" {
		p.Month = p.AsOf[:7]
	}
	month, err := keys.ParseMonth(p.Month)
	if err != nil {
		p.Error = "月份 " + p.Month + " 无效：应为 YYYY-MM。"
		render(w, http.StatusBadRequest, "dashboard", p)
		return
	}
	if err := credit.ValidateCountyCode("county", p.County); err != nil {
		p.Error = "请选择县(市、区)：" + err.Error()
		render(w, http.StatusBadRequest, "dashboard", p)
		return
	}
	if c, ok := s.trustCounty(p.County); ok {
		p.CountyName = c.Name
	}
	if s.index == nil {
		p.Error = "看板需要索引：启动时给出 --index-dir（creditctl index run 建立的索引目录）或 --index-server（运行中的 creditctl index serve）。"
		render(w, http.StatusOK, "dashboard", p)
		return
	}
	ix, err := s.index()
	if err != nil {
		p.Error = "无法打开索引：" + err.Error()
		render(w, http.StatusServiceUnavailable, "dashboard", p)
		return
	}
	defer ix.Close()
	start := time.Now()
	if p.BlackList, err = ix.BlackList(p.County, asOf); err == nil {
		if p.Overdue, err = ix.OverdueCommitments(p.County, asOf); err == nil {
			if p.Repairs, err = ix.RepairsAwaitingDecision(p.County, asOf); err == nil {
				p.Indicators, err = ix.Indicators(p.County, month)
			}
		}
	}
	if err != nil {
		p.Error = "索引查询失败：" + err.Error()
		render(w, http.StatusInternalServerError, "dashboard", p)
		return
	}
	p.Height = p.Indicators.Height
	w.Header().Set("Server-Timing", "index;dur="+durationMillis(time.Since(start)))
	render(w, http.StatusOK, "dashboard", p)
}

func (s *certServer) trustCounty(code string) (cert.TrustCounty, bool) {
	if s.trust == nil {
		return cert.TrustCounty{}, false
	}
	return s.trust.County(code)
}

// durationMillis is d in milliseconds, as Server-Timing writes it.
func durationMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}
