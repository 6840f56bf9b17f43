package portal

import (
	"net/http"

	"yamen/modules/ratings"
)

// provincePage is the reconciliation with the provincial 好差评 system
// (seed 004 评价汇聚): what the province has not acknowledged, oldest
// first, with why and when it is tried next.
type provincePage struct {
	Pending    []ratings.PendingUpload
	Configured bool
}

// provinceUploads lists the events the province has not acknowledged.
func (p *Portal) provinceUploads(v *view) error {
	r, err := v.reader()
	if err != nil {
		return err
	}
	s, err := ratings.LoadSettings(v.ctx, r)
	if err != nil {
		return err
	}
	pending, err := ratings.Unacknowledged(v.ctx, r, 200)
	if err != nil {
		return err
	}
	v.render(http.StatusOK, "ratings_province", v.t("province.title"), provincePage{Pending: pending, Configured: len(s.Province) > 0})
	return nil
}
