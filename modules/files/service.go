package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// TaskPurge is the outbox task that removes a deleted file's object once
// its retention has passed; its dedupe key is the file id.
const TaskPurge = "files:purge"

// PurgePayload is the payload of a files:purge task.
type PurgePayload struct {
	TenantID uuid.UUID `json:"tenant_id"`
	FileID   uuid.UUID `json:"file_id"`
}

// NewUpload is what a client says about the file it is about to upload.
type NewUpload struct {
	Purpose     string `json:"purpose" doc:"用途，如 photo、contract (purpose, such as photo or contract)"`
	Name        string `json:"name" doc:"文件名，下载时使用 (file name offered on download)"`
	ContentType string `json:"content_type" doc:"内容类型，须与内容一致且为用途所允许 (content type; must match the content and be allowed for the purpose)"`
	Size        int64  `json:"size" minimum:"1" doc:"字节数 (size in bytes)"`
	SHA256      string `json:"sha256" pattern:"^[0-9a-fA-F]{64}$" doc:"内容的十六进制 SHA-256 (hex SHA-256 of the content)"`
}

// Upload is a registered upload: where and how to PUT the content.
type Upload struct {
	File   File   `json:"file"`
	Method string `json:"method" doc:"总是 PUT (always PUT)"`
	URL    string `json:"url" doc:"预签名上传地址 (presigned upload URL)"`
	// Headers must be sent with the PUT exactly as given; the body must be
	// exactly the declared bytes.
	Headers   map[string]string `json:"headers" doc:"上传时必须原样携带的请求头 (headers the PUT must carry as given)"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// Download is a presigned download URL.
type Download struct {
	URL         string    `json:"url" doc:"预签名下载地址 (presigned download URL)"`
	ExpiresAt   time.Time `json:"expires_at"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
}

// errUnavailableProblem is what callers see when S3 cannot be reached.
var errUnavailableProblem = problem.New(http.StatusServiceUnavailable, "文件存储暂时不可用，请稍后再试 (file storage is unavailable; try again later)")

// storeErr logs a storage failure with the request and returns what the
// caller may see: a 503 when the store is unreachable, the error itself
// (a 500 without its text) otherwise.
func (m *Module) storeErr(ctx context.Context, err error) error {
	if errors.Is(err, errUnavailable) {
		m.log.ErrorContext(ctx, "files: storage unreachable", "request_id", tenants.RequestID(ctx), "error", err)
		return errUnavailableProblem
	}
	return err
}

func parties(ctx context.Context) (tenants.Tenant, tenants.Subject, error) {
	t, ok := tenants.TenantFrom(ctx)
	s, ok2 := tenants.SubjectFrom(ctx)
	if !ok || !ok2 || t.ID == uuid.Nil {
		return tenants.Tenant{}, tenants.Subject{}, errors.New("files: the context carries no tenant or subject")
	}
	return t, s, nil
}

func objectKey(tenant, id uuid.UUID) string {
	s := id.String()
	// A level of fan-out keeps directories small on file-system backed stores.
	return "t/" + tenant.String() + "/" + s[:2] + "/" + s
}

// check validates a registration, naming every bad field under prefix.
func (m *Module) check(prefix string, in NewUpload) (Purpose, string, []byte, []problem.Field) {
	var fields []problem.Field
	p, ok := m.purposes.get(in.Purpose)
	if !ok {
		fields = append(fields, problem.Field{Location: prefix + "purpose",
			Message: fmt.Sprintf("未知的用途，可用：%s (unknown purpose; known: %s)", strings.Join(m.purposes.names(), "、"), strings.Join(m.purposes.names(), ", ")), Value: echo(in.Purpose)})
	}
	name, why := CheckName(in.Name)
	if why != "" {
		fields = append(fields, problem.Field{Location: prefix + "name", Message: why, Value: echo(in.Name)})
	}
	if ok && !p.accepts(in.ContentType) {
		fields = append(fields, problem.Field{Location: prefix + "content_type",
			Message: fmt.Sprintf("用途 %s 只接受 %s (purpose %s accepts only %s)", p.Name, p.typesText(), p.Name, p.typesText()), Value: echo(in.ContentType)})
	}
	if in.Size <= 0 {
		fields = append(fields, problem.Field{Location: prefix + "size", Message: "文件不能为空 (the file is empty)", Value: in.Size})
	} else if ok && in.Size > p.MaxBytes {
		fields = append(fields, problem.Field{Location: prefix + "size",
			Message: fmt.Sprintf("文件过大，用途 %s 最多 %d 字节 (too large: purpose %s allows at most %d bytes)", p.Name, p.MaxBytes, p.Name, p.MaxBytes), Value: in.Size})
	}
	sum, err := hex.DecodeString(in.SHA256)
	if err != nil || len(sum) != sha256.Size {
		fields = append(fields, problem.Field{Location: prefix + "sha256", Message: "须为 64 位十六进制 SHA-256 (want a hex SHA-256, 64 digits)", Value: echo(in.SHA256)})
	}
	return p, name, sum, fields
}

