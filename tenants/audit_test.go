package tenants_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// admin connects as YAMEN_DATABASE_ADMIN_URL: a superuser, the only one who
// can change or delete audit records, which is what these tests play.
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	url := os.Getenv("YAMEN_DATABASE_ADMIN_URL")
	require.NotEmpty(t, url, "YAMEN_DATABASE_ADMIN_URL")
	c, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// verify walks the tenant's chain as the service would.
func verify(t testing.TB, db *tenants.DB, tn tenants.Tenant) tenants.AuditVerification {
	t.Helper()
	r, err := db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	v, err := tenants.VerifyAudit(context.Background(), r, db.AuditKey)
	require.NoError(t, err)
	return v
}

func requireIntact(t testing.TB, v tenants.AuditVerification, records int64) {
	t.Helper()
	require.Nil(t, v.Break, "%v", v.Break)
	require.Equal(t, records, v.Records)
	require.Equal(t, records, v.HeadSeq)
	require.Zero(t, v.Unsealed)
}

// record commits one audit record in tn and returns its seq.
func record(t testing.TB, db *tenants.DB, tn tenants.Tenant, action, target string, details map[string]any) {
	t.Helper()
	require.NoError(t, db.Tx(context.Background(), tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		return tenants.Audit(context.Background(), tx, action, target, details)
	}))
}

// chain returns the ids of tn's records by seq, read as the admin.
func chain(t testing.TB, a *pgx.Conn, tn tenants.Tenant) map[int64]int64 {
	t.Helper()
	rows, err := a.Query(context.Background(), "SELECT seq, id FROM yamen.audit_log WHERE tenant_id = $1", tn.ID)
	require.NoError(t, err)
	ids := map[int64]int64{}
	for rows.Next() {
		var seq, id int64
		require.NoError(t, rows.Scan(&seq, &id))
		ids[seq] = id
	}
	require.NoError(t, rows.Err())
	return ids
}

// A new tenant's chain holds its creation: the root org, the admin role and
// the tenant itself.
const creationRecords = 3

func TestAuditChainHoldsUnderConcurrentTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	tn := tenanttest.Tenant(t, tenants.KindPoliceBureau)
	subject := tenants.System().String()
	errRollback := errors.New("rolled back")

	const workers, writes = 20, 10
	var wg sync.WaitGroup
	committed := make([]int, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range writes {
				err := db.Tx(ctx, tn.ID, subject, func(tx *tenants.Tx) error {
					switch i % 5 {
					case 0: // an audited operation of the domain
						_, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{Code: fmt.Sprintf("w%d-%d", w, i), Name: "并发", Kind: "other"})
						return err
					case 1: // two records in one transaction
						if err := tenants.Audit(ctx, tx, "test.first", "", map[string]any{"w": w, "i": i}); err != nil {
							return err
						}
						return tenants.Audit(ctx, tx, "test.second", "", map[string]any{"w": w, "i": i})
					case 4: // a record that rolls back must leave no gap
						if err := tenants.Audit(ctx, tx, "test.undone", "", nil); err != nil {
							return err
						}
						return errRollback
					default:
						return tenants.Audit(ctx, tx, "test.write", fmt.Sprint(w), map[string]any{"i": i})
					}
				})
				if i%5 == 4 {
					if !errors.Is(err, errRollback) {
						t.Errorf("worker %d write %d: %v", w, i, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("worker %d write %d: %v", w, i, err)
					continue
				}
				committed[w] += map[bool]int{true: 2, false: 1}[i%5 == 1]
			}
		})
	}
	wg.Wait()
	want := int64(creationRecords)
	for _, n := range committed {
		want += int64(n)
	}
	require.EqualValues(t, creationRecords+workers*writes, want, "per five writes: 1 + 2 + 1 + 1 + 0 (rolled back) records")

	requireIntact(t, verify(t, db, tn), want)
	ids := chain(t, admin(t), tn)
	require.Len(t, ids, int(want))
	for seq := int64(1); seq <= want; seq++ {
		require.Contains(t, ids, seq, "seq %d", seq)
	}
	// Times never run backwards along the chain, and ids follow seq.
	r, err := db.Reader(tn.ID, subject)
	require.NoError(t, err)
	es, err := tenants.ListAudit(ctx, r, tenants.AuditFilter{Limit: 500})
	require.NoError(t, err)
	require.Len(t, es, int(want))
	for i := 1; i < len(es); i++ {
		require.Equal(t, es[i-1].Seq-1, es[i].Seq, "newest first, by seq")
		require.False(t, es[i].At.After(es[i-1].At), "seq %d is later than seq %d", es[i].Seq, es[i-1].Seq)
	}
	for _, e := range es {
		require.NotEqual(t, "test.undone", e.Action)
	}
}

