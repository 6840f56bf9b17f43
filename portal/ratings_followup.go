package portal

import (
	"context"
	"net/http"
	"strings"
	"time"

	"yamen/modules/ratings"
	"yamen/tenants"
)

// followUpCase records the citizen's 追加评价; after the allowed working
// days the module's refusal (until when it was open) shows on the page.
func (p *Portal) followUpCase(v *view) error {
	form := caseFormOf(v)
	form.Comment = strings.TrimSpace(form.Comment)
	fe := formErrors{Fields: map[string]string{}}
	switch {
	case form.Comment == "":
		fe.Fields["comment"] = v.t("case.followup.required")
	case len([]rune(form.Comment)) > maxComment:
		fe.Fields["comment"] = v.t("field.too_long", maxComment)
	}
	if fe.Any() {
		return p.renderCase(v, http.StatusUnprocessableEntity, "follow-up", form, fe)
	}
	m, err := p.ratingsModule()
	if err != nil {
		return err
	}
	in := ratings.FollowUpInput{Comment: form.Comment}
	if form.Level >= 1 && form.Level <= 5 {
		l := form.Level
		in.Level = &l
		in.Tags = form.tagList()
	}
	who := ratings.CitizenRater(*v.person)
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		_, err := m.AddFollowUp(ctx, tx, v.r.PathValue("case"), in, who, time.Now())
		return err
	})
	if err != nil {
		return p.caseRefusal(v, err, "follow-up", form)
	}
	return p.caseDone(v, "followed_up")
}
