package api

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// listAuditInput carries the filter as text: tenants.AuditQuery checks it,
// so that one answer names every bad parameter.
type listAuditInput struct {
	TenantPath
	Action  string `query:"action" doc:"操作名（如 org.move），或以 .* 结尾的前缀（如 org.*），最多 100 个字符 (an action such as org.move, or a prefix ending in .* such as org.*; at most 100 characters)"`
	Subject string `query:"subject" doc:"操作者，即记录的 subject（如 tenant_key:…），最多 200 个字符 (who acted: the records' subject, such as tenant_key:…; at most 200 characters)"`
	From    string `query:"from" doc:"起始时间（含），RFC 3339，如 2026-01-02T08:00:00+08:00 (earliest time, inclusive; RFC 3339)"`
	To      string `query:"to" doc:"截止时间（不含），须晚于 from，RFC 3339 (latest time, exclusive, after from; RFC 3339)"`
	Before  int64  `query:"before" doc:"从此编号之前继续，最新的在前：取上一页最后一条的 id (continue before this id, newest first: the id of the previous page's last entry)"`
	Limit   int    `query:"limit" default:"100" doc:"每页条数，1 到 500 (entries per page, 1 to 500)"`
}

func (s *Server) registerAudit(r *modules.Router) {
	modules.Register(r, "audit:read", modules.TenantWide(rowsAudit, huma.Operation{
		OperationID: "list-audit", Method: http.MethodGet, Path: "/audit", Summary: "审计日志 The audit log",
		Description: "Newest first, filtered by action, subject and time; page with `before`. Every record is a link of the tenant's HMAC-SM3 chain; `yamen audit verify` checks it.",
	}), func(ctx context.Context, in *listAuditInput) (*Body[[]tenants.AuditEntry], error) {
		f, err := tenants.AuditQuery{Action: in.Action, Subject: in.Subject, From: in.From, To: in.To, Before: in.Before, Limit: in.Limit}.Filter()
		if err != nil {
			return nil, err
		}
		return inTenantRead(s, ctx, func(tx tenants.Querier) ([]tenants.AuditEntry, error) {
			es, err := tenants.ListAudit(ctx, tx, f)
			return nonNil(es), err
		})
	})
}

// maxPurposeLen is the longest purpose a sensitive read may state, in characters.
const maxPurposeLen = 200

// actionSensitiveRead is the audit action of a read through an operation
// marked modules.Sensitive.
const actionSensitiveRead = "read.sensitive"

// sensitiveRead lets an operation marked modules.Sensitive through only with
// a stated purpose (query parameter purpose: not blank, at most 200
// characters; PIPL 个人信息 access), and records the read with its purpose
// in the tenant's audit log before the operation runs: a read that cannot be
// recorded does not happen. Other operations pass untouched.
func (a *access) sensitiveRead(c context.Context, hc huma.Context, op *huma.Operation) error {
	if on, _ := op.Metadata[modules.MetaSensitive].(bool); !on {
		return nil
	}
	purpose := hc.Query("purpose")
	if strings.TrimSpace(purpose) == "" || !utf8.ValidString(purpose) || utf8.RuneCountInString(purpose) > maxPurposeLen {
		return problem.InvalidField("query.purpose", "查阅敏感信息须说明用途（1 到 200 个字符） (reading sensitive records needs a stated purpose: 1 to 200 characters)", purpose)
	}
	t, subject := requestParties(c)
	if t.ID == uuid.Nil {
		return problem.Forbidden("敏感信息只能在租户内查阅 (sensitive records are read inside a tenant)")
	}
	details := map[string]any{"operation": op.OperationID, "purpose": purpose}
	u := hc.URL()
	if q := u.Query(); len(q) > 1 {
		q.Del("purpose")
		details["query"] = q.Encode()
	}
	return a.db.Tx(c, t.ID, subject.String(), func(tx *tenants.Tx) error {
		return tenants.Audit(c, tx, actionSensitiveRead, u.Path, details)
	})
}
