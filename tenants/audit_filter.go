package tenants

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"yamen/problem"
)

// AuditQuery is an audit filter as a caller spells it: the query parameters
// of GET /v1/t/{tenant}/audit, before checking. Empty strings do not narrow;
// Limit must be 1 to 500.
type AuditQuery struct {
	Action  string
	Subject string
	From    string
	To      string
	Before  int64
	Limit   int
}

// Limits of AuditQuery.
const (
	maxAuditActionLen  = 100
	maxAuditSubjectLen = 200
	maxAuditLimit      = 500
)

// auditActionPattern is an action ("org.move", "read.sensitive"), or a
// prefix of one ending in ".*" ("org.*"); "*" alone is handled apart.
var auditActionPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*([.:][a-z0-9_-]+)*(\.\*)?$`)

// Filter checks q and returns the filter it asks for, or a 422 that names
// every bad parameter (query.action, query.subject, query.from, query.to,
// query.before, query.limit).
func (q AuditQuery) Filter() (AuditFilter, error) {
	f := AuditFilter{Action: q.Action, Subject: q.Subject, Before: q.Before, Limit: q.Limit}
	var bad []problem.Field
	fault := func(loc, msg string, v any) { bad = append(bad, problem.Field{Location: loc, Message: msg, Value: v}) }

	if q.Action != "" && q.Action != "*" {
		if len(q.Action) > maxAuditActionLen || !auditActionPattern.MatchString(q.Action) {
			fault("query.action", "须为操作名（如 org.move）或以 .* 结尾的前缀（如 org.*），不超过 100 个字符 (want an action such as org.move, or a prefix ending in .* such as org.*; at most 100 characters)", q.Action)
		}
	}
	if q.Subject != "" && !validSubject(q.Subject) {
		fault("query.subject", "须为不超过 200 个字符的可见文字 (want at most 200 printable characters)", q.Subject)
	}
	var err error
	if q.From != "" {
		if f.From, err = parseAuditTime(q.From); err != nil {
			fault("query.from", "须为 RFC 3339 时间，如 2026-01-02T08:00:00+08:00 (want an RFC 3339 time)", q.From)
		}
	}
	if q.To != "" {
		if f.To, err = parseAuditTime(q.To); err != nil {
			fault("query.to", "须为 RFC 3339 时间，如 2026-01-02T18:00:00+08:00 (want an RFC 3339 time)", q.To)
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		fault("query.to", "须晚于 from (must be later than from)", q.To)
	}
	if q.Before < 0 {
		fault("query.before", "不能为负数 (must not be negative)", q.Before)
	}
	if q.Limit < 1 || q.Limit > maxAuditLimit {
		fault("query.limit", "须在 1 到 500 之间 (must be between 1 and 500)", q.Limit)
	}
	if len(bad) > 0 {
		return AuditFilter{}, problem.Invalid(bad...)
	}
	return f, nil
}

func validSubject(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxAuditSubjectLen {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

// parseAuditTime reads an RFC 3339 time (fractions of a second allowed);
// PostgreSQL keeps microseconds, so finer fractions are cut.
func parseAuditTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC().Truncate(time.Microsecond), nil
}