// echo is a bad value as a problem shows it back: at most 256 bytes, cut
// at a character boundary.
func echo(s string) string {
	if len(s) <= 256 {
		return s
	}
	cut := 256
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Register records an upload and returns the presigned URL to PUT it to.
// The tenant and subject come from ctx.
func (m *Module) Register(ctx context.Context, in NewUpload) (Upload, error) {
	tn, subject, err := parties(ctx)
	if err != nil {
		return Upload{}, err
	}
	_, name, sum, fields := m.check("body.", in)
	if len(fields) > 0 {
		return Upload{}, problem.Invalid(fields...)
	}
	id := uuid.New()
	key := objectKey(tn.ID, id)
	// Signing is local; do it before writing anything.
	put, err := m.store.presignPut(ctx, key, in.ContentType, in.Size, sum, m.uploadExpiry)
	if err != nil {
		return Upload{}, err
	}
	now := time.Now()
	var f File
	err = m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		f, err = insert(ctx, tx, id, in.Purpose, name, in.ContentType, in.Size, sum, key, now.Add(m.pendingExpiry))
		return err
	})
	if err != nil {
		return Upload{}, err
	}
	return Upload{File: f, Method: http.MethodPut, URL: put.URL, Headers: put.Headers, ExpiresAt: now.Add(m.uploadExpiry)}, nil
}

func insert(ctx context.Context, tx *tenants.Tx, id uuid.UUID, purpose, name, contentType string, size int64, sum []byte, key string, purgeAt time.Time) (File, error) {
	// Registering is the hot path: return only what the database decides.
	f := File{ID: id, Purpose: purpose, Name: name, ContentType: contentType, Size: size, SHA256: hex.EncodeToString(sum),
		Status: StatusPending, Owner: tx.Subject(), PurgeAt: &purgeAt, key: key}
	err := tx.QueryRow(ctx, `INSERT INTO files (tenant_id, id, purpose, owner, name, declared_type, size, sha256, object_key, purge_at)
		VALUES (current_tenant(), $1, $2, current_setting('app.subject_id'), $3, $4, $5, $6, $7, $8)
		RETURNING created_at`, id, purpose, name, contentType, size, sum, key, purgeAt).Scan(&f.CreatedAt)
	if err != nil {
		return File{}, fmt.Errorf("files: register: %w", err)
	}
	return f, nil
}

// Complete checks an uploaded object against its registration and the
// purpose: its size, the type sniffed from its first bytes and its SHA-256.
// A file that passes becomes ready; one that fails is rejected for good,
// its object removed, and the 422 names what was wrong. An upload not yet
// made is a 409 and may still be made while its URL works. Completing a
// ready file again returns it.
func (m *Module) Complete(ctx context.Context, id uuid.UUID) (File, error) {
	tn, subject, err := parties(ctx)
	if err != nil {
		return File{}, err
	}
	var f File
	if err := m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		f, err = Get(ctx, tx, id)
		return err
	}); err != nil {
		return File{}, err
	}
	switch f.Status {
	case StatusReady:
		return f, nil
	case StatusPending:
	default:
		return File{}, problem.Conflict(fmt.Sprintf("文件状态为 %s，不能再确认，请重新上传 (the file is %s and cannot be completed; upload it again)", f.Status, f.Status))
	}
	if f.Owner != subject.String() && subject.Kind != tenants.SubjectSystem {
		return File{}, problem.Forbidden("只有上传者可以确认上传 (only the uploader may complete an upload)")
	}
	// The store is asked outside any transaction: no connection waits on S3.
	problems, err := m.inspect(ctx, f)
	if err != nil {
		return File{}, m.storeErr(ctx, err)
	}
	if len(problems) == 0 {
		return m.markReady(ctx, tn, subject, f)
	}
	return File{}, m.reject(ctx, tn, subject, f, problems)
}

