package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/modules/files"
	"yamen/modules/files/filestest"
	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// fixture is one tenant with a provisioned files module, acting as one
// of the tenant's API keys.
type fixture struct {
	m      *files.Module
	db     *tenants.DB
	tenant tenants.Tenant
	ctx    context.Context
	bucket filestest.Bucket
}

func setup(t *testing.T, opts ...files.Option) *fixture {
	t.Helper()
	db := tenanttest.DB(t)
	tn := tenanttest.Tenant(t, tenants.KindPoliceBureau, "files")
	return &fixture{
		m:      filestest.Module(t, db.Pool, opts...),
		db:     db,
		tenant: tn,
		ctx:    as(tn, keySubject(tn)),
		bucket: filestest.OpenBucket(t),
	}
}

func keySubject(tn tenants.Tenant) tenants.Subject {
	return tenants.Subject{Kind: tenants.SubjectTenantKey, ID: uuid.New(), TenantID: tn.ID, Scopes: []string{"*"}}
}

func as(tn tenants.Tenant, s tenants.Subject) context.Context {
	return tenants.WithTenant(tenants.WithSubject(context.Background(), s), tn)
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: uint8(x), G: 80, B: 160, A: 255})
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func jpegBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 16)), nil))
	return b.Bytes()
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func newUpload(purpose, name, contentType string, body []byte) files.NewUpload {
	return files.NewUpload{Purpose: purpose, Name: name, ContentType: contentType, Size: int64(len(body)), SHA256: hexSum(body)}
}

