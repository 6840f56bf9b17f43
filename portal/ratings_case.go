package portal

import (
	"net/http"
	"strconv"

	"yamen/modules/ratings"
	"yamen/problem"
)

// One case of the citizen's: rate it (five levels with their tags), then
// follow the rating up within the allowed days; after a bad rating, the
// rectification once the department reports back, and the second rating.

type casePage struct {
	Case   ratings.Case
	Rect   *ratings.Rectification
	Levels []levelTags
	Errors formErrors
	// Form is what the citizen sent, shown again with its errors.
	Form caseForm
	// Section is the form the errors belong to: rate, follow-up, second.
	Section string
	Seconds []string
}

type levelTags struct {
	Level int
	Tags  []ratings.Tag
}

type caseForm struct {
	Level   int
	Tags    map[string]bool
	Comment string
	Second  string
}

// showCase is the citizen's case page.
func (p *Portal) showCase(v *view) error {
	return p.renderCase(v, http.StatusOK, "", caseForm{}, formErrors{})
}

// ownCase reads the case when it is the citizen's; anyone else's is 404.
func (v *view) ownCase() (ratings.Case, error) {
	r, err := v.reader()
	if err != nil {
		return ratings.Case{}, err
	}
	c, err := ratings.GetCase(v.ctx, r, v.r.PathValue("case"))
	if err != nil {
		return ratings.Case{}, err
	}
	if c.CitizenID == nil || *c.CitizenID != v.citizenIdentity() {
		return ratings.Case{}, problem.NotFound("没有这个办件 (no such case)")
	}
	c.RateToken = ""
	return c, nil
}

func (p *Portal) renderCase(v *view, status int, section string, form caseForm, fe formErrors) error {
	c, err := v.ownCase()
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	pg := casePage{Case: c, Errors: fe, Form: form, Section: section, Seconds: secondOptions}
	if pg.Form.Tags == nil {
		pg.Form.Tags = map[string]bool{}
	}
	if c.RectifyStatus != nil {
		rect, err := ratings.GetRectification(v.ctx, r, c.CaseNo)
		if err != nil {
			return err
		}
		pg.Rect = &rect
	}
	if c.Rating == nil || c.FollowUp == nil {
		tags, err := ratings.ListTags(v.ctx, r)
		if err != nil {
			return err
		}
		for _, l := range levelOptions {
			lt := levelTags{Level: l}
			for _, t := range tags {
				if t.Active && t.Level == l {
					lt.Tags = append(lt.Tags, t)
				}
			}
			pg.Levels = append(pg.Levels, lt)
		}
	}
	v.render(status, "rating_case", v.t("case.title", c.ItemName), pg)
	return nil
}

// caseFormOf reads a rating form: level, tags, comment.
func caseFormOf(v *view) caseForm {
	f := caseForm{Tags: map[string]bool{}, Comment: v.r.PostFormValue("comment"), Second: v.r.PostFormValue("rating")}
	f.Level, _ = strconv.Atoi(v.r.PostFormValue("level"))
	for _, t := range v.r.PostForm["tags"] {
		f.Tags[t] = true
	}
	return f
}

func (f caseForm) tagList() []string {
	out := []string{}
	for t := range f.Tags {
		out = append(out, t)
	}
	return out
}

// maxComment bounds a rating's comment, in characters (as the API does).
const maxComment = 1000

// caseRefusal shows a refusal (4xx) on the case page at its fields; other
// errors stay errors.
func (p *Portal) caseRefusal(v *view, err error, section string, form caseForm) error {
	pe, ok := problem.As(err)
	if !ok || pe.Status >= 500 {
		return err
	}
	fe, err := v.errorsOf(err)
	if err != nil {
		return err
	}
	return p.renderCase(v, pe.Status, section, form, fe)
}

func (p *Portal) caseDone(v *view, done string) error {
	return v.redirect("/t/" + v.tenant.Slug + "/me/cases/" + v.r.PathValue("case") + "?done=" + done)
}
