package portal

import (
	"context"
	"net/http"
	"time"

	"yamen/modules/ratings"
	"yamen/tenants"
)

// provincePage is the reconciliation with the provincial 好差评 system
// (seed 004 评价汇聚): what the province has not acknowledged, oldest
// first, with why and when it is tried next.
type provincePage struct {
	Pending    []ratings.PendingUpload
	Configured bool
	// CanResend says the person holds ratings:configure.
	CanResend bool
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
	v.render(http.StatusOK, "ratings_province", v.t("province.title"),
		provincePage{Pending: pending, Configured: len(s.Province) > 0, CanResend: v.holds("ratings:configure")})
	return nil
}

// resendUploads makes everything unacknowledged due at once, for when the
// province is back before the retry waits are over.
func (p *Portal) resendUploads(v *view) error {
	m, err := p.ratingsModule()
	if err != nil {
		return err
	}
	if err := v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		_, err := m.Reconcile(ctx, tx, time.Now())
		return err
	}); err != nil {
		return err
	}
	return v.redirect("/t/" + v.tenant.Slug + "/ratings/province?done=resent")
}
