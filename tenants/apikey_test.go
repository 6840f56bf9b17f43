package tenants_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// tenantKeyParts splits yk_t_<tenant>_<key>_<secret>; the secret may itself
// contain underscores, so the split goes by position.
func tenantKeyParts(t *testing.T, key string) (tenant, id, secret string) {
	t.Helper()
	require.True(t, strings.HasPrefix(key, "yk_t_"), key)
	require.Len(t, key, len("yk_t_")+32+1+32+1+43, key)
	return key[5:37], key[38:70], key[71:]
}

func hex32(id uuid.UUID) string { return strings.ReplaceAll(id.String(), "-", "") }

// otherChar returns a base64url character different from c.
func otherChar(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func keyInfo(t *testing.T, bx *bundle, id uuid.UUID) tenants.KeyInfo {
	t.Helper()
	var k tenants.KeyInfo
	bx.tx(t, func(tx *tenants.Tx) {
		keys, err := tenants.ListTenantKeys(bx.ctx, tx)
		require.NoError(t, err)
		for _, x := range keys {
			if x.ID == id {
				k = x
				return
			}
		}
		require.Failf(t, "key not listed", "%s", id)
	})
	return k
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()

	t.Run("TenantKey", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		var (
			info   tenants.KeyInfo
			secret string
		)
		bx.commit(t, func(tx *tenants.Tx) {
			var err error
			info, secret, err = tenants.CreateTenantKey(bx.ctx, tx, tenants.NewKey{Name: "省厅接口", Scopes: []string{"clues:read", "units:export"}, TTL: time.Hour})
			require.NoError(t, err)
		})
		require.Equal(t, &bx.tenant.ID, info.TenantID)
		require.Equal(t, "省厅接口", info.Name)
		require.Equal(t, []string{"clues:read", "units:export"}, info.Scopes)
		require.NotNil(t, info.ExpiresAt)
		require.WithinDuration(t, time.Now().Add(time.Hour), *info.ExpiresAt, time.Minute)
		require.Nil(t, info.LastUsedAt)
		require.Nil(t, info.RevokedAt)
		tenantPart, idPart, _ := tenantKeyParts(t, secret)
		require.Equal(t, hex32(bx.tenant.ID), tenantPart)
		require.Equal(t, hex32(info.ID), idPart)

		s, err := bx.db.Authenticate(bx.ctx, secret)
		require.NoError(t, err)
		require.Equal(t, tenants.SubjectTenantKey, s.Kind)
		require.Equal(t, info.ID, s.ID)
		require.Equal(t, bx.tenant.ID, s.TenantID)
		require.Equal(t, "省厅接口", s.Name)
		require.Equal(t, []string{"clues:read", "units:export"}, s.Scopes)
		require.Equal(t, "tenant_key:"+info.ID.String(), s.String())

		used := keyInfo(t, bx, info.ID).LastUsedAt
		require.NotNil(t, used, "authenticating marks the key used")
		require.WithinDuration(t, time.Now(), *used, time.Minute)
		// Within the minute, using it again writes nothing.
		_, err = bx.db.Authenticate(bx.ctx, secret)
		require.NoError(t, err)
		require.Equal(t, used, keyInfo(t, bx, info.ID).LastUsedAt)

		bx.tx(t, func(tx *tenants.Tx) {
			es, err := tenants.ListAudit(bx.ctx, tx, tenants.AuditFilter{Action: "key.create"})
			require.NoError(t, err)
			require.Len(t, es, 1)
			require.Equal(t, info.ID.String(), es[0].Target)
			require.NotContains(t, es[0].Details, "secret")
		})
	})

	t.Run("PlatformKey", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		info, secret, err := bx.db.CreatePlatformKey(bx.ctx, tenants.NewKey{Name: "平台管理员"})
		require.NoError(t, err)
		require.Nil(t, info.TenantID)
		require.Nil(t, info.ExpiresAt, "no TTL, no expiry")
		require.True(t, strings.HasPrefix(secret, "yk_p_"+hex32(info.ID)+"_"), secret)

		s, err := bx.db.Authenticate(bx.ctx, secret)
		require.NoError(t, err)
		require.Equal(t, tenants.SubjectPlatformKey, s.Kind)
		require.Equal(t, info.ID, s.ID)
		require.Equal(t, uuid.Nil, s.TenantID)
		require.Equal(t, "平台管理员", s.Name)
		require.Equal(t, []string{tenants.AllPermissions}, s.Scopes)

		var used *time.Time
		require.NoError(t, bx.db.Pool.QueryRow(bx.ctx, "SELECT last_used_at FROM platform_keys WHERE id = $1", info.ID).Scan(&used))
		require.NotNil(t, used, "authenticating marks the key used")

		// A platform key's id is no tenant key, in any tenant.
		_, err = bx.db.Authenticate(bx.ctx, "yk_t_"+hex32(bx.tenant.ID)+"_"+secret[len("yk_p_"):])
		require.ErrorIs(t, err, tenants.ErrBadKey)

		require.NoError(t, bx.db.RevokePlatformKey(bx.ctx, info.ID))
		_, err = bx.db.Authenticate(bx.ctx, secret)
		require.ErrorIs(t, err, tenants.ErrBadKey, "a revoked platform key")
		requireProblem(t, bx.db.RevokePlatformKey(bx.ctx, uuid.New()), http.StatusNotFound, "")
	})

	t.Run("Rejected", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		other := tenanttest.Tenant(t, tenants.KindAffairsHall)
		var (
			revoked, wrongOnly                            tenants.KeyInfo
			goodKey, revokedKey, expiredKey, wrongOnlyKey string
		)
		bx.commit(t, func(tx *tenants.Tx) {
			var err error
			_, goodKey, err = tenants.CreateTenantKey(bx.ctx, tx, tenants.NewKey{Name: "good"})
			require.NoError(t, err)
			revoked, revokedKey, err = tenants.CreateTenantKey(bx.ctx, tx, tenants.NewKey{Name: "revoked"})
			require.NoError(t, err)
			_, expiredKey, err = tenants.CreateTenantKey(bx.ctx, tx, tenants.NewKey{Name: "expired", TTL: time.Millisecond})
			require.NoError(t, err)
			wrongOnly, wrongOnlyKey, err = tenants.CreateTenantKey(bx.ctx, tx, tenants.NewKey{Name: "wrong secret only"})
			require.NoError(t, err)
		})
		bx.commit(t, func(tx *tenants.Tx) {
			require.NoError(t, tenants.RevokeTenantKey(bx.ctx, tx, revoked.ID))
		})
		time.Sleep(5 * time.Millisecond)

		_, goodID, goodSecret := tenantKeyParts(t, goodKey)
		_, wrongID, wrongSecret := tenantKeyParts(t, wrongOnlyKey)
		last := len(goodKey) - 1
		for name, key := range map[string]string{
			"Empty":              "",
			"Garbage":            "not a key at all",
			"PrefixOnly":         "yk_",
			"TenantMarkerOnly":   "yk_t_",
			"PlatformMarkerOnly": "yk_p_",
			"UnknownMarker":      "yk_x_" + goodKey[5:],
			"NoPrefix":           goodKey[3:],
			"Truncated":          goodKey[:last],
			"Extended":           goodKey + "A",
			"BadTenantHex":       "yk_t_" + strings.Repeat("z", 32) + goodKey[37:],
			"DashedTenant":       "yk_t_" + bx.tenant.ID.String() + goodKey[37:],
			"WrongSecret":        goodKey[:last] + otherChar(goodKey[last]),
			"OtherKeysSecret":    "yk_t_" + hex32(bx.tenant.ID) + "_" + goodID + "_" + wrongSecret,
			"SwappedTenant":      "yk_t_" + hex32(other.ID) + goodKey[37:],
			"UnknownTenant":      "yk_t_" + hex32(uuid.New()) + goodKey[37:],
			"UnknownKeyID":       "yk_t_" + hex32(bx.tenant.ID) + "_" + hex32(uuid.New()) + "_" + goodSecret,
			"AsPlatformKey":      "yk_p_" + goodID + "_" + goodSecret,
			"Revoked":            revokedKey,
			"Expired":            expiredKey,
			"WrongSecretOnly":    "yk_t_" + hex32(bx.tenant.ID) + "_" + wrongID + "_" + goodSecret,
		} {
			_, err := bx.db.Authenticate(bx.ctx, key)
			require.ErrorIs(t, err, tenants.ErrBadKey, "%s: %q", name, key)
		}

		// Failed attempts do not mark a key used; the good key still works.
		require.Nil(t, keyInfo(t, bx, wrongOnly.ID).LastUsedAt)
		require.Nil(t, keyInfo(t, bx, revoked.ID).LastUsedAt)
		require.NotNil(t, keyInfo(t, bx, revoked.ID).RevokedAt)
		_, err := bx.db.Authenticate(bx.ctx, goodKey)
		require.NoError(t, err)
	})

	t.Run("Revoke", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		var info tenants.KeyInfo
		var key string
		bx.commit(t, func(tx *tenants.Tx) {
			var err error
			info, key, err = tenants.CreateTenantKey(bx.ctx, tx, tenants.NewKey{Name: "k"})
			require.NoError(t, err)
		})
		_, err := bx.db.Authenticate(bx.ctx, key)
		require.NoError(t, err)

		bx.commit(t, func(tx *tenants.Tx) {
			require.NoError(t, tenants.RevokeTenantKey(bx.ctx, tx, info.ID))
		})
		first := keyInfo(t, bx, info.ID).RevokedAt
		require.NotNil(t, first)
		_, err = bx.db.Authenticate(bx.ctx, key)
		require.ErrorIs(t, err, tenants.ErrBadKey)

		bx.commit(t, func(tx *tenants.Tx) {
			require.NoError(t, tenants.RevokeTenantKey(bx.ctx, tx, info.ID), "revoking twice is fine")
			requireProblem(t, tenants.RevokeTenantKey(bx.ctx, tx, uuid.New()), http.StatusNotFound, "")
		})
		require.Equal(t, first, keyInfo(t, bx, info.ID).RevokedAt, "and keeps the first time")
		bx.tx(t, func(tx *tenants.Tx) {
			es, err := tenants.ListAudit(bx.ctx, tx, tenants.AuditFilter{Action: "key.revoke"})
			require.NoError(t, err)
			require.NotEmpty(t, es)
			require.Equal(t, info.ID.String(), es[0].Target)
		})
	})
}