func TestAuditTamperingIsCaught(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sql string
	}{
		{"Target", "UPDATE yamen.audit_log SET target = 'forged' WHERE tenant_id = $1 AND seq = $2"},
		{"Subject", "UPDATE yamen.audit_log SET subject = 'system' || subject WHERE tenant_id = $1 AND seq = $2"},
		{"Action", "UPDATE yamen.audit_log SET action = 'org.read' WHERE tenant_id = $1 AND seq = $2"},
		{"Time", "UPDATE yamen.audit_log SET at = at - interval '1 microsecond' WHERE tenant_id = $1 AND seq = $2"},
		{"Details", "UPDATE yamen.audit_log SET details = jsonb_set(details, '{n}', '99') WHERE tenant_id = $1 AND seq = $2"},
		{"DetailsKeyAdded", `UPDATE yamen.audit_log SET details = details || '{"extra": true}' WHERE tenant_id = $1 AND seq = $2`},
		{"RequestID", "UPDATE yamen.audit_log SET request_id = 'other' WHERE tenant_id = $1 AND seq = $2"},
		{"MAC", "UPDATE yamen.audit_log SET mac = sha256(mac) WHERE tenant_id = $1 AND seq = $2"},
		{"PrevMAC", "UPDATE yamen.audit_log SET prev_mac = sha256(prev_mac) WHERE tenant_id = $1 AND seq = $2"},
		{"SwappedWithNext", `UPDATE yamen.audit_log a SET target = b.target, details = b.details
			FROM yamen.audit_log b WHERE a.tenant_id = $1 AND b.tenant_id = $1 AND a.seq = $2 AND b.seq = $2 + 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := tenanttest.DB(t)
			tn := tenanttest.Tenant(t, tenants.KindOther)
			for i := range 6 {
				record(t, db, tn, "test.write", fmt.Sprint("target-", i), map[string]any{"n": i, "s": "值"})
			}
			requireIntact(t, verify(t, db, tn), creationRecords+6)

			a := admin(t)
			const seq = creationRecords + 3
			tag, err := a.Exec(context.Background(), c.sql, tn.ID, seq)
			require.NoError(t, err)
			require.EqualValues(t, 1, tag.RowsAffected())

			v := verify(t, db, tn)
			require.NotNil(t, v.Break, "tampering with %s went unnoticed", c.name)
			require.Equal(t, tenants.AuditBreak{Kind: tenants.BreakContent, ID: chain(t, a, tn)[seq], Seq: seq, Detail: v.Break.Detail}, *v.Break)
			require.EqualValues(t, seq-1, v.Records, "the records before it are intact")
		})
	}
}

// One who holds the key can reseal a changed record, but not the record
// after it, whose prev_mac still names the original.
func TestAuditResealedRecordBreaksTheNextLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	tn := tenanttest.Tenant(t, tenants.KindOther)
	for i := range 4 {
		record(t, db, tn, "member.update", fmt.Sprint("m", i), nil)
	}
	a := admin(t)
	const seq = creationRecords + 2
	var (
		at               time.Time
		subject, reqID   string
		details, prevMAC []byte
	)
	require.NoError(t, a.QueryRow(ctx, `SELECT at, subject, details::text, request_id, prev_mac FROM yamen.audit_log WHERE tenant_id = $1 AND seq = $2`,
		tn.ID, seq).Scan(&at, &subject, &details, &reqID, &prevMAC))
	forged := tenants.AuditRecordMAC(db.AuditKey, tn.ID, seq, at, subject, "member.update", "someone-else", details, reqID, prevMAC)
	_, err := a.Exec(ctx, "UPDATE yamen.audit_log SET target = 'someone-else', mac = $3 WHERE tenant_id = $1 AND seq = $2", tn.ID, seq, forged)
	require.NoError(t, err)

	v := verify(t, db, tn)
	require.NotNil(t, v.Break)
	require.Equal(t, tenants.BreakLink, v.Break.Kind, v.Break.String())
	require.Equal(t, int64(seq+1), v.Break.Seq)
	require.Equal(t, chain(t, a, tn)[seq+1], v.Break.ID)
	require.Contains(t, v.Break.Detail, fmt.Sprintf("record seq %d (id %d)", seq, chain(t, a, tn)[seq]))
}

func TestAuditDeletedRecordsAreFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	setup := func(t *testing.T) (tenants.Tenant, *pgx.Conn, map[int64]int64) {
		tn := tenanttest.Tenant(t, tenants.KindOther)
		for i := range 6 {
			record(t, db, tn, "test.write", fmt.Sprint(i), nil)
		}
		a := admin(t)
		return tn, a, chain(t, a, tn)
	}
	del := func(t *testing.T, a *pgx.Conn, tn tenants.Tenant, seqs ...int64) {
		tag, err := a.Exec(ctx, "DELETE FROM yamen.audit_log WHERE tenant_id = $1 AND seq = ANY($2)", tn.ID, seqs)
		require.NoError(t, err)
		require.EqualValues(t, len(seqs), tag.RowsAffected())
	}

	t.Run("InTheMiddle", func(t *testing.T) {
		t.Parallel()
		tn, a, ids := setup(t)
		del(t, a, tn, 5, 6)
		v := verify(t, db, tn)
		require.NotNil(t, v.Break)
		require.Equal(t, tenants.AuditBreak{Kind: tenants.BreakGap, ID: ids[7], Seq: 7, Detail: "expected seq 5: records seq 5–6 are missing"}, *v.Break)
	})
	t.Run("TheFirst", func(t *testing.T) {
		t.Parallel()
		tn, a, ids := setup(t)
		del(t, a, tn, 1)
		v := verify(t, db, tn)
		require.NotNil(t, v.Break)
		require.Equal(t, tenants.AuditBreak{Kind: tenants.BreakGap, ID: ids[2], Seq: 2, Detail: "expected seq 1: record seq 1 is missing"}, *v.Break)
	})
	t.Run("AtTheEnd", func(t *testing.T) {
		t.Parallel()
		tn, a, _ := setup(t)
		del(t, a, tn, creationRecords+6)
		v := verify(t, db, tn)
		require.NotNil(t, v.Break)
		require.Equal(t, tenants.BreakHead, v.Break.Kind)
		require.Zero(t, v.Break.ID)
		require.Contains(t, v.Break.Detail, "record seq 9 is missing")
		require.EqualValues(t, creationRecords+5, v.Records)
	})
	t.Run("AtTheEndWithTheHeadMovedBack", func(t *testing.T) {
		t.Parallel()
		tn, a, _ := setup(t)
		del(t, a, tn, creationRecords+6)
		_, err := a.Exec(ctx, "UPDATE yamen.audit_heads SET seq = seq - 1 WHERE tenant_id = $1", tn.ID)
		require.NoError(t, err)
		v := verify(t, db, tn)
		require.NotNil(t, v.Break)
		require.Equal(t, tenants.BreakHead, v.Break.Kind)
		require.Contains(t, v.Break.Detail, "the newest records were replaced")
	})
}

func TestAuditChainsOfTenantsAreIndependent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := tenanttest.DB(t)
	a, b := tenanttest.Tenant(t, tenants.KindOther), tenanttest.Tenant(t, tenants.KindOther)
	var wg sync.WaitGroup
	for _, tn := range []tenants.Tenant{a, b, a, b} {
		wg.Go(func() {
			for i := range 10 {
				if err := db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
					return tenants.Audit(ctx, tx, "test.write", tn.Slug, map[string]any{"i": i})
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	requireIntact(t, verify(t, db, a), creationRecords+20)
	requireIntact(t, verify(t, db, b), creationRecords+20)

	adm := admin(t)
	require.Len(t, chain(t, adm, a), creationRecords+20, "each tenant counts from 1")
	_, err := adm.Exec(ctx, "UPDATE yamen.audit_log SET target = 'x' WHERE tenant_id = $1 AND seq = 1", a.ID)
	require.NoError(t, err)
	require.NotNil(t, verify(t, db, a).Break)
	requireIntact(t, verify(t, db, b), creationRecords+20)

	// A record moved into another tenant's chain does not fit there.
	_, err = adm.Exec(ctx, "UPDATE yamen.audit_log SET tenant_id = $2, seq = $3 WHERE tenant_id = $1 AND seq = 2", a.ID, b.ID, creationRecords+21)
	require.NoError(t, err)
	_, err = adm.Exec(ctx, "UPDATE yamen.audit_heads SET seq = $2 WHERE tenant_id = $1", b.ID, creationRecords+21)
	require.NoError(t, err)
	v := verify(t, db, b)
	require.NotNil(t, v.Break)
	require.Equal(t, tenants.BreakContent, v.Break.Kind, v.Break.String())
	require.EqualValues(t, creationRecords+21, v.Break.Seq)
}

func TestAuditLogIsAppendOnlyForTheService(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, sql := range []string{
		"UPDATE audit_log SET target = 'x'",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
		"DELETE FROM audit_heads",
		"TRUNCATE audit_heads",
	} {
		err := b.db.Tx(b.ctx, b.tenant.ID, tenants.System().String(), func(tx *tenants.Tx) error {
			_, err := tx.Exec(b.ctx, sql)
			return err
		})
		requireSQLState(t, "42501", err, sql)
	}
	requireIntact(t, verify(t, b.db, b.tenant), creationRecords)
}

// Audit refuses to write without a key, and so the change it records fails
// with it.
func TestAuditNeedsAKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keyless := &tenants.DB{Pool: b.db.Pool}
	err := keyless.Tx(b.ctx, b.tenant.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		_, err := tenants.CreateOrg(b.ctx, tx, tenants.NewOrg{Code: "keyless", Name: "无钥", Kind: "other"})
		return err
	})
	require.ErrorContains(t, err, "AuditKey")
	r, err := b.db.Reader(b.tenant.ID, tenants.System().String())
	require.NoError(t, err)
	orgs, err := tenants.ListOrgs(b.ctx, r, nil)
	require.NoError(t, err)
	require.Len(t, orgs, 1, "only the root org: the keyless change was rolled back")

	// Another key does not verify this chain.
	other := append([]byte{}, b.db.AuditKey...)
	other[0] ^= 1
	v, err := tenants.VerifyAudit(b.ctx, r, other)
	require.NoError(t, err)
	require.NotNil(t, v.Break)
	require.Equal(t, tenants.BreakContent, v.Break.Kind)
	require.EqualValues(t, 1, v.Break.Seq)
}

// Details go in as Go marshals them and come back as PostgreSQL renders
// jsonb: keys reordered, numbers respelled. The MAC covers both alike.
func TestAuditDetailsSurviveJSONB(t *testing.T) {
	t.Parallel()
	b := setup(t)
	details := map[string]any{
		"float":   0.1,
		"big":     1e21,
		"tiny":    1e-7,
		"negzero": math.Copysign(0, -1),
		"int":     int64(math.MaxInt64),
		"uint":    uint64(math.MaxUint64),
		"raw":     json.RawMessage(`1.500E+3`),
		"number":  json.Number("-0.000120"),
		"html":    "<a href='x'>&</a>",
		"rare":    "张𠀀䶮\u2028\t\"\\",
		"nested":  map[string]any{"bb": []any{1, "2", nil, true, map[string]any{}}, "a": []any{}},
		"":        "empty key",
		"键":       "unicode key",
		"aa":      1, "b": 2,
		"nil": nil,
	}
	record(t, b.db, b.tenant, "test.details", "", details)
	requireIntact(t, verify(t, b.db, b.tenant), creationRecords+1)
}

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"b": 1, "a": [1.50, 100, -0.0, 0.001, 1e2, 1E-2, 12.3400e+1]}`: `{"a":[15e-1,1e2,0,1e-3,1e2,1e-2,1234e-1],"b":1}`,
		`{"aa": null, "b": true, "": "x"}`:                               `{"":"x","aa":null,"b":true}`,
		`"\u00e9\u003c"`:                                                 `"é\u003c"`,
		`-120`:                                                           `-12e1`,
		`0e999`:                                                          `0`,
		`[1e-999999999]`:                                                 `[1e-999999999]`,
	} {
		got, err := tenants.CanonicalJSON([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, string(got), in)
	}
	for _, bad := range []string{``, `{`, `1 2`, `[1e99999999999]`, `nul`} {
		_, err := tenants.CanonicalJSON([]byte(bad))
		require.Error(t, err, bad)
	}
}

// FuzzCanonicalJSON: the canonical form is a fixed point, valid JSON, and
// indifferent to how the input was spelled.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":2}`, `[1.50,1e2,-0.0]`, `"\u2028<>&"`, `{"x":{"y":[null,true,false]}}`, `1E+400`, `0.000`, `{"a":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := tenants.CanonicalJSON([]byte(in))
		if err != nil {
			return
		}
		require.True(t, json.Valid(c), "%q → %q", in, c)
		again, err := tenants.CanonicalJSON(c)
		require.NoError(t, err)
		require.Equal(t, string(c), string(again), "not a fixed point")
		var v any
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&v))
		indented, err := json.MarshalIndent(v, "", "  ")
		require.NoError(t, err)
		respelled, err := tenants.CanonicalJSON(indented)
		require.NoError(t, err)
		require.Equal(t, string(c), string(respelled))
	})
}

