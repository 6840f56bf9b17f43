package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"yamen/policy"
	"yamen/problem"
)

// Member is a staff person of a tenant.
type Member struct {
	ID         uuid.UUID   `json:"id"`
	OrgID      uuid.UUID   `json:"org_id"`
	Name       string      `json:"name"`
	Email      *string     `json:"email"`
	Phone      *string     `json:"phone"`
	BadgeNo    *string     `json:"badge_no"`
	IdentityID *uuid.UUID  `json:"identity_id" doc:"登录所用的 Kratos 身份 (the Kratos identity the member signs in as)"`
	SponsorID  *uuid.UUID  `json:"sponsor_id" doc:"辅警所挂靠的民警 (the officer an auxiliary hangs under)"`
	Status     string      `json:"status" enum:"active,inactive"`
	RoleIDs    []uuid.UUID `json:"role_ids"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

const memberColumns = `id, org_id, name, email, phone, badge_no, identity_id, sponsor_id, status,
	coalesce((SELECT array_agg(role_id ORDER BY role_id) FROM member_roles mr WHERE mr.member_id = members.id), '{}'),
	created_at, updated_at`

func scanMember(row pgx.Row) (Member, error) {
	var m Member
	err := row.Scan(&m.ID, &m.OrgID, &m.Name, &m.Email, &m.Phone, &m.BadgeNo, &m.IdentityID, &m.SponsorID, &m.Status, &m.RoleIDs, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

// NewMember is what adding a member takes.
type NewMember struct {
	OrgID     uuid.UUID
	Name      string
	Email     *string
	Phone     *string
	BadgeNo   *string
	SponsorID *uuid.UUID
	RoleIDs   []uuid.UUID
}

// CreateMember adds a member and grants their roles.
func CreateMember(ctx context.Context, tx *Tx, n NewMember) (Member, error) {
	id := uuid.New()
	if _, err := tx.Exec(ctx, `INSERT INTO members (tenant_id, id, org_id, name, email, phone, badge_no, sponsor_id)
		VALUES (current_tenant(), $1, $2, $3, $4, $5, $6, $7)`,
		id, n.OrgID, n.Name, n.Email, n.Phone, n.BadgeNo, n.SponsorID); err != nil {
		return Member{}, memberWriteError(err)
	}
	if err := setMemberRoles(ctx, tx, id, n.RoleIDs); err != nil {
		return Member{}, err
	}
	m, err := GetMember(ctx, tx, id)
	if err != nil {
		return Member{}, err
	}
	return m, Audit(ctx, tx, "member.create", id.String(), map[string]any{"name": m.Name, "org_id": m.OrgID, "role_ids": m.RoleIDs})
}

// GetMember returns one member.
func GetMember(ctx context.Context, tx Querier, id uuid.UUID) (Member, error) {
	m, err := scanMember(tx.QueryRow(ctx, "SELECT "+memberColumns+" FROM members WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Member{}, problem.NotFound("人员不存在 (no such member)")
	}
	if err != nil {
		return Member{}, fmt.Errorf("tenants: member %s: %w", id, err)
	}
	return m, nil
}

// MemberColumns are what a member's row is scoped by: their org, and for
// "self" the member.
var MemberColumns = policy.Columns{Org: "org_id", Owner: "id"}

// GetMemberWithin reads one member the way ListMembers would list it: a
// member outside scope does not exist for the caller (404), so reading by id
// shows no more than the list does.
func GetMemberWithin(ctx context.Context, q Querier, scope policy.Scope, id uuid.UUID) (Member, error) {
	where, args := scope.Where(MemberColumns, 2)
	m, err := scanMember(q.QueryRow(ctx, "SELECT "+memberColumns+" FROM members WHERE id = $1 AND "+where, append([]any{id}, args...)...))
	if errors.Is(err, pgx.ErrNoRows) {
		return Member{}, problem.NotFound("人员不存在 (no such member)")
	}
	if err != nil {
		return Member{}, fmt.Errorf("tenants: member %s: %w", id, err)
	}
	return m, nil
}

// MemberFilter narrows ListMembers.
type MemberFilter struct {
	// OrgID with Subtree lists the members of an org and everything under it.
	OrgID   *uuid.UUID
	Subtree bool
	Query   string
	After   *uuid.UUID
	Limit   int
}

// ListMembers lists the members scope lets the caller see, in id order. A
// member's rows are scoped by their org, and "self" is the member.
func ListMembers(ctx context.Context, tx Querier, scope policy.Scope, f MemberFilter) ([]Member, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	where, args := scope.Where(MemberColumns, 7)
	rows, err := tx.Query(ctx, "SELECT "+memberColumns+` FROM members
		WHERE ($1::uuid IS NULL OR ($2 AND org_id IN (SELECT id FROM orgs WHERE path <@ (SELECT path FROM orgs WHERE id = $1)))
		                        OR (NOT $2 AND org_id = $1))
		  AND ($3 = '' OR name LIKE '%' || $6 || '%' OR phone = $3 OR email = $3 OR badge_no = $3)
		  AND ($4::uuid IS NULL OR id > $4)
		  AND `+where+`
		ORDER BY id LIMIT $5`, append([]any{f.OrgID, f.Subtree, f.Query, f.After, f.Limit, likeEscaper.Replace(f.Query)}, args...)...)
	return collect("list members", rows, err, scanWith(scanMember))
}

// MemberUpdate changes a member; nil fields stay.
type MemberUpdate struct {
	OrgID     *uuid.UUID
	Name      *string
	Email     *string
	Phone     *string
	BadgeNo   *string
	SponsorID *uuid.UUID
	Status    *string
	RoleIDs   *[]uuid.UUID
	// Clear names optional fields to empty: email, phone, badge_no,
	// sponsor_id (an auxiliary who becomes a regular member).
	Clear []string
}

// UpdateMember changes a member and, when given, replaces their roles.
func UpdateMember(ctx context.Context, tx *Tx, id uuid.UUID, u MemberUpdate) (Member, error) {
	if u.Clear == nil {
		u.Clear = []string{}
	}
	tag, err := tx.Exec(ctx, `UPDATE members SET org_id = coalesce($2, org_id), name = coalesce($3, name),
			email = CASE WHEN 'email' = ANY($9) THEN NULL ELSE coalesce($4, email) END,
			phone = CASE WHEN 'phone' = ANY($9) THEN NULL ELSE coalesce($5, phone) END,
			badge_no = CASE WHEN 'badge_no' = ANY($9) THEN NULL ELSE coalesce($6, badge_no) END,
			sponsor_id = CASE WHEN 'sponsor_id' = ANY($9) THEN NULL ELSE coalesce($7, sponsor_id) END,
			status = coalesce($8::member_status, status), updated_at = now()
		WHERE id = $1`, id, u.OrgID, u.Name, u.Email, u.Phone, u.BadgeNo, u.SponsorID, u.Status, u.Clear)
	if err != nil {
		return Member{}, memberWriteError(err)
	}
	if tag.RowsAffected() == 0 {
		return Member{}, problem.NotFound("人员不存在 (no such member)")
	}
	if u.RoleIDs != nil {
		if _, err := tx.Exec(ctx, "DELETE FROM member_roles WHERE member_id = $1", id); err != nil {
			return Member{}, fmt.Errorf("tenants: replace roles: %w", err)
		}
		if err := setMemberRoles(ctx, tx, id, *u.RoleIDs); err != nil {
			return Member{}, err
		}
	}
	m, err := GetMember(ctx, tx, id)
	if err != nil {
		return Member{}, err
	}
	return m, Audit(ctx, tx, "member.update", id.String(), map[string]any{"org_id": u.OrgID, "name": u.Name, "status": u.Status, "role_ids": u.RoleIDs, "cleared": u.Clear})
}

// DeleteMember removes a member; auxiliaries they sponsor must be moved first.
func DeleteMember(ctx context.Context, tx *Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM members WHERE id = $1", id)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return problem.Conflict("仍有辅警挂靠在该人员名下，不能删除 (auxiliaries still hang under this member)")
		}
		return fmt.Errorf("tenants: delete member: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return problem.NotFound("人员不存在 (no such member)")
	}
	return Audit(ctx, tx, "member.delete", id.String(), nil)
}

// likeEscaper makes a search term match itself under LIKE.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

func setMemberRoles(ctx context.Context, tx *Tx, member uuid.UUID, roles []uuid.UUID) error {
	if len(roles) == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, `INSERT INTO member_roles (tenant_id, member_id, role_id)
		SELECT current_tenant(), $1, r.id FROM roles r WHERE r.id = ANY($2)`, member, roles)
	if err != nil {
		return fmt.Errorf("tenants: grant roles: %w", err)
	}
	if int(tag.RowsAffected()) != len(uniq(roles)) {
		return problem.InvalidField("body.role_ids", "包含不存在的角色 (names a role that does not exist)", roles)
	}
	return nil
}

func memberWriteError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23503" && pgErr.ConstraintName == "members_tenant_id_org_id_fkey":
			return problem.InvalidField("body.org_id", "组织不存在 (no such org)", nil)
		case pgErr.Code == "23503" && pgErr.ConstraintName == "members_tenant_id_sponsor_id_fkey":
			return problem.InvalidField("body.sponsor_id", "挂靠民警不存在 (no such sponsoring member)", nil)
		case pgErr.Code == "23514" && pgErr.ConstraintName == "members_check":
			return problem.InvalidField("body.sponsor_id", "不能挂靠在自己名下 (a member cannot sponsor themselves)", nil)
		case pgErr.Code == "23505":
			return problem.Conflict("该身份已关联到其他人员 (the identity is linked to another member)")
		}
	}
	return fmt.Errorf("tenants: write member: %w", err)
}
