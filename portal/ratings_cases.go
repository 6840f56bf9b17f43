package portal

import (
	"net/http"

	"yamen/modules/ratings"
)

// myCases lists the citizen's finished cases in the tenant with their
// ratings, newest first.
func (p *Portal) myCases(v *view) error {
	r, err := v.reader()
	if err != nil {
		return err
	}
	cs, err := ratings.ListCitizenCases(v.ctx, r, v.citizenIdentity(), 100)
	if err != nil {
		return err
	}
	v.render(http.StatusOK, "my_cases", v.t("cases.title"), cs)
	return nil
}