// put sends body to a presigned upload as a browser would: the URL, the
// headers it came with, the body.
func put(t testing.TB, u files.Upload, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(u.Method, u.URL, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range u.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, raw
}

// uploadReady registers, puts and completes a file.
func (fx *fixture) uploadReady(t *testing.T, purpose, name, contentType string, body []byte) files.File {
	t.Helper()
	u, err := fx.m.Register(fx.ctx, newUpload(purpose, name, contentType, body))
	require.NoError(t, err)
	status, msg := put(t, u, body)
	require.Equal(t, http.StatusOK, status, msg)
	f, err := fx.m.Complete(fx.ctx, u.File.ID)
	require.NoError(t, err)
	require.Equal(t, files.StatusReady, f.Status)
	return f
}

// requireProblem asserts err is a problem of status naming exactly the
// given locations, and returns it.
func requireProblem(t testing.TB, err error, status int, locations ...string) *problem.Error {
	t.Helper()
	require.Error(t, err)
	pe, ok := problem.As(err)
	require.True(t, ok, "not a problem: %v", err)
	require.Equal(t, status, pe.Status, pe.Error())
	var got []string
	for _, f := range pe.Fields {
		got = append(got, f.Location)
	}
	require.ElementsMatch(t, locations, got, pe.Error())
	require.NotEmpty(t, pe.Detail)
	return pe
}

func (fx *fixture) file(t testing.TB, id uuid.UUID) files.File {
	t.Helper()
	var f files.File
	require.NoError(t, fx.db.Tx(context.Background(), fx.tenant.ID, "system", func(tx *tenants.Tx) error {
		var err error
		f, err = files.Get(context.Background(), tx, id)
		return err
	}))
	return f
}

func TestUploadCheckDownloadDelete(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	body := pngBytes(t, 64, 48)
	name := "宣传活动 现场照片 2026-05-01.png"

	u, err := fx.m.Register(fx.ctx, newUpload("photo", name, "image/png", body))
	require.NoError(t, err)
	require.Equal(t, files.StatusPending, u.File.Status)
	require.Equal(t, http.MethodPut, u.Method)
	require.Equal(t, "image/png", u.Headers["Content-Type"])
	require.NotEmpty(t, u.Headers["X-Amz-Checksum-Sha256"], "the SHA-256 is signed into the URL")
	require.WithinDuration(t, time.Now().Add(files.DefaultUploadExpiry), u.ExpiresAt, time.Minute)

	status, msg := put(t, u, body)
	require.Equal(t, http.StatusOK, status, msg)
	f, err := fx.m.Complete(fx.ctx, u.File.ID)
	require.NoError(t, err)
	require.Equal(t, files.StatusReady, f.Status)
	require.Equal(t, "image/png", f.SniffedType)
	require.Equal(t, hexSum(body), f.SHA256)
	require.Equal(t, int64(len(body)), f.Size)
	require.Equal(t, name, f.Name)
	require.NotNil(t, f.CheckedAt)
	require.Nil(t, f.PurgeAt, "a ready file is kept")

	again, err := fx.m.Complete(fx.ctx, f.ID)
	require.NoError(t, err, "completing twice is harmless")
	require.Equal(t, files.StatusReady, again.Status)

	t.Run("WriteOnce", func(t *testing.T) {
		status, _ := put(t, u, body)
		require.Equal(t, http.StatusPreconditionFailed, status, "the upload URL cannot replace a checked object")
	})

	// Other modules attach it by id.
	require.NoError(t, fx.db.Tx(context.Background(), fx.tenant.ID, "system", func(tx *tenants.Tx) error {
		got, err := files.Attach(context.Background(), tx, f.ID, "photo")
		require.NoError(t, err)
		require.Equal(t, f.ID, got.ID)
		return nil
	}))

	d, err := fx.m.DownloadURL(fx.ctx, f.ID)
	require.NoError(t, err)
	resp, got := get(t, d.URL)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(got))
	require.Equal(t, body, got)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	require.Contains(t, resp.Header.Get("Content-Disposition"), "filename*=utf-8''%E5%AE%A3", "the name travels in RFC 2231 form")

	require.NoError(t, fx.m.Delete(fx.ctx, f.ID))
	require.NoError(t, fx.m.Delete(fx.ctx, f.ID), "deleting twice is harmless")
	deleted := fx.file(t, f.ID)
	require.Equal(t, files.StatusDeleted, deleted.Status)
	require.NotNil(t, deleted.PurgeAt)
	require.WithinDuration(t, time.Now().Add(30*24*time.Hour), *deleted.PurgeAt, time.Minute, "photos are kept 30 days after deletion")
	require.True(t, fx.bucket.Exists(t, f.Key()), "the object stays for the retention period")

	_, err = fx.m.DownloadURL(fx.ctx, f.ID)
	requireProblem(t, err, http.StatusGone)
	require.NoError(t, fx.db.Tx(context.Background(), fx.tenant.ID, "system", func(tx *tenants.Tx) error {
		_, err := files.Attach(context.Background(), tx, f.ID, "photo")
		requireProblem(t, err, http.StatusUnprocessableEntity, "file_id")

		// The purge is written in the delete's transaction, once, for when retention ends.
		var runAt time.Time
		var payload []byte
		var n int
		require.NoError(t, tx.QueryRow(context.Background(), `SELECT count(*) OVER (), run_at, payload FROM outbox
			WHERE task_type = $1 AND dedupe_key = $2`, files.TaskPurge, f.ID.String()).Scan(&n, &runAt, &payload))
		require.Equal(t, 1, n)
		require.WithinDuration(t, *deleted.PurgeAt, runAt, time.Second)
		var p files.PurgePayload
		require.NoError(t, json.Unmarshal(payload, &p))
		require.Equal(t, files.PurgePayload{TenantID: fx.tenant.ID, FileID: f.ID}, p)

		audit, err := tenants.ListAudit(context.Background(), tx, tenants.AuditFilter{})
		require.NoError(t, err)
		var actions []string
		for _, e := range audit {
			if e.Target == f.ID.String() {
				actions = append(actions, e.Action)
			}
		}
		require.Equal(t, []string{"file.delete", "file.download", "file.upload"}, actions)
		return nil
	}))

	// The sweep leaves it until retention ends, then removes it once.
	n, err := fx.m.Sweep(context.Background(), fx.tenant.ID, time.Now())
	require.NoError(t, err)
	require.Zero(t, n)
	require.NoError(t, fx.m.Purge(context.Background(), files.PurgePayload{TenantID: fx.tenant.ID, FileID: f.ID}), "an early purge task does nothing")
	require.True(t, fx.bucket.Exists(t, f.Key()))
	later := time.Now().Add(31 * 24 * time.Hour)
	n, err = fx.m.Sweep(context.Background(), fx.tenant.ID, later)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.False(t, fx.bucket.Exists(t, f.Key()))
	n, err = fx.m.Sweep(context.Background(), fx.tenant.ID, later)
	require.NoError(t, err)
	require.Zero(t, n, "the sweep is idempotent")
	require.Equal(t, files.StatusDeleted, fx.file(t, f.ID).Status, "the row outlives its object")
}

