package tenants

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
)

// Actor is a member as the policy needs them: where they sit and what their
// roles grant; for an auxiliary (辅警), also their sponsoring officer.
type Actor struct {
	Member   Member
	OrgKind  string
	OrgDepth int
	Roles    []Role
	Sponsor  *Actor
}

// ActorByIdentity finds the active member signed in as a Kratos identity.
// Someone who is not an active member of the tenant gets a 404: a tenant a
// person does not belong to does not exist for them.
func ActorByIdentity(ctx context.Context, q Querier, identity uuid.UUID) (Actor, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, "SELECT id FROM members WHERE identity_id = $1 AND status = 'active'", identity).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Actor{}, problem.NotFound("租户不存在或您不是其在职人员 (no such tenant, or you are not active staff of it)")
	}
	if err != nil {
		return Actor{}, fmt.Errorf("tenants: member of identity: %w", err)
	}
	return actor(ctx, q, id, true)
}

func actor(ctx context.Context, q Querier, id uuid.UUID, withSponsor bool) (Actor, error) {
	m, err := GetMember(ctx, q, id)
	if err != nil {
		return Actor{}, err
	}
	a := Actor{Member: m}
	if err := q.QueryRow(ctx, "SELECT kind, nlevel(path) FROM orgs WHERE id = $1", m.OrgID).Scan(&a.OrgKind, &a.OrgDepth); err != nil {
		return Actor{}, fmt.Errorf("tenants: org of member %s: %w", id, err)
	}
	rows, err := q.Query(ctx, "SELECT "+roleColumns+" FROM roles WHERE id IN (SELECT role_id FROM member_roles WHERE member_id = $1) ORDER BY name", id)
	if a.Roles, err = collect("roles of member", rows, err, scanWith(scanRole)); err != nil {
		return Actor{}, err
	}
	if withSponsor && m.SponsorID != nil {
		s, err := actor(ctx, q, *m.SponsorID, false)
		if err != nil {
			return Actor{}, err
		}
		a.Sponsor = &s
	}
	return a, nil
}

// LinkIdentity makes a member sign in as a Kratos identity, or unlinks them
// when identity is nil.
func LinkIdentity(ctx context.Context, tx *Tx, member uuid.UUID, identity *uuid.UUID) (Member, error) {
	tag, err := tx.Exec(ctx, "UPDATE members SET identity_id = $2, updated_at = now() WHERE id = $1", member, identity)
	if err != nil {
		return Member{}, memberWriteError(err)
	}
	if tag.RowsAffected() == 0 {
		return Member{}, problem.NotFound("人员不存在 (no such member)")
	}
	action := "member.link"
	if identity == nil {
		action = "member.unlink"
	}
	m, err := GetMember(ctx, tx, member)
	if err != nil {
		return Member{}, err
	}
	return m, Audit(ctx, tx, action, member.String(), map[string]any{"identity_id": identity})
}
