package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"yamen/modules"
	"yamen/tenants"
)

type regionsInput struct {
	Parent string `query:"parent" pattern:"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$" doc:"上级区划；缺省为顶层 (the parent region; the top level when absent)"`
}

// registerReference adds the jurisdiction-wide reference data anyone may read.
func (s *Server) registerReference(r *modules.Router) {
	modules.Register(r, "public", huma.Operation{
		OperationID: "get-jurisdiction", Method: http.MethodGet, Path: "/jurisdiction", Summary: "本辖区 This jurisdiction",
	}, func(ctx context.Context, _ *struct{}) (*Body[tenants.Jurisdiction], error) {
		j, err := s.db.GetJurisdiction(ctx)
		if err != nil {
			return nil, err
		}
		return &Body[tenants.Jurisdiction]{j}, nil
	})
	modules.Register(r, "public", huma.Operation{
		OperationID: "list-regions", Method: http.MethodGet, Path: "/regions", Summary: "行政区划 Regions",
	}, func(ctx context.Context, in *regionsInput) (*Body[[]tenants.Region], error) {
		rs, err := s.db.Regions(ctx, in.Parent)
		if err != nil {
			return nil, err
		}
		return &Body[[]tenants.Region]{nonNil(rs)}, nil
	})
}