func TestBadUploads(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	img := pngBytes(t, 32, 32)

	t.Run("WrongSniffedType", func(t *testing.T) {
		t.Parallel()
		// A PDF declared as a PNG: the store takes it, the check does not.
		u, err := fx.m.Register(fx.ctx, newUpload("photo", "photo.png", "image/png", pdfBytes))
		require.NoError(t, err)
		status, msg := put(t, u, pdfBytes)
		require.Equal(t, http.StatusOK, status, msg)
		_, err = fx.m.Complete(fx.ctx, u.File.ID)
		pe := requireProblem(t, err, http.StatusUnprocessableEntity, "file.content_type")
		require.Contains(t, pe.Fields[0].Message, "application/pdf")
		f := fx.file(t, u.File.ID)
		require.Equal(t, files.StatusRejected, f.Status)
		require.Equal(t, "file.content_type", f.Problems[0].Location)
		require.False(t, fx.bucket.Exists(t, f.Key()), "a rejected object is removed at once")
		_, err = fx.m.Complete(fx.ctx, u.File.ID)
		requireProblem(t, err, http.StatusConflict)
	})
	t.Run("SniffedTypeOtherThanDeclared", func(t *testing.T) {
		t.Parallel()
		// Both are photos, but the content must be what was declared.
		jpg := jpegBytes(t)
		u, err := fx.m.Register(fx.ctx, newUpload("photo", "photo.png", "image/png", jpg))
		require.NoError(t, err)
		status, msg := put(t, u, jpg)
		require.Equal(t, http.StatusOK, status, msg)
		_, err = fx.m.Complete(fx.ctx, u.File.ID)
		pe := requireProblem(t, err, http.StatusUnprocessableEntity, "file.content_type")
		require.Contains(t, pe.Fields[0].Message, "image/jpeg")
	})
	t.Run("TypeNotAllowedForPurpose", func(t *testing.T) {
		t.Parallel()
		_, err := fx.m.Register(fx.ctx, newUpload("contract", "合同.png", "image/png", img))
		pe := requireProblem(t, err, http.StatusUnprocessableEntity, "body.content_type")
		require.Contains(t, pe.Fields[0].Message, "application/pdf")
	})
	t.Run("OverSize", func(t *testing.T) {
		t.Parallel()
		up := newUpload("photo", "big.png", "image/png", img)
		up.Size = 10<<20 + 1
		_, err := fx.m.Register(fx.ctx, up)
		requireProblem(t, err, http.StatusUnprocessableEntity, "body.size")
		up.Size = 10 << 20
		_, err = fx.m.Register(fx.ctx, up)
		require.NoError(t, err, "exactly the limit is fine")
	})
	t.Run("ObjectLargerThanDeclared", func(t *testing.T) {
		t.Parallel()
		u, err := fx.m.Register(fx.ctx, newUpload("photo", "a.png", "image/png", img))
		require.NoError(t, err)
		// Through the URL the store refuses another length outright ...
		status, _ := put(t, u, append(bytes.Clone(img), 0))
		require.Equal(t, http.StatusForbidden, status)
		// ... and an object put there another way fails the check.
		fx.bucket.Put(t, u.File.Key(), "image/png", append(bytes.Clone(img), 0))
		_, err = fx.m.Complete(fx.ctx, u.File.ID)
		requireProblem(t, err, http.StatusUnprocessableEntity, "file.size")
	})
	t.Run("NeverUploaded", func(t *testing.T) {
		t.Parallel()
		u, err := fx.m.Register(fx.ctx, newUpload("photo", "a.png", "image/png", img))
		require.NoError(t, err)
		_, err = fx.m.Complete(fx.ctx, u.File.ID)
		requireProblem(t, err, http.StatusConflict)
		require.Equal(t, files.StatusPending, fx.file(t, u.File.ID).Status, "it may still be uploaded")
		_, err = fx.m.DownloadURL(fx.ctx, u.File.ID)
		requireProblem(t, err, http.StatusConflict)
		require.NoError(t, fx.db.Tx(context.Background(), fx.tenant.ID, "system", func(tx *tenants.Tx) error {
			_, err := files.Attach(context.Background(), tx, u.File.ID, "photo")
			pe := requireProblem(t, err, http.StatusUnprocessableEntity, "file_id")
			require.Contains(t, pe.Fields[0].Message, "pending")
			return nil
		}))
	})
	t.Run("HashMismatch", func(t *testing.T) {
		t.Parallel()
		other := pngBytes(t, 32, 32)
		other[len(other)-5] ^= 0xff // same length, same type, other bytes
		u, err := fx.m.Register(fx.ctx, newUpload("photo", "a.png", "image/png", img))
		require.NoError(t, err)
		// Through the URL the store checks the signed SHA-256 itself ...
		status, msg := put(t, u, other)
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, msg, "BadDigest")
		// ... and the check hashes an object the store kept no SHA-256 of.
		fx.bucket.Put(t, u.File.Key(), "image/png", other)
		_, err = fx.m.Complete(fx.ctx, u.File.ID)
		requireProblem(t, err, http.StatusUnprocessableEntity, "file.sha256")
	})
	t.Run("UncheckedObjectThatMatches", func(t *testing.T) {
		t.Parallel()
		// A store without SHA-256 checksums: the check reads and hashes the object.
		u, err := fx.m.Register(fx.ctx, newUpload("photo", "a.png", "image/png", img))
		require.NoError(t, err)
		fx.bucket.Put(t, u.File.Key(), "image/png", img)
		f, err := fx.m.Complete(fx.ctx, u.File.ID)
		require.NoError(t, err)
		require.Equal(t, files.StatusReady, f.Status)
	})
	t.Run("TypeOrLengthChangedOnPut", func(t *testing.T) {
		t.Parallel()
		u, err := fx.m.Register(fx.ctx, newUpload("photo", "a.png", "image/png", img))
		require.NoError(t, err)
		u.Headers["Content-Type"] = "text/html"
		status, _ := put(t, u, img)
		require.Equal(t, http.StatusForbidden, status, "the content type is signed")
	})
	t.Run("PathTricksInNames", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{
			"../../etc/passwd", "..", ".", "a/b.png", `a\b.png`, `C:\x.png`, "x.png\x00.exe", "a\nb.png", "a\rb.png",
			"a\tb.png", "\x7f.png", "\u202egnp.exe", "a\u200bb.png", strings.Repeat("长", 86), "CON", "con.png",
			"LPT1.txt", "COM9", "nul .png", "aux", "x.png.", "x.png ", " x.png", ".htaccess", "a|b", "what?.png",
			"a*b", "<b>.png", "\xff\xfe.png", "",
		} {
			_, err := fx.m.Register(fx.ctx, newUpload("photo", name, "image/png", img))
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.name")
		}
	})
	t.Run("EveryBadFieldIsNamed", func(t *testing.T) {
		t.Parallel()
		_, err := fx.m.Register(fx.ctx, files.NewUpload{Purpose: "selfie", Name: "../x", ContentType: "image/png", Size: 0, SHA256: "abc"})
		requireProblem(t, err, http.StatusUnprocessableEntity, "body.purpose", "body.name", "body.size", "body.sha256")
	})
}

