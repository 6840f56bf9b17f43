package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"yamen/tenants"
)

type auditPage struct {
	Entries []tenants.AuditEntry
	Filter  map[string]string
	Errors  formErrors
	// Older is the link to the next page, "" on the last.
	Older string
}

// auditPageSize is how many records a page shows.
const auditPageSize = 50

// beijing is the time the filters' date boxes are read in, and the records
// shown in: the jurisdiction's.
var beijing = time.FixedZone("CST", 8*3600)

// auditTime accepts what a datetime-local box sends (no zone, read as
// Beijing time) as well as RFC 3339.
func auditTime(s string) string {
	if s == "" {
		return ""
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, beijing); err == nil {
		return t.Format(time.RFC3339)
	}
	return s
}

// listAudit reads the audit log, newest first, filtered and paged.
func (p *Portal) listAudit(v *view) error {
	q := v.r.URL.Query()
	ap := auditPage{Filter: map[string]string{"action": q.Get("action"), "subject": q.Get("subject"), "from": q.Get("from"), "to": q.Get("to")}}
	aq := tenants.AuditQuery{Action: q.Get("action"), Subject: q.Get("subject"), From: auditTime(q.Get("from")), To: auditTime(q.Get("to")), Limit: auditPageSize}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			n = -1
		}
		aq.Before = n
	}
	f, err := aq.Filter()
	status := http.StatusOK
	if err != nil {
		if ap.Errors, err = v.errorsOf(err); err != nil {
			return err
		}
		status = http.StatusUnprocessableEntity
	} else {
		r, err := p.db.Reader(v.tenant.ID, v.person.String())
		if err != nil {
			return err
		}
		if ap.Entries, err = tenants.ListAudit(v.ctx, r, f); err != nil {
			return err
		}
		if len(ap.Entries) == auditPageSize {
			next := url.Values{}
			for k, val := range ap.Filter {
				if val != "" {
					next.Set(k, val)
				}
			}
			next.Set("before", strconv.FormatInt(ap.Entries[len(ap.Entries)-1].ID, 10))
			ap.Older = "?" + next.Encode()
		}
	}
	v.render(status, "admin_audit", v.t("admin.audit"), ap)
	return nil
}
