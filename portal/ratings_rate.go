package portal

import (
	"context"
	"net/http"
	"time"

	"yamen/modules/ratings"
	"yamen/tenants"
)

// rateCase records the citizen's rating of their case. 不满意 and 非常不满意
// need a tag of their level; the refusal shows at the tags.
func (p *Portal) rateCase(v *view) error {
	form := caseFormOf(v)
	fe := formErrors{Fields: map[string]string{}}
	if form.Level < 1 || form.Level > 5 {
		fe.Fields["level"] = v.t("case.level.required")
	}
	if len([]rune(form.Comment)) > maxComment {
		fe.Fields["comment"] = v.t("field.too_long", maxComment)
	}
	if fe.Any() {
		return p.renderCase(v, http.StatusUnprocessableEntity, "rate", form, fe)
	}
	m, err := p.ratingsModule()
	if err != nil {
		return err
	}
	if _, err := v.ownCase(); err != nil {
		return err
	}
	who := ratings.CitizenRater(*v.person)
	in := ratings.RateInput{Level: form.Level, Tags: form.tagList(), Comment: form.Comment, Channel: "pc"}
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		_, err := m.Rate(ctx, tx, v.r.PathValue("case"), in, who, time.Now())
		return err
	})
	if err != nil {
		return p.caseRefusal(v, err, "rate", form)
	}
	return p.caseDone(v, "rated")
}
