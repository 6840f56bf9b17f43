package files

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// Status is where a file is in its life.
type Status string

// The statuses of a file; see migrations/002_files.sql.
const (
	StatusPending  Status = "pending"
	StatusReady    Status = "ready"
	StatusRejected Status = "rejected"
	StatusDeleted  Status = "deleted"
	StatusExpired  Status = "expired"
)

// Problem is one reason the check refused a file.
type Problem struct {
	Location string `json:"location"`
	Message  string `json:"message"`
}

// File is one attachment's metadata.
type File struct {
	ID      uuid.UUID `json:"id"`
	Purpose string    `json:"purpose"`
	Name    string    `json:"name"`
	// ContentType is what the uploader declared; SniffedType what the
	// check found in the content (the same, once ready).
	ContentType string     `json:"content_type"`
	SniffedType string     `json:"sniffed_type,omitempty"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256" doc:"十六进制 SHA-256 (hex SHA-256)"`
	Status      Status     `json:"status" enum:"pending,ready,rejected,deleted,expired"`
	Owner       string     `json:"owner" doc:"上传者 (the subject that uploaded it)"`
	Problems    []Problem  `json:"problems,omitempty" doc:"未通过检查的原因 (why the check refused it)"`
	CreatedAt   time.Time  `json:"created_at"`
	CheckedAt   *time.Time `json:"checked_at,omitempty"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
	// PurgeAt is when the object is due to be removed from storage.
	PurgeAt *time.Time `json:"purge_at,omitempty"`

	key      string
	purgedAt *time.Time
}

// Key is where the file's object is in the bucket.
func (f File) Key() string { return f.key }

const fileColumns = `id, purpose, owner, name, declared_type, sniffed_type, size, sha256, status::text, problems,
	object_key, created_at, checked_at, deleted_at, purge_at, purged_at`

func scanFile(row pgx.Row) (File, error) {
	var f File
	var sum []byte
	var status string
	err := row.Scan(&f.ID, &f.Purpose, &f.Owner, &f.Name, &f.ContentType, &f.SniffedType, &f.Size, &sum, &status, &f.Problems,
		&f.key, &f.CreatedAt, &f.CheckedAt, &f.DeletedAt, &f.PurgeAt, &f.purgedAt)
	f.SHA256 = hex.EncodeToString(sum)
	f.Status = Status(status)
	return f, err
}

func noSuchFile(id uuid.UUID) error {
	return problem.NotFound(fmt.Sprintf("文件 %s 不存在 (no such file)", id))
}

// get reads a file of the transaction's tenant; lock is "", "FOR SHARE" or
// "FOR UPDATE". Another tenant's file does not exist.
func get(ctx context.Context, tx *tenants.Tx, id uuid.UUID, lock string) (File, error) {
	f, err := scanFile(tx.QueryRow(ctx, "SELECT "+fileColumns+" FROM files WHERE id = $1 "+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, noSuchFile(id)
	}
	if err != nil {
		return File{}, fmt.Errorf("files: get %s: %w", id, err)
	}
	return f, nil
}

// Get returns a file of the transaction's tenant, whatever its status; a
// file of another tenant is a 404.
func Get(ctx context.Context, tx *tenants.Tx, id uuid.UUID) (File, error) {
	f, err := get(ctx, tx, id, "")
	if err != nil {
		return File{}, err
	}
	if !visibleTo(tx.Subject(), f) {
		return File{}, noSuchFile(id)
	}
	return f, nil
}

// Attach is how other modules take a file in: it returns the file if it is
// ready, of purpose and of the transaction's tenant, and otherwise a 422
// naming the field "file_id" with the reason. The row is share-locked
// until the caller's transaction ends, so the file cannot be deleted while
// it is being attached.
func Attach(ctx context.Context, tx *tenants.Tx, id uuid.UUID, purpose string) (File, error) {
	return AttachAt(ctx, tx, "file_id", id, purpose)
}

// AttachAt is Attach naming the caller's own field in its error, such as
// "body.photos[2]".
func AttachAt(ctx context.Context, tx *tenants.Tx, location string, id uuid.UUID, purpose string) (File, error) {
	f, err := get(ctx, tx, id, "FOR SHARE")
	if pe, ok := problem.As(err); ok && pe.Status == http.StatusNotFound || err == nil && !visibleTo(tx.Subject(), f) {
		return File{}, problem.InvalidField(location, "文件不存在或不属于本租户 (no such file in this tenant)", id)
	}
	if err != nil {
		return File{}, err
	}
	if f.Status != StatusReady {
		return File{}, problem.InvalidField(location, fmt.Sprintf("文件未就绪，当前状态为 %s (the file is not ready: %s)", f.Status, f.Status), id)
	}
	if f.Purpose != purpose {
		return File{}, problem.InvalidField(location, fmt.Sprintf("文件用途为 %s，此处需要 %s (the file is for %s; %s is needed here)", f.Purpose, purpose, f.Purpose, purpose), id)
	}
	return f, nil
}

// visibleTo is the files' own policy until the policy package decides:
// staff and keys of the tenant see the tenant's files (row level security
// has already kept every other tenant's out); citizens and intermediaries
// see only what they uploaded.
func visibleTo(subject string, f File) bool {
	if strings.HasPrefix(subject, string(tenants.SubjectCitizen)+":") || strings.HasPrefix(subject, string(tenants.SubjectIntermediary)+":") {
		return f.Owner == subject
	}
	return true
}