// errNotUploaded is the 409 for a check before the upload.
var errNotUploaded = problem.Conflict("文件尚未上传，请先用上传地址上传 (nothing has been uploaded yet: PUT the content to the upload URL first)")

// inspect looks at the object; it returns the problems found, or
// errNotUploaded.
func (m *Module) inspect(ctx context.Context, f File) ([]Problem, error) {
	p, known := m.purposes.get(f.Purpose)
	obj, found, err := m.store.head(ctx, f.key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNotUploaded
	}
	var problems []Problem
	if !known {
		problems = append(problems, Problem{"file.purpose", fmt.Sprintf("用途 %s 已不再提供 (purpose %s is no longer offered)", f.Purpose, f.Purpose)})
	}
	if obj.Size != f.Size {
		problems = append(problems, Problem{"file.size", fmt.Sprintf("实际大小 %d 字节，与声明的 %d 不符 (the object has %d bytes, %d were declared)", obj.Size, f.Size, obj.Size, f.Size)})
	}
	if known && obj.Size > p.MaxBytes {
		problems = append(problems, Problem{"file.size", fmt.Sprintf("文件过大，用途 %s 最多 %d 字节 (too large: purpose %s allows at most %d bytes)", p.Name, p.MaxBytes, p.Name, p.MaxBytes)})
	}
	if obj.Size == 0 {
		return append(problems, Problem{"file.size", "文件为空 (the file is empty)"}), nil
	}
	head, err := m.store.first(ctx, f.key, obj.ETag, SniffBytes)
	if err != nil {
		return nil, err
	}
	sniffed := Sniff(head)
	switch {
	case known && !p.accepts(sniffed):
		problems = append(problems, Problem{"file.content_type", fmt.Sprintf("内容是 %s，用途 %s 只接受 %s (the content is %s; purpose %s accepts only %s)", sniffed, p.Name, p.typesText(), sniffed, p.Name, p.typesText())})
	case sniffed != f.ContentType:
		problems = append(problems, Problem{"file.content_type", fmt.Sprintf("内容是 %s，与声明的 %s 不符 (the content is %s, %s was declared)", sniffed, f.ContentType, sniffed, f.ContentType)})
	}
	if len(problems) > 0 {
		// No need to read a refused file whole.
		return problems, nil
	}
	sum := obj.SHA256
	if sum == nil {
		// The store keeps no SHA-256 of the object: read it and hash.
		var n int64
		if sum, n, err = m.store.hash(ctx, f.key, obj.ETag, f.Size); err != nil {
			return nil, err
		}
		if n != f.Size {
			return append(problems, Problem{"file.size", fmt.Sprintf("实际大小与声明的 %d 不符 (the object does not have the %d bytes declared)", f.Size, f.Size)}), nil
		}
	}
	if hex.EncodeToString(sum) != f.SHA256 {
		problems = append(problems, Problem{"file.sha256", fmt.Sprintf("内容的 SHA-256 为 %x，与声明的不符 (the content's SHA-256 is %x, not the one declared)", sum, sum)})
	}
	return problems, nil
}

func (m *Module) markReady(ctx context.Context, tn tenants.Tenant, subject tenants.Subject, f File) (File, error) {
	var out File
	err := m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		var err error
		// Ready means the sniffed type is the declared one.
		out, err = scanFile(tx.QueryRow(ctx, `UPDATE files SET status = 'ready', sniffed_type = declared_type, checked_at = now(), purge_at = NULL
			WHERE id = $1 AND status = 'pending' RETURNING `+fileColumns, f.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			// A concurrent check may have got there first.
			if cur, gerr := get(ctx, tx, f.ID, ""); gerr == nil && cur.Status == StatusReady {
				out = cur
				return nil
			}
		}
		if err != nil {
			return expiredMeanwhile(f.ID, err)
		}
		return tenants.Audit(ctx, tx, "file.upload", f.ID.String(), map[string]any{
			"purpose": f.Purpose, "name": f.Name, "content_type": f.ContentType, "size": f.Size, "sha256": f.SHA256,
		})
	})
	return out, err
}