func TestParseAuditKey(t *testing.T) {
	t.Parallel()
	k, err := tenants.ParseAuditKey("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	require.NoError(t, err)
	require.Len(t, k, 32)
	k2, err := tenants.ParseAuditKey("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=")
	require.NoError(t, err)
	require.Equal(t, k, k2, "base64 of the same bytes")
	k3, err := tenants.ParseAuditKey("ABEiM0RVZneImaq7zN3u_wARIjNEVWZ3iJmqu8zd7v8")
	require.NoError(t, err)
	require.Equal(t, k, k3, "URL alphabet, unpadded")
	dev, err := tenants.ParseAuditKey(tenants.DevAuditKey)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(dev), 32)
	for _, bad := range []string{"", "00ff", "not a key!", "c2hvcnQ="} {
		_, err := tenants.ParseAuditKey(bad)
		require.Error(t, err, bad)
	}
}

// Records from before migration 004 are numbered but unsealed. They may only
// open a chain; VerifyAudit counts them. The chains here live in temporary
// tables of the admin's transaction, which shadow the real ones, so any
// shape can be tried without touching the shared schema.
func TestVerifyAuditUnsealedRecords(t *testing.T) {
	t.Parallel()
	key := tenanttest.DB(t).AuditKey
	type rec struct {
		seq    int64
		sealed bool
		prev   []byte // instead of the previous record's MAC, when set
	}
	run := func(t *testing.T, recs []rec, headAt int64) tenants.AuditVerification {
		ctx := context.Background()
		tx, err := admin(t).Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck // only temporary tables
		tn := uuid.New()
		for _, sql := range []string{
			`CREATE TEMP TABLE audit_log (tenant_id uuid, id bigint, seq bigint, at timestamptz, subject text, action text,
				target text, details jsonb, request_id text, prev_mac bytea, mac bytea) ON COMMIT DROP`,
			`CREATE TEMP TABLE audit_heads (tenant_id uuid, seq bigint, mac bytea) ON COMMIT DROP`,
			`SELECT set_config('search_path', 'yamen, public', true)`,
		} {
			_, err := tx.Exec(ctx, sql)
			require.NoError(t, err)
		}
		_, err = tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, tn.String())
		require.NoError(t, err)
		at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
		prev, head := []byte{}, []byte{}
		for i, r := range recs {
			mac := []byte{}
			p := []byte{}
			if r.sealed {
				p = prev
				mac = tenants.AuditRecordMAC(key, tn, r.seq, at, "system", "test.write", "", []byte(`{}`), "", p)
			}
			if r.prev != nil {
				p = r.prev
			}
			_, err := tx.Exec(ctx, `INSERT INTO audit_log VALUES ($1, $2, $3, $4, 'system', 'test.write', '', '{}', '', $5, $6)`, tn, 100+i, r.seq, at, p, mac)
			require.NoError(t, err)
			prev = mac
			if r.seq == headAt {
				head = mac
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit_heads VALUES ($1, $2, $3)`, tn, headAt, head)
		require.NoError(t, err)
		v, err := tenants.VerifyAudit(ctx, tx, key)
		require.NoError(t, err)
		return v
	}

	t.Run("UnsealedThenSealed", func(t *testing.T) {
		t.Parallel()
		v := run(t, []rec{{1, false, nil}, {2, false, nil}, {3, true, nil}, {4, true, nil}}, 4)
		require.Nil(t, v.Break, "%v", v.Break)
		require.EqualValues(t, 4, v.Records)
		require.EqualValues(t, 2, v.Unsealed)
	})
	t.Run("OnlyUnsealed", func(t *testing.T) {
		t.Parallel()
		v := run(t, []rec{{1, false, nil}, {2, false, nil}}, 2)
		require.Nil(t, v.Break, "%v", v.Break)
		require.EqualValues(t, 2, v.Unsealed)
	})
	t.Run("UnsealedAfterSealed", func(t *testing.T) {
		t.Parallel()
		v := run(t, []rec{{1, false, nil}, {2, true, nil}, {3, false, nil}}, 3)
		require.NotNil(t, v.Break)
		require.Equal(t, tenants.AuditBreak{Kind: tenants.BreakUnsealed, ID: 102, Seq: 3, Detail: v.Break.Detail}, *v.Break)
	})
	t.Run("UnsealedWithALink", func(t *testing.T) {
		t.Parallel()
		v := run(t, []rec{{1, false, make([]byte, 32)}}, 1)
		require.NotNil(t, v.Break)
		require.Equal(t, tenants.BreakLink, v.Break.Kind)
	})
	t.Run("SeqTwice", func(t *testing.T) {
		t.Parallel()
		v := run(t, []rec{{1, true, nil}, {2, true, nil}, {2, true, nil}}, 2)
		require.NotNil(t, v.Break)
		require.Equal(t, tenants.BreakGap, v.Break.Kind)
		require.Contains(t, v.Break.Detail, "seq 2 appears more than once")
	})
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		v := run(t, nil, 0)
		require.Nil(t, v.Break, "%v", v.Break)
		require.Zero(t, v.Records)
	})
}
