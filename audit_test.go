package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// `yamen audit verify` reads the chain the service wrote (tenanttest uses
// the key the command reads, YAMEN_AUDIT_KEY or the development key) and
// names the record a superuser changed behind the service's back.
func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	tn := tenanttest.Tenant(t, tenants.KindOther)
	for i := range 5 {
		require.NoError(t, db.Tx(ctx, tn.ID, "tenant_key:test", func(tx *tenants.Tx) error {
			_, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{Code: fmt.Sprint("o", i), Name: "组织", Kind: "other"})
			return err
		}))
	}
	verify := func() (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, &stdout, &stderr, []string{"audit", "verify", "--tenant", tn.Slug})
		return stdout.String(), err
	}

	out, err := verify()
	require.NoError(t, err)
	require.Contains(t, out, "chain intact, 8 records\n")
	require.Regexp(t, `head: seq 8 mac [0-9a-f]{64}\n`, out)

	admin, err := pgx.Connect(ctx, os.Getenv("YAMEN_DATABASE_ADMIN_URL"))
	require.NoError(t, err)
	defer admin.Close(ctx)
	var id int64
	require.NoError(t, admin.QueryRow(ctx, `UPDATE yamen.audit_log SET details = details || '{"name": "伪造"}'
		WHERE tenant_id = $1 AND seq = 6 RETURNING id`, tn.ID).Scan(&id))

	out, err = verify()
	require.Error(t, err)
	require.Equal(t, 1, exitCode(err))
	require.Contains(t, out, fmt.Sprintf("chain broken at record id %d (seq 6): content: ", id))
	require.Contains(t, out, "org.create")
	require.Contains(t, out, "5 records before the break are intact")
}

func TestAuditVerifyUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"audit"}, {"audit", "check"}, {"audit", "verify"}, {"audit", "verify", "--tenant", "x", "extra"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), &stdout, &stderr, args)
		require.Error(t, err, "%v", args)
		require.Equal(t, 2, exitCode(err), "%v", args)
	}
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), &stdout, &stderr, []string{"audit", "--help"}))
	require.Contains(t, stderr.String(), "verify --tenant SLUG")
	require.Contains(t, stderr.String(), "YAMEN_AUDIT_KEY")
}

func TestAuditKeyConfiguration(t *testing.T) {
	t.Setenv("YAMEN_AUDIT_KEY", "c2hvcnQ=")
	_, err := loadConfig()
	require.ErrorContains(t, err, "YAMEN_AUDIT_KEY: the key has 5 bytes")
	t.Setenv("YAMEN_AUDIT_KEY", "00112233445566778899aabbccddeeff")
	c, err := loadConfig()
	require.NoError(t, err)
	require.Len(t, c.auditKey, 16)
}