func expiredMeanwhile(id uuid.UUID, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return problem.Conflict(fmt.Sprintf("文件 %s 在检查期间已过期或被删除 (the file expired or was deleted during the check)", id))
	}
	return fmt.Errorf("files: update %s: %w", id, err)
}

// reject marks a file rejected and removes its object now; should that
// fail, an outbox row and the sweep see to it. It returns the 422.
func (m *Module) reject(ctx context.Context, tn tenants.Tenant, subject tenants.Subject, f File, problems []Problem) error {
	removed := m.store.remove(ctx, f.key) == nil
	err := m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE files SET status = 'rejected', problems = $2, checked_at = now(), purge_at = now(),
			purged_at = CASE WHEN $3 THEN now() END WHERE id = $1 AND status = 'pending'`, f.ID, problems, removed)
		if err != nil {
			return fmt.Errorf("files: reject %s: %w", f.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return expiredMeanwhile(f.ID, pgx.ErrNoRows)
		}
		if !removed {
			if err := enqueuePurge(ctx, tx, tn.ID, f.ID, time.Now()); err != nil {
				return err
			}
		}
		return tenants.Audit(ctx, tx, "file.reject", f.ID.String(), map[string]any{"purpose": f.Purpose, "name": f.Name, "problems": problems})
	})
	if err != nil {
		return err
	}
	fields := make([]problem.Field, len(problems))
	for i, p := range problems {
		fields[i] = problem.Field{Location: p.Location, Message: p.Message}
	}
	return problem.New(http.StatusUnprocessableEntity, "文件未通过检查，已作废，请重新上传 (the file failed its checks and was discarded; upload it again)", fields...)
}

// enqueuePurge writes the files:purge task for when id's object is due;
// the file id is its dedupe key, so a file has one.
func enqueuePurge(ctx context.Context, tx *tenants.Tx, tenant, id uuid.UUID, at time.Time) error {
	_, err := tenants.Enqueue(ctx, tx, tenants.Task{
		Type: TaskPurge, Payload: PurgePayload{TenantID: tenant, FileID: id}, RunAt: at, DedupeKey: id.String(),
	})
	return err
}

// SmallUpload is a file posted to the service itself.
type SmallUpload struct {
	Purpose string
	Name    string
	// ContentType is what the client declared for the part, if anything.
	ContentType string
	// SHA256 is optional: when given, the content must match it.
	SHA256 string
	Body   []byte
}

// UploadSmall stores a small file the client posted to the service: it is
// checked before anything is written, then registered, put and checked
// again like any upload.
func (m *Module) UploadSmall(ctx context.Context, in SmallUpload) (File, error) {
	sum := sha256.Sum256(in.Body)
	sniffed := Sniff(in.Body)
	reg := NewUpload{Purpose: in.Purpose, Name: in.Name, ContentType: sniffed, Size: int64(len(in.Body)), SHA256: hex.EncodeToString(sum[:])}
	p, name, _, fields := m.check("body.", reg)
	if len(in.Body) == 0 {
		// Nothing to sniff: say it is empty, not that it is text/plain.
		fields = slices.DeleteFunc(fields, func(f problem.Field) bool { return f.Location == "body.content_type" })
	}
	for i := range fields {
		// The type, size and hash are the content's own; name the file.
		switch fields[i].Location {
		case "body.content_type", "body.size", "body.sha256":
			fields[i].Location = "body.file"
		}
	}
	if in.ContentType != "" && in.ContentType != "application/octet-stream" && in.ContentType != sniffed && p.accepts(sniffed) {
		fields = append(fields, problem.Field{Location: "body.file",
			Message: fmt.Sprintf("内容是 %s，与声明的 %s 不符 (the content is %s, %s was declared)", sniffed, echo(in.ContentType), sniffed, echo(in.ContentType)), Value: echo(in.ContentType)})
	}
	if in.SHA256 != "" {
		if want, err := hex.DecodeString(in.SHA256); err != nil || !bytes.Equal(want, sum[:]) {
			fields = append(fields, problem.Field{Location: "body.sha256", Message: "内容的 SHA-256 与声明的不符 (the content's SHA-256 is not the one declared)", Value: echo(in.SHA256)})
		}
	}
	if len(fields) > 0 {
		return File{}, problem.Invalid(fields...)
	}
	tn, subject, err := parties(ctx)
	if err != nil {
		return File{}, err
	}
	id := uuid.New()
	key := objectKey(tn.ID, id)
	var f File
	if err := m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		f, err = insert(ctx, tx, id, p.Name, name, sniffed, reg.Size, sum[:], key, time.Now().Add(m.pendingExpiry))
		return err
	}); err != nil {
		return File{}, err
	}
	if err := m.store.put(ctx, key, sniffed, in.Body, sum[:]); err != nil {
		// The row stays pending; the sweep expires it.
		return File{}, m.storeErr(ctx, err)
	}
	return m.Complete(ctx, f.ID)
}

// DownloadURL returns a short-lived presigned URL for a ready file, after
// the policy check: the file must be the tenant's (row level security),
// visible to the subject and ready. The download is audited.
func (m *Module) DownloadURL(ctx context.Context, id uuid.UUID) (Download, error) {
	tn, subject, err := parties(ctx)
	if err != nil {
		return Download{}, err
	}
	var d Download
	err = m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		f, err := Get(ctx, tx, id)
		if err != nil {
			return err
		}
		switch f.Status {
		case StatusReady:
		case StatusDeleted, StatusExpired:
			return problem.New(http.StatusGone, fmt.Sprintf("文件已%s (the file is %s)", map[Status]string{StatusDeleted: "删除", StatusExpired: "过期"}[f.Status], f.Status))
		default:
			return problem.Conflict(fmt.Sprintf("文件未就绪，当前状态为 %s (the file is not ready: %s)", f.Status, f.Status))
		}
		url, err := m.store.presignGet(ctx, f.key, f.SniffedType, disposition(f.Name), m.downloadExpiry)
		if err != nil {
			return err
		}
		d = Download{URL: url, ExpiresAt: time.Now().Add(m.downloadExpiry), Name: f.Name, ContentType: f.SniffedType, Size: f.Size}
		return tenants.Audit(ctx, tx, "file.download", f.ID.String(), map[string]any{"purpose": f.Purpose, "name": f.Name})
	})
	return d, err
}

// Delete marks a file deleted. Its object stays for the purpose's
// retention period (a file that never became ready has nothing worth
// keeping and is due at once), then the files:purge task written here, or
// the sweep, removes it. Deleting a deleted file changes nothing.
func (m *Module) Delete(ctx context.Context, id uuid.UUID) error {
	tn, subject, err := parties(ctx)
	if err != nil {
		return err
	}
	return m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
		f, err := get(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if !visibleTo(tx.Subject(), f) {
			return noSuchFile(id)
		}
		if f.Status == StatusDeleted || f.Status == StatusExpired {
			return nil
		}
		purgeAt := time.Now()
		if p, ok := m.purposes.get(f.Purpose); ok && f.Status == StatusReady {
			purgeAt = purgeAt.Add(p.Retention)
		}
		if f.purgedAt != nil {
			// A rejected file's object is gone already.
			purgeAt = *f.purgedAt
		}
		if _, err := tx.Exec(ctx, `UPDATE files SET status = 'deleted', deleted_at = now(), deleted_by = current_setting('app.subject_id'),
			purge_at = $2 WHERE id = $1`, id, purgeAt); err != nil {
			return fmt.Errorf("files: delete %s: %w", id, err)
		}
		if f.purgedAt == nil {
			if err := enqueuePurge(ctx, tx, tn.ID, id, purgeAt); err != nil {
				return err
			}
		}
		return tenants.Audit(ctx, tx, "file.delete", id.String(), map[string]any{
			"purpose": f.Purpose, "name": f.Name, "status": f.Status, "purge_at": purgeAt.UTC().Format(time.RFC3339),
		})
	})
}
