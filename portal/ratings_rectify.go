package portal

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"yamen/modules/ratings"
	"yamen/problem"
	"yamen/tenants"
)

// The managers' rectification queue: each bad rating with its deadline
// (the overdue ones marked), and the page to report back on one.

type rectsPage struct {
	Rects   []rectRow
	Status  string
	Overdue bool
	States  []string
}

type rectRow struct {
	ratings.Rectification
	Late bool
}

// listRectifications is the queue, newest first, by status or overdue.
func (p *Portal) listRectifications(v *view) error {
	q := v.r.URL.Query()
	f := ratings.RectificationFilter{Status: q.Get("status"), Overdue: q.Get("overdue") == "1", Limit: 100}
	states := []string{"open", "fed_back", "appealed", "closed"}
	if !slices.Contains(states, f.Status) {
		f.Status = ""
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	now := time.Now()
	rs, err := ratings.ListRectifications(v.ctx, r, f, now)
	if err != nil {
		return err
	}
	pg := rectsPage{Status: f.Status, Overdue: f.Overdue, States: states}
	for _, x := range rs {
		pg.Rects = append(pg.Rects, rectRow{Rectification: x, Late: x.Status == "open" && x.Deadline.Before(now)})
	}
	v.render(http.StatusOK, "rectifications", v.t("rects.title"), pg)
	return nil
}

type rectPage struct {
	Rect     ratings.Rectification
	Late     bool
	Outcomes []string
	Errors   formErrors
	Outcome  string
	Feedback string
	// CanAnswer says the person holds ratings:rectify.
	CanAnswer bool
}

// showRectification is one rectification with the form to report back.
func (p *Portal) showRectification(v *view) error {
	return p.renderRectification(v, http.StatusOK, formErrors{}, "", "")
}

func (p *Portal) renderRectification(v *view, status int, fe formErrors, outcome, feedback string) error {
	r, err := v.reader()
	if err != nil {
		return err
	}
	rect, err := ratings.GetRectification(v.ctx, r, v.r.PathValue("case"))
	if err != nil {
		return err
	}
	pg := rectPage{Rect: rect, Late: rect.Status == "open" && rect.Deadline.Before(time.Now()), Outcomes: outcomeOptions,
		Errors: fe, Outcome: outcome, Feedback: feedback, CanAnswer: v.holds("ratings:rectify")}
	v.render(status, "rectification", v.t("rect.title", rect.CaseNo), pg)
	return nil
}

// holds says the staff member's roles grant action.
func (v *view) holds(action string) bool {
	if v.actor == nil {
		return false
	}
	module := action[:strings.Index(action, ":")+1] + "*"
	for _, r := range v.actor.Roles {
		for _, p := range r.Permissions {
			if p == action || p == tenants.AllPermissions || p == module {
				return true
			}
		}
	}
	return false
}

// maxFeedback bounds a department's feedback, in characters (as the API).
const maxFeedback = 2000

// answerRectification records the department's feedback: rectified at
// once, by the deadline, explained, or appealed.
func (p *Portal) answerRectification(v *view) error {
	outcome := v.r.PostFormValue("outcome")
	feedback := strings.TrimSpace(v.r.PostFormValue("feedback"))
	fe := formErrors{Fields: map[string]string{}}
	if !slices.Contains(outcomeOptions, outcome) {
		fe.Fields["outcome"] = v.t("rect.outcome.required")
	}
	switch {
	case feedback == "":
		fe.Fields["feedback"] = v.t("rect.feedback.required")
	case len([]rune(feedback)) > maxFeedback:
		fe.Fields["feedback"] = v.t("field.too_long", maxFeedback)
	}
	if fe.Any() {
		return p.renderRectification(v, http.StatusUnprocessableEntity, fe, outcome, feedback)
	}
	m, err := p.ratingsModule()
	if err != nil {
		return err
	}
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		_, err := m.GiveFeedback(ctx, tx, v.r.PathValue("case"), ratings.Feedback{Outcome: outcome, Feedback: feedback}, time.Now())
		return err
	})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		fe, _ := v.errorsOf(err)
		return p.renderRectification(v, pe.Status, fe, outcome, feedback)
	}
	if err != nil {
		return err
	}
	return v.redirect("/t/" + v.tenant.Slug + "/ratings/rectifications/" + v.r.PathValue("case") + "?done=fed_back")
}