func TestExpiredURLsAreDeniedByTheServer(t *testing.T) {
	t.Parallel()
	// Long enough for the upload that sets the test up to finish on a busy
	// machine, short enough to wait out.
	const expiry = 4 * time.Second
	fx := setup(t, files.WithExpiry(expiry, expiry, 0))
	body := pngBytes(t, 8, 8)
	ready := fx.uploadReady(t, "photo", "a.png", "image/png", body)
	d, err := fx.m.DownloadURL(fx.ctx, ready.ID)
	require.NoError(t, err)
	u, err := fx.m.Register(fx.ctx, newUpload("photo", "b.png", "image/png", body))
	require.NoError(t, err)

	// Presigned URLs count whole seconds from their signing time.
	time.Sleep(expiry + 1100*time.Millisecond)
	status, msg := put(t, u, body)
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, msg, "expired")
	resp, got := get(t, d.URL)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, string(got), "expired")
}

func TestOtherTenantsFilesDoNotExist(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	f := fx.uploadReady(t, "photo", "a.png", "image/png", pngBytes(t, 8, 8))
	other := tenanttest.Tenant(t, tenants.KindPoliceBureau, "files")
	ctx := as(other, keySubject(other))

	_, err := fx.m.DownloadURL(ctx, f.ID)
	requireProblem(t, err, http.StatusNotFound)
	_, err = fx.m.Complete(ctx, f.ID)
	requireProblem(t, err, http.StatusNotFound)
	requireProblem(t, fx.m.Delete(ctx, f.ID), http.StatusNotFound)
	require.NoError(t, fx.db.Tx(context.Background(), other.ID, "system", func(tx *tenants.Tx) error {
		_, err := files.Get(context.Background(), tx, f.ID)
		requireProblem(t, err, http.StatusNotFound)
		_, err = files.Attach(context.Background(), tx, f.ID, "photo")
		pe := requireProblem(t, err, http.StatusUnprocessableEntity, "file_id")
		require.Contains(t, pe.Fields[0].Message, "no such file")
		return nil
	}))
	require.Equal(t, files.StatusReady, fx.file(t, f.ID).Status, "untouched")
}

