package portal

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"yamen/modules/ratings"
	"yamen/problem"
)

// The ratings dashboard: satisfaction over the last 30 days, the levels of
// each department, and the figures by region one level down at a time to
// the communities; charts are SVG drawn here, each with its figures as a
// table beside it, and the Excel export of the same statistics.

type dashboardPage struct {
	Trend, Depts, Regions ratings.Stats
	TrendChart, DeptChart template.HTML
	Region                string
	// Up is the region one level up, when drilled down.
	Up        string
	RegionErr string
	// AsOf is when the figures were counted: they are kept for a short
	// while (dashboardTTL), as counting a tenant's ratings three ways on
	// every view is the page's whole cost.
	AsOf time.Time
}

// dashboardTTL is how long the dashboard's figures are reused.
const dashboardTTL = 30 * time.Second

// dashboardCache keeps each tenant's and region's figures for dashboardTTL.
type dashboardCache struct {
	mu sync.Mutex
	m  map[string]dashboardPage
}

var dashboards = &dashboardCache{m: map[string]dashboardPage{}}

func (c *dashboardCache) get(key string, now time.Time) (dashboardPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pg, ok := c.m[key]
	if !ok || now.Sub(pg.AsOf) > dashboardTTL {
		return dashboardPage{}, false
	}
	return pg, true
}

func (c *dashboardCache) put(key string, pg dashboardPage, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, old := range c.m { // drop the stale ones, so the map stays small
		if now.Sub(old.AsOf) > dashboardTTL {
			delete(c.m, k)
		}
	}
	c.m[key] = pg
}

var regionCode = regexp.MustCompile(`^[0-9]{6}([0-9]{3}([0-9]{3})?)?$`)

// ratingsDashboard is the managers' statistics page.
func (p *Portal) ratingsDashboard(v *view) error {
	m, err := p.ratingsModule()
	if err != nil {
		return err
	}
	tz, err := m.Location(v.ctx)
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	region := v.r.URL.Query().Get("region")
	if !regionCode.MatchString(region) {
		region = ""
	}
	now := time.Now()
	key := v.tenant.ID.String() + "/" + region
	pg, ok := dashboards.get(key, now)
	if !ok {
		pg = dashboardPage{Region: region, AsOf: now}
		if pg.Trend, err = ratings.GetStats(v.ctx, r, ratings.StatsFilter{By: ratings.ByDay, From: now.AddDate(0, 0, -30)}, tz); err != nil {
			return err
		}
		if pg.Depts, err = ratings.GetStats(v.ctx, r, ratings.StatsFilter{By: ratings.ByDepartment, Region: region}, tz); err != nil {
			return err
		}
		pg.Regions, err = ratings.GetStats(v.ctx, r, ratings.StatsFilter{By: ratings.ByRegion, Region: region}, tz)
		if pe, ok := problem.As(err); ok && pe.Status < 500 {
			pg.RegionErr = v.problemText(err)
		} else if err != nil {
			return err
		}
		dashboards.put(key, pg, now)
	}
	if region != "" {
		switch len(region) {
		case 12:
			pg.Up = region[:9]
		case 9:
			pg.Up = region[:6]
		}
	}
	pg.TrendChart = trendChart(pg.Trend, v.t("dash.trend"))
	pg.DeptChart = levelsChart(pg.Depts, v.t("dash.depts"))
	v.render(http.StatusOK, "ratings_dashboard", v.t("dash.title"), pg)
	return nil
}

// exportRatings serves the ratings module's Excel export of the
// statistics by department or region.
func (p *Portal) exportRatings(v *view) error {
	m, err := p.ratingsModule()
	if err != nil {
		return err
	}
	tz, err := m.Location(v.ctx)
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	q := v.r.URL.Query()
	f := ratings.StatsFilter{By: ratings.ByDepartment}
	if q.Get("by") == ratings.ByRegion {
		f.By = ratings.ByRegion
	}
	if reg := q.Get("region"); regionCode.MatchString(reg) {
		f.Region = reg
	}
	st, err := ratings.GetStats(v.ctx, r, f, tz)
	if err != nil {
		return err
	}
	raw, err := ratings.StatsWorkbook(st)
	if err != nil {
		return err
	}
	h := v.w.Header()
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ratings-%s.xlsx"`, f.By))
	h.Set("Cache-Control", "private, no-store")
	_, _ = v.w.Write(raw)
	return nil
}

// levelColours are the five levels' colours, 非常满意 first; each has a
// contrast of at least 3:1 on white.
var levelColours = [5]string{"#1a7f37", "#4a8f2a", "#8a6d00", "#c2410c", "#b91c1c"}

// trendChart draws the daily satisfaction rate as bars, 0–100 %.
func trendChart(st ratings.Stats, title string) template.HTML {
	const w, h, pad = 640, 200, 28
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h+pad, html.EscapeString(title))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#555"/>`, pad, h, w, h)
	for _, pct := range []int{50, 100} {
		y := h - (h-pad)*pct/100
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/><text x="0" y="%d" font-size="11" fill="#333">%d%%</text>`, pad, y, w, y, y+4, pct)
	}
	n := len(st.Rows)
	if n > 0 {
		bw := float64(w-pad) / float64(n)
		for i, r := range st.Rows {
			bh := float64(h-pad) * r.SatisfactionRate
			x := float64(pad) + bw*float64(i) + bw*0.1
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %.1f%%</title></rect>`,
				x, float64(h)-bh, bw*0.8, bh, levelColours[0], html.EscapeString(r.Key), r.SatisfactionRate*100)
			if i == 0 || i == n-1 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" fill="#333">%s</text>`, x, h+16, html.EscapeString(strings.TrimPrefix(r.Key, r.Key[:min(5, len(r.Key))])))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// levelsChart draws each department's ratings as a bar split by level.
func levelsChart(st ratings.Stats, title string) template.HTML {
	const w, label, rowH = 640, 180, 26
	h := rowH*len(st.Rows) + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, html.EscapeString(title))
	for i, r := range st.Rows {
		y := i*rowH + 2
		name := []rune(r.Name)
		if len(name) > 12 {
			name = append(name[:11], '…')
		}
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="13" fill="#222">%s</text>`, y+17, html.EscapeString(string(name)))
		if r.Total == 0 {
			continue
		}
		x := float64(label)
		for l, n := range []int{r.VerySatisfied, r.Satisfied, r.Basic, r.Dissatisfied, r.VeryDissatisfied} {
			bw := float64(w-label) * float64(n) / float64(r.Total)
			if bw > 0 {
				fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %d</title></rect>`,
					x, y, bw, rowH-6, levelColours[l], ratings.LevelNames[5-l], n)
			}
			x += bw
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
