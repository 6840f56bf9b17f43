package portal

import (
	"context"
	"net/http"
	"slices"
	"time"

	"yamen/modules/ratings"
	"yamen/tenants"
)

// secondRateCase records the citizen's 二次评价 of the department's
// rectification, which closes it.
func (p *Portal) secondRateCase(v *view) error {
	form := caseFormOf(v)
	if !slices.Contains(secondOptions, form.Second) {
		return p.renderCase(v, http.StatusUnprocessableEntity, "second", form,
			formErrors{Fields: map[string]string{"rating": v.t("case.second.required")}})
	}
	m, err := p.ratingsModule()
	if err != nil {
		return err
	}
	who := ratings.CitizenRater(*v.person)
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		_, err := m.RateSecond(ctx, tx, v.r.PathValue("case"), ratings.SecondRatingInput{Rating: form.Second}, who, time.Now())
		return err
	})
	if err != nil {
		return p.caseRefusal(v, err, "second", form)
	}
	return p.caseDone(v, "second_rated")
}
