package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"yamen/modules"
	"yamen/tenants"
)

type listAuditInput struct {
	TenantPath
	Action  string `query:"action" maxLength:"100" doc:"如 org.move (e.g. org.move)"`
	Subject string `query:"subject" maxLength:"100"`
	Before  int64  `query:"before" minimum:"0" doc:"从此编号之前继续，最新的在前 (continue before this id; newest first)"`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

func (s *Server) registerAudit(r *modules.Router) {
	modules.Register(r, "audit:read", huma.Operation{
		OperationID: "list-audit", Method: http.MethodGet, Path: "/audit", Summary: "审计日志 The audit log",
	}, func(ctx context.Context, in *listAuditInput) (*Body[[]tenants.AuditEntry], error) {
		return inTenantRead(s, ctx, func(tx tenants.Querier) ([]tenants.AuditEntry, error) {
			es, err := tenants.ListAudit(ctx, tx, tenants.AuditFilter{Action: in.Action, Subject: in.Subject, Before: in.Before, Limit: in.Limit})
			return nonNil(es), err
		})
	})
}
