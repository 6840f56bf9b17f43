package portal

import (
	"net/http"
	"time"

	"yamen/modules/ratings"
)

// ratingsSummary is the tenant's 好差评公示: the last year's figures and
// the closed rectifications with their second ratings, nobody's personal
// data.
func (p *Portal) ratingsSummary(v *view) error {
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
	s, err := ratings.GetPublicSummary(v.ctx, r, time.Now(), tz)
	if err != nil {
		return err
	}
	v.render(http.StatusOK, "ratings_public", v.t("summary.title"), s)
	return nil
}