func TestAttach(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	contract := fx.uploadReady(t, "contract", "服务合同.pdf", "application/pdf", pdfBytes)
	require.NoError(t, fx.db.Tx(context.Background(), fx.tenant.ID, "system", func(tx *tenants.Tx) error {
		_, err := files.Attach(context.Background(), tx, contract.ID, "photo")
		pe := requireProblem(t, err, http.StatusUnprocessableEntity, "file_id")
		require.Contains(t, pe.Fields[0].Message, "contract")
		_, err = files.AttachAt(context.Background(), tx, "body.photos[1]", uuid.New(), "photo")
		requireProblem(t, err, http.StatusUnprocessableEntity, "body.photos[1]")
		got, err := files.Attach(context.Background(), tx, contract.ID, "contract")
		require.NoError(t, err)
		require.Equal(t, "application/pdf", got.SniffedType)
		return nil
	}))
}

func TestCitizensSeeOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	staff := fx.uploadReady(t, "licence_material", "a.png", "image/png", pngBytes(t, 8, 8))
	citizen := tenants.Subject{Kind: tenants.SubjectCitizen, ID: uuid.New()}
	ctx := as(fx.tenant, citizen)
	_, err := fx.m.DownloadURL(ctx, staff.ID)
	requireProblem(t, err, http.StatusNotFound)
	requireProblem(t, fx.m.Delete(ctx, staff.ID), http.StatusNotFound)

	body := jpegBytes(t)
	u, err := fx.m.Register(ctx, newUpload("licence_material", "身份证.jpg", "image/jpeg", body))
	require.NoError(t, err)
	status, msg := put(t, u, body)
	require.Equal(t, http.StatusOK, status, msg)
	// Only the uploader completes an upload.
	_, err = fx.m.Complete(fx.ctx, u.File.ID)
	requireProblem(t, err, http.StatusForbidden)
	own, err := fx.m.Complete(ctx, u.File.ID)
	require.NoError(t, err)
	require.Equal(t, citizen.String(), own.Owner)
	_, err = fx.m.DownloadURL(ctx, own.ID)
	require.NoError(t, err)
}

