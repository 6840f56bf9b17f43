package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	kratos "github.com/ory/kratos-client-go"

	"yamen/problem"
)

// Identity is a person signed in through Ory Kratos.
type Identity struct {
	ID uuid.UUID `json:"id"`
	// Schema is the Kratos identity schema: staff, citizen or intermediary.
	Schema string         `json:"kind"`
	Traits map[string]any `json:"traits"`
	// RealNameLevel is a citizen's metadata_public.real_name_level.
	RealNameLevel string `json:"-"`
	// Session is the Kratos session the identity was resolved from.
	Session string `json:"-"`
	// AuthenticatedAt is when the person signed in.
	AuthenticatedAt time.Time `json:"-"`
}

// Sessions resolves Kratos sessions (a cookie or an X-Session-Token) to
// identities, remembering each briefly so a page of requests asks Kratos once.
type Sessions struct {
	public *kratos.APIClient
	admin  *kratos.APIClient
	cache  *ttlCache[string, Identity]
}

// DefaultSessionTTL bounds how long a logged-out session keeps working in a
// process that saw it recently.
const DefaultSessionTTL = 10 * time.Second

// NewSessions talks to Kratos's public and admin APIs, remembering a
// resolved session for ttl (DefaultSessionTTL when zero).
func NewSessions(publicURL, adminURL string, ttl time.Duration, client *http.Client) *Sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	mk := func(url string) *kratos.APIClient {
		cfg := kratos.NewConfiguration()
		cfg.Servers = kratos.ServerConfigurations{{URL: url}}
		if client != nil {
			cfg.HTTPClient = client
		}
		return kratos.NewAPIClient(cfg)
	}
	return &Sessions{public: mk(publicURL), admin: mk(adminURL), cache: newTTLCache[string, Identity](ttl, 100_000)}
}

var errNoSession = problem.New(http.StatusUnauthorized, "登录已失效，请重新登录 (the session is invalid or has ended; sign in again)")

// Resolve returns the identity of a session token or session cookie header.
func (s *Sessions) Resolve(ctx context.Context, token, cookie string) (Identity, error) {
	key := token + "\x00" + cookie
	if id, ok := s.cache.get(key); ok {
		return id, nil
	}
	req := s.public.FrontendAPI.ToSession(ctx)
	if token != "" {
		req = req.XSessionToken(token)
	}
	if cookie != "" {
		req = req.Cookie(cookie)
	}
	sess, resp, err := req.Execute()
	if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
		return Identity{}, errNoSession
	}
	if err != nil {
		return Identity{}, fmt.Errorf("api: kratos session: %w", err)
	}
	if sess.Active != nil && !*sess.Active || sess.Identity == nil {
		return Identity{}, errNoSession
	}
	id, err := identityOf(sess.Identity)
	if err != nil {
		return Identity{}, err
	}
	id.Session = sess.Id
	if sess.AuthenticatedAt != nil {
		id.AuthenticatedAt = *sess.AuthenticatedAt
	}
	s.cache.put(key, id)
	return id, nil
}

// FindByIdentifier looks an identity up by a login identifier (email or
// phone), for linking staff to members.
func (s *Sessions) FindByIdentifier(ctx context.Context, identifier string) (Identity, error) {
	ids, _, err := s.admin.IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(identifier).Execute()
	if err != nil {
		return Identity{}, fmt.Errorf("api: kratos identities: %w", err)
	}
	if len(ids) == 0 {
		return Identity{}, problem.NotFound("没有以此邮箱或手机号登录的账号 (no account signs in with this email or phone)")
	}
	return identityOf(&ids[0])
}

// forget drops an identity's cached sessions, e.g. after it was unlinked.
func (s *Sessions) forget(id uuid.UUID) {
	s.cache.forget(func(_ string, i Identity) bool { return i.ID == id })
}

func identityOf(k *kratos.Identity) (Identity, error) {
	id, err := uuid.Parse(k.Id)
	if err != nil {
		return Identity{}, fmt.Errorf("api: kratos identity id %q: %w", k.Id, err)
	}
	traits, _ := k.Traits.(map[string]any)
	if k.State != nil && *k.State != "active" {
		return Identity{}, errors.Join(errNoSession, fmt.Errorf("identity %s is %s", id, *k.State))
	}
	level := "none"
	if meta, ok := k.MetadataPublic.(map[string]any); ok {
		if l, ok := meta["real_name_level"].(string); ok && l != "" {
			level = l
		}
	}
	return Identity{ID: id, Schema: k.SchemaId, Traits: traits, RealNameLevel: level}, nil
}
