package tenants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
)

// A key reads yk_t_<tenant>_<key>_<secret> for a tenant key and
// yk_p_<key>_<secret> for a platform key: ids as 32 hex digits, the secret
// as 43 base64url characters. Carrying the tenant lets the key be checked
// inside that tenant's row level security, with no table readable across
// tenants.
const (
	keyPrefix         = "yk_"
	tenantKeyMarker   = "t_"
	platformKeyMarker = "p_"
)

// KeyInfo describes a key without its secret.
type KeyInfo struct {
	ID         uuid.UUID  `json:"id"`
	TenantID   *uuid.UUID `json:"tenant_id,omitempty"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// NewKey is what creating a key takes.
type NewKey struct {
	Name   string
	Scopes []string
	// TTL of zero means the key does not expire.
	TTL time.Duration
}

func newSecret() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	s := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(s))
	return s, h[:]
}

func hexID(id uuid.UUID) string { return strings.ReplaceAll(id.String(), "-", "") }

func expiry(ttl time.Duration) *time.Time {
	if ttl <= 0 {
		return nil
	}
	t := time.Now().Add(ttl)
	return &t
}

// CreateTenantKey creates a key of the transaction's tenant and returns it
// with the only copy of its secret.
func CreateTenantKey(ctx context.Context, tx *Tx, n NewKey) (KeyInfo, string, error) {
	id := uuid.New()
	secret, hash := newSecret()
	if n.Scopes == nil {
		n.Scopes = []string{}
	}
	var k KeyInfo
	err := tx.QueryRow(ctx, `INSERT INTO api_keys (tenant_id, id, name, secret_hash, scopes, expires_at, created_by)
		VALUES (current_tenant(), $1, $2, $3, $4, $5, current_setting('app.subject_id'))
		RETURNING id, tenant_id, name, scopes, expires_at, last_used_at, revoked_at, created_at`,
		id, n.Name, hash, n.Scopes, expiry(n.TTL)).Scan(&k.ID, &k.TenantID, &k.Name, &k.Scopes, &k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt, &k.CreatedAt)
	if err != nil {
		return KeyInfo{}, "", fmt.Errorf("tenants: create key: %w", err)
	}
	if err := Audit(ctx, tx, "key.create", id.String(), map[string]any{"name": n.Name, "scopes": n.Scopes, "expires_at": k.ExpiresAt}); err != nil {
		return KeyInfo{}, "", err
	}
	return k, keyPrefix + tenantKeyMarker + hexID(tx.TenantID()) + "_" + hexID(id) + "_" + secret, nil
}

// CreatePlatformKey creates a platform admin key.
func (db *DB) CreatePlatformKey(ctx context.Context, n NewKey) (KeyInfo, string, error) {
	id := uuid.New()
	secret, hash := newSecret()
	k := KeyInfo{Scopes: []string{AllPermissions}}
	err := db.Pool.QueryRow(ctx, `INSERT INTO platform_keys (id, name, secret_hash, expires_at)
		VALUES ($1, $2, $3, $4) RETURNING id, name, expires_at, last_used_at, revoked_at, created_at`,
		id, n.Name, hash, expiry(n.TTL)).Scan(&k.ID, &k.Name, &k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt, &k.CreatedAt)
	if err != nil {
		return KeyInfo{}, "", fmt.Errorf("tenants: create platform key: %w", err)
	}
	return k, keyPrefix + platformKeyMarker + hexID(id) + "_" + secret, nil
}

// ListTenantKeys lists the tenant's keys.
func ListTenantKeys(ctx context.Context, tx Querier) ([]KeyInfo, error) {
	rows, err := tx.Query(ctx, `SELECT id, tenant_id, name, scopes, expires_at, last_used_at, revoked_at, created_at
		FROM api_keys ORDER BY created_at`)
	return collect("list keys", rows, err, pgx.RowToStructByPos[KeyInfo])
}

// RevokeTenantKey revokes one of the tenant's keys.
func RevokeTenantKey(ctx context.Context, tx *Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("tenants: revoke key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return problem.NotFound("密钥不存在 (no such key)")
	}
	return Audit(ctx, tx, "key.revoke", id.String(), nil)
}

// RevokePlatformKey revokes a platform key.
func (db *DB) RevokePlatformKey(ctx context.Context, id uuid.UUID) error {
	tag, err := db.Pool.Exec(ctx, "UPDATE platform_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("tenants: revoke platform key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return problem.NotFound("密钥不存在 (no such key)")
	}
	return nil
}

// ErrBadKey is returned for every key that does not authenticate, whatever
// the reason, so a caller learns nothing from the difference.
var ErrBadKey = errors.New("tenants: invalid, expired or revoked key")

// parsedKey is a presented key split into its parts.
type parsedKey struct {
	tenant uuid.UUID // uuid.Nil for platform keys
	id     uuid.UUID
	secret string
}

func parseKey(s string) (parsedKey, bool) {
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return parsedKey{}, false
	}
	var p parsedKey
	var parts []string
	switch {
	case strings.HasPrefix(rest, tenantKeyMarker):
		parts = strings.SplitN(rest[len(tenantKeyMarker):], "_", 3)
		if len(parts) != 3 {
			return parsedKey{}, false
		}
		t, err := uuid.Parse(parts[0])
		if err != nil || len(parts[0]) != 32 {
			return parsedKey{}, false
		}
		p.tenant, parts = t, parts[1:]
	case strings.HasPrefix(rest, platformKeyMarker):
		parts = strings.SplitN(rest[len(platformKeyMarker):], "_", 2)
		if len(parts) != 2 {
			return parsedKey{}, false
		}
	default:
		return parsedKey{}, false
	}
	id, err := uuid.Parse(parts[0])
	if err != nil || len(parts[0]) != 32 || len(parts[1]) != 43 {
		return parsedKey{}, false
	}
	p.id, p.secret = id, parts[1]
	return p, true
}

// usedEvery is how stale last_used_at may get: writing it on every request
// would turn each read into a write.
const usedEvery = time.Minute

// Authenticate checks a presented key and returns its subject. Any failure
// is ErrBadKey, except a database failure.
func (db *DB) Authenticate(ctx context.Context, key string) (Subject, error) {
	p, ok := parseKey(key)
	if !ok {
		return Subject{}, ErrBadKey
	}
	var (
		hash     []byte
		name     string
		scopes   []string
		expires  *time.Time
		revoked  *time.Time
		lastUsed *time.Time
	)
	check := func(q Conn) error {
		table := "platform_keys"
		if p.tenant != uuid.Nil {
			table = "api_keys"
			scopes = nil
		}
		sql := "SELECT secret_hash, name, expires_at, revoked_at, last_used_at FROM " + table + " WHERE id = $1"
		dest := []any{&hash, &name, &expires, &revoked, &lastUsed}
		if p.tenant != uuid.Nil {
			sql = "SELECT secret_hash, name, expires_at, revoked_at, last_used_at, scopes FROM api_keys WHERE id = $1"
			dest = append(dest, &scopes)
		}
		err := q.QueryRow(ctx, sql, p.id).Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrBadKey
		}
		if err != nil {
			return fmt.Errorf("tenants: look up key: %w", err)
		}
		given := sha256.Sum256([]byte(p.secret))
		now := time.Now()
		if subtle.ConstantTimeCompare(given[:], hash) != 1 || revoked != nil || (expires != nil && !now.Before(*expires)) {
			return ErrBadKey
		}
		if lastUsed == nil || now.Sub(*lastUsed) > usedEvery {
			if _, err := q.Exec(ctx, "UPDATE "+table+" SET last_used_at = now() WHERE id = $1", p.id); err != nil {
				return fmt.Errorf("tenants: mark key used: %w", err)
			}
		}
		return nil
	}
	if p.tenant == uuid.Nil {
		if err := check(db.Pool); err != nil {
			return Subject{}, err
		}
		return Subject{Kind: SubjectPlatformKey, ID: p.id, Name: name, Scopes: []string{AllPermissions}}, nil
	}
	subject := Subject{Kind: SubjectTenantKey, ID: p.id, TenantID: p.tenant}
	err := db.Tx(ctx, p.tenant, subject.String(), func(tx *Tx) error { return check(tx) })
	if err != nil {
		return Subject{}, err
	}
	subject.Name, subject.Scopes = name, scopes
	return subject, nil
}

// ListPlatformKeys lists the platform keys.
func (db *DB) ListPlatformKeys(ctx context.Context) ([]KeyInfo, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, NULL::uuid, name, ARRAY['*'], expires_at, last_used_at, revoked_at, created_at
		FROM platform_keys ORDER BY created_at`)
	return collect("list platform keys", rows, err, pgx.RowToStructByPos[KeyInfo])
}
