package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

type handoverInput struct {
	MemberPath
	Body struct {
		To uuid.UUID `json:"to" doc:"接手的人员 (the member who takes the work over)"`
	}
}

// Handover is what a handover moved, by module.
type Handover struct {
	From  uuid.UUID      `json:"from"`
	To    uuid.UUID      `json:"to"`
	Moved map[string]int `json:"moved" doc:"各模块移交的记录数 (records moved, by module)"`
}

func (s *Server) registerHandover(r *modules.Router) {
	modules.Register(r, "members:handover", huma.Operation{
		OperationID: "handover-member", Method: http.MethodPost, Path: "/members/{member}/handover",
		Summary:     "工作移交 Hand a member's work over",
		Description: "Seed 002: when an officer moves, what is assigned to them goes to another member, every enabled module's records in one audited transaction.",
	}, func(ctx context.Context, in *handoverInput) (*Body[Handover], error) {
		if in.Body.To == in.Member {
			return nil, problem.InvalidField("body.to", "不能移交给本人 (cannot hand over to the same member)", in.Body.To)
		}
		t, subject := requestParties(ctx)
		enabled, err := s.access.moduleSet(ctx, t, subject)
		if err != nil {
			return nil, err
		}
		return inTenant(s, ctx, func(tx *tenants.Tx) (Handover, error) {
			if _, err := tenants.GetMember(ctx, tx, in.Member); err != nil {
				return Handover{}, err
			}
			to, err := tenants.GetMember(ctx, tx, in.Body.To)
			if pe, ok := problem.As(err); ok && pe.Status == http.StatusNotFound {
				return Handover{}, problem.InvalidField("body.to", "接手人员不存在 (no such member)", in.Body.To)
			}
			if err != nil {
				return Handover{}, err
			}
			if to.Status != "active" {
				return Handover{}, problem.InvalidField("body.to", "接手人员已停用 (the member is inactive)", in.Body.To)
			}
			h := Handover{From: in.Member, To: in.Body.To, Moved: map[string]int{}}
			for _, m := range s.reg.All() {
				hp, ok := m.(modules.HandoverProvider)
				if !ok || !enabled[m.Module().ID] {
					continue
				}
				n, err := hp.Handover(ctx, tx, in.Member, in.Body.To)
				if err != nil {
					return Handover{}, err
				}
				h.Moved[m.Module().ID] = n
			}
			moved := map[string]any{}
			for k, v := range h.Moved {
				moved[k] = v
			}
			return h, tenants.Audit(ctx, tx, "member.handover", in.Member.String(), map[string]any{"to": in.Body.To, "moved": moved})
		})
	})
}