func TestSweepExpiresAbandonedUploads(t *testing.T) {
	t.Parallel()
	fx := setup(t, files.WithExpiry(0, 0, time.Hour))
	body := pngBytes(t, 8, 8)
	u, err := fx.m.Register(fx.ctx, newUpload("photo", "a.png", "image/png", body))
	require.NoError(t, err)
	status, msg := put(t, u, body)
	require.Equal(t, http.StatusOK, status, msg)
	never, err := fx.m.Register(fx.ctx, newUpload("photo", "b.png", "image/png", body))
	require.NoError(t, err)

	n, err := fx.m.Sweep(context.Background(), fx.tenant.ID, time.Now())
	require.NoError(t, err)
	require.Zero(t, n, "not stale yet")
	n, err = fx.m.Sweep(context.Background(), fx.tenant.ID, time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, id := range []uuid.UUID{u.File.ID, never.File.ID} {
		f := fx.file(t, id)
		require.Equal(t, files.StatusExpired, f.Status)
		require.False(t, fx.bucket.Exists(t, f.Key()))
	}
	_, err = fx.m.Complete(fx.ctx, u.File.ID)
	requireProblem(t, err, http.StatusConflict)

	// SweepAll reaches every tenant, and finds nothing left here.
	_, err = fx.m.SweepAll(context.Background(), time.Now().Add(2*time.Hour))
	require.NoError(t, err)
}

func TestUploadSmall(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	body := pngBytes(t, 20, 10)
	f, err := fx.m.UploadSmall(fx.ctx, files.SmallUpload{Purpose: "photo", Name: "现场.png", ContentType: "image/png", Body: body})
	require.NoError(t, err)
	require.Equal(t, files.StatusReady, f.Status)
	require.Equal(t, hexSum(body), f.SHA256)
	require.True(t, fx.bucket.Exists(t, f.Key()))

	_, err = fx.m.UploadSmall(fx.ctx, files.SmallUpload{Purpose: "photo", Name: "x.png", Body: pdfBytes})
	requireProblem(t, err, http.StatusUnprocessableEntity, "body.file")
	_, err = fx.m.UploadSmall(fx.ctx, files.SmallUpload{Purpose: "photo", Name: "x.png", ContentType: "image/jpeg", Body: body})
	requireProblem(t, err, http.StatusUnprocessableEntity, "body.file")
	_, err = fx.m.UploadSmall(fx.ctx, files.SmallUpload{Purpose: "photo", Name: "x.png", SHA256: hexSum(pdfBytes), Body: body})
	requireProblem(t, err, http.StatusUnprocessableEntity, "body.sha256")
	_, err = fx.m.UploadSmall(fx.ctx, files.SmallUpload{Purpose: "nope", Name: "CON", Body: nil})
	requireProblem(t, err, http.StatusUnprocessableEntity, "body.purpose", "body.name", "body.file")
}

type withPurposes struct{}

func (withPurposes) Module() modules.Info {
	return modules.Info{ID: "evidence", Title: modules.Text{ZH: "证据", EN: "Evidence"}}
}

func (withPurposes) FilePurposes() []files.Purpose {
	return []files.Purpose{{Name: "evidence:scan", Title: modules.Text{ZH: "证据扫描件", EN: "Evidence scan"},
		Types: []string{"application/pdf"}, MaxBytes: 1 << 20, Retention: 24 * time.Hour}}
}

func TestModulesDeclarePurposes(t *testing.T) {
	t.Parallel()
	db := tenanttest.DB(t)
	m := files.New()
	m.Adopt(withPurposes{}, files.New())
	require.NoError(t, m.Provision(context.Background(), filestest.Env(t, db.Pool)))
	var names []string
	for _, p := range m.Purposes() {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"photo", "contract", "licence_material", "service_result", "evidence:scan"}, names)

	dup := files.New(files.WithPurposes(files.Purpose{Name: "photo", Title: modules.Text{ZH: "照片", EN: "Photo"}, Types: []string{"image/png"}, MaxBytes: 1}))
	require.ErrorContains(t, dup.Provision(context.Background(), filestest.Env(t, db.Pool)), "declared twice")
	bad := files.New(files.WithPurposes(files.Purpose{Name: "Bad Name", Types: []string{"png"}}))
	err := bad.Provision(context.Background(), filestest.Env(t, db.Pool))
	require.ErrorContains(t, err, "name")
	require.ErrorContains(t, err, "title")
	require.ErrorContains(t, err, "bare media type")
	require.ErrorContains(t, err, "max bytes")
}

func TestConfiguration(t *testing.T) {
	t.Parallel()
	set := map[string]string{
		files.SettingEndpoint: "ftp://x", files.SettingBucket: "No_Such", files.SettingRegion: "",
		files.SettingAccessKey: "", files.SettingSecretKey: "", files.SettingPathStyle: "sometimes",
	}
	_, err := files.ConfigFrom(func(n string) string { return set[n] })
	for _, name := range []string{"YAMEN_S3_ENDPOINT", "YAMEN_S3_BUCKET", "YAMEN_S3_REGION", "YAMEN_S3_ACCESS_KEY", "YAMEN_S3_PATH_STYLE"} {
		require.ErrorContains(t, err, name)
	}

	// A bucket that does not exist fails provisioning; an unreachable store does not.
	db := tenanttest.DB(t)
	missing := func(n string) string {
		if n == files.SettingBucket {
			return "no-such-bucket-" + strings.ToLower(uuid.NewString()[:8])
		}
		return filestest.Setting(n)
	}
	require.ErrorContains(t, files.New().Provision(context.Background(), modules.Env{DB: db.Pool, Setting: missing}), "does not exist")
	down := func(n string) string {
		if n == files.SettingEndpoint {
			return "http://127.0.0.1:1"
		}
		return filestest.Setting(n)
	}
	m := files.New()
	require.NoError(t, m.Provision(context.Background(), modules.Env{DB: db.Pool, Setting: down}))
	tn := tenanttest.Tenant(t, tenants.KindOther, "files")
	ctx := as(tn, keySubject(tn))
	body := pngBytes(t, 4, 4)
	u, err := m.Register(ctx, newUpload("photo", "a.png", "image/png", body))
	require.NoError(t, err, "registering needs no store: signing is local")
	_, err = m.Complete(ctx, u.File.ID)
	pe := requireProblem(t, err, http.StatusServiceUnavailable)
	require.NotContains(t, pe.Detail, "127.0.0.1", "no internal detail")
}

