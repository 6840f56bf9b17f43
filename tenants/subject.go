package tenants

import (
	"context"

	"github.com/google/uuid"
)

// SubjectKind says what kind of caller a subject is.
type SubjectKind string

// The kinds of subject.
const (
	SubjectPlatformKey  SubjectKind = "platform_key"
	SubjectTenantKey    SubjectKind = "tenant_key"
	SubjectMember       SubjectKind = "member"
	SubjectCitizen      SubjectKind = "citizen"
	SubjectIntermediary SubjectKind = "intermediary"
	SubjectSystem       SubjectKind = "system"
	// SubjectAnonymous is nobody in particular: a caller of a public
	// operation who presented no credentials.
	SubjectAnonymous SubjectKind = "anonymous"
)

// Subject is who is calling.
type Subject struct {
	Kind SubjectKind
	ID   uuid.UUID
	// TenantID is the tenant a tenant key or a member belongs to.
	TenantID uuid.UUID
	Name     string
	// Scopes are the actions a key may perform; "*" is every action.
	Scopes []string
	// IdentityID is the Ory Kratos identity of a person signed in. For
	// staff, ID is the member they are in the tenant of the request, and
	// uuid.Nil until that tenant is known.
	IdentityID uuid.UUID
	// Session is the Kratos session a person acts through.
	Session string
	// Phone is a citizen's or intermediary's phone number (a trait), for
	// the modules that contact them (booking's reminders).
	Phone string
	// RealNameLevel is a citizen's real-name level (实名等级: none,
	// real_name, real_person, in_person), from their identity's public
	// metadata, which only Yamen writes.
	RealNameLevel string
}

// System is the subject of work the service does on its own (the worker).
func System() Subject { return Subject{Kind: SubjectSystem, Name: "system"} }

// String is the subject as recorded in app.subject_id and the audit log.
func (s Subject) String() string {
	if s.Kind == SubjectSystem || s.Kind == SubjectAnonymous {
		return string(s.Kind)
	}
	if s.ID == uuid.Nil && s.IdentityID != uuid.Nil {
		return "identity:" + s.IdentityID.String()
	}
	return string(s.Kind) + ":" + s.ID.String()
}

type ctxKey int

const (
	subjectKey ctxKey = iota
	tenantKey
	requestIDKey
)

// WithSubject returns ctx carrying the subject.
func WithSubject(ctx context.Context, s Subject) context.Context {
	return context.WithValue(ctx, subjectKey, s)
}

// SubjectFrom returns the subject ctx carries.
func SubjectFrom(ctx context.Context) (Subject, bool) {
	s, ok := ctx.Value(subjectKey).(Subject)
	return s, ok
}

// WithTenant returns ctx carrying the tenant a request acts in.
func WithTenant(ctx context.Context, t Tenant) context.Context {
	return context.WithValue(ctx, tenantKey, t)
}

// TenantFrom returns the tenant ctx carries.
func TenantFrom(ctx context.Context) (Tenant, bool) {
	t, ok := ctx.Value(tenantKey).(Tenant)
	return t, ok
}

// WithRequestID returns ctx carrying the request ID, for the audit log.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