// Removing objects after the response is not lost to an S3 outage: the
// sweep fails, the file stays due, and the next sweep removes it.
func TestSweepSurvivesStorageOutage(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	f := fx.uploadReady(t, "photo", "a.png", "image/png", pngBytes(t, 8, 8))
	require.NoError(t, fx.m.Delete(fx.ctx, f.ID))
	down := files.New()
	require.NoError(t, down.Provision(context.Background(), modules.Env{DB: fx.db.Pool, Setting: func(n string) string {
		if n == files.SettingEndpoint {
			return "http://127.0.0.1:1"
		}
		return filestest.Setting(n)
	}}))

	later := time.Now().Add(31 * 24 * time.Hour)
	n, err := down.Sweep(context.Background(), fx.tenant.ID, later)
	require.Error(t, err)
	require.Zero(t, n)
	require.True(t, fx.bucket.Exists(t, f.Key()))

	// A purge task fails the same way, to be retried: here for an upload
	// deleted before it was checked, which is due at once.
	body := pngBytes(t, 4, 4)
	u, err := fx.m.Register(fx.ctx, newUpload("photo", "b.png", "image/png", body))
	require.NoError(t, err)
	status, msg := put(t, u, body)
	require.Equal(t, http.StatusOK, status, msg)
	require.NoError(t, fx.m.Delete(fx.ctx, u.File.ID))
	task := files.PurgePayload{TenantID: fx.tenant.ID, FileID: u.File.ID}
	require.Error(t, down.Purge(context.Background(), task))
	require.True(t, fx.bucket.Exists(t, u.File.Key()))
	require.NoError(t, fx.m.Purge(context.Background(), task))
	require.False(t, fx.bucket.Exists(t, u.File.Key()))
	require.NoError(t, fx.m.Purge(context.Background(), task), "a task that runs twice does no harm")

	n, err = fx.m.Sweep(context.Background(), fx.tenant.ID, later)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.False(t, fx.bucket.Exists(t, f.Key()))
}

// The worker runs the module's tasks in a transaction of the task's tenant.
func TestTasks(t *testing.T) {
	t.Parallel()
	fx := setup(t)
	tasks := map[string]modules.Task{}
	for _, task := range fx.m.Tasks() {
		tasks[task.Type] = task
	}
	require.Equal(t, []modules.Schedule{{Task: files.TaskSweep, Cron: "@hourly"}}, fx.m.Schedules())
	run := func(taskType string, payload any) error {
		raw, err := json.Marshal(payload)
		require.NoError(t, err)
		return fx.db.Tx(context.Background(), fx.tenant.ID, tenants.System().String(), func(tx *tenants.Tx) error {
			return tasks[taskType].Handle(context.Background(), tx, raw)
		})
	}

	body := pngBytes(t, 4, 4)
	u, err := fx.m.Register(fx.ctx, newUpload("photo", "a.png", "image/png", body))
	require.NoError(t, err)
	status, msg := put(t, u, body)
	require.Equal(t, http.StatusOK, status, msg)
	require.NoError(t, fx.m.Delete(fx.ctx, u.File.ID), "deleted before its check: due at once")

	other := tenanttest.Tenant(t, tenants.KindOther, "files")
	require.ErrorContains(t, run(files.TaskPurge, files.PurgePayload{TenantID: other.ID, FileID: u.File.ID}), "run in tenant")
	require.NoError(t, run(files.TaskPurge, files.PurgePayload{TenantID: fx.tenant.ID, FileID: u.File.ID}))
	require.False(t, fx.bucket.Exists(t, u.File.Key()))
	require.NoError(t, run(files.TaskPurge, files.PurgePayload{TenantID: fx.tenant.ID, FileID: u.File.ID}), "idempotent")

	abandoned, err := fx.m.Register(fx.ctx, newUpload("photo", "b.png", "image/png", body))
	require.NoError(t, err)
	require.NoError(t, run(files.TaskSweep, nil))
	require.Equal(t, files.StatusPending, fx.file(t, abandoned.File.ID).Status, "not stale yet")
}
