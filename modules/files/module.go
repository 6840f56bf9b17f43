// Package files is the attachment store every module writes to: activity
// photos (seed 000), inspection pictures and task feedback (seeds 000, 001),
// contract scans and service results (seed 004), licence materials (seed
// 003), kept in S3-compatible storage through aws-sdk-go-v2.
//
// An upload is registered first: the client says what it will send (purpose,
// name, declared type, size, SHA-256) and gets a presigned PUT URL that
// accepts exactly that content, once. After the PUT it asks for the check,
// which looks at the object itself (its size, the type sniffed from its
// first 512 bytes fetched with a Range GET, its SHA-256) and marks the file
// ready or rejected. Small files can instead be posted to the service,
// which does the same on the client's behalf. Downloads are short-lived
// presigned GET URLs. Deleting marks the file; its object is removed after
// the purpose's retention period by the files:purge task or the sweep.
//
// Other modules take files in by id with Attach, which refuses a file that
// is not ready, of another purpose or of another tenant. A module whose
// files need purposes of their own implements PurposeProvider.
package files

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"yamen/modules"
	"yamen/tenants"
)

// Defaults for the lifetimes an Option can change.
const (
	// DefaultUploadExpiry is how long a presigned upload URL works.
	DefaultUploadExpiry = 15 * time.Minute
	// DefaultDownloadExpiry is how long a presigned download URL works.
	DefaultDownloadExpiry = 5 * time.Minute
	// DefaultPendingExpiry is how long a registered upload may stay
	// unchecked before the sweep expires it and removes any object.
	DefaultPendingExpiry = 24 * time.Hour
)

// Module is the files module. Construct it with New; Provision connects it.
type Module struct {
	uploadExpiry   time.Duration
	downloadExpiry time.Duration
	pendingExpiry  time.Duration
	extra          []Purpose

	purposes purposeSet
	db       *tenants.DB
	store    *store
	log      *slog.Logger
}

// Option changes a default of New.
type Option func(*Module)

// WithExpiry sets how long upload and download URLs work and how long an
// upload may stay pending; zero keeps a default.
func WithExpiry(upload, download, pending time.Duration) Option {
	return func(m *Module) {
		if upload > 0 {
			m.uploadExpiry = upload
		}
		if download > 0 {
			m.downloadExpiry = download
		}
		if pending > 0 {
			m.pendingExpiry = pending
		}
	}
}

// WithPurposes adds purposes to the built-in ones.
func WithPurposes(ps ...Purpose) Option {
	return func(m *Module) { m.extra = append(m.extra, ps...) }
}

// New returns the files module; it has no side effects.
func New(opts ...Option) *Module {
	m := &Module{uploadExpiry: DefaultUploadExpiry, downloadExpiry: DefaultDownloadExpiry, pendingExpiry: DefaultPendingExpiry}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Adopt takes the purposes of every module that implements PurposeProvider,
// so that a module's files can be registered for its own purposes. Call it
// before Provision, which checks them all (builtin does, with its list).
func (m *Module) Adopt(mods ...modules.Module) {
	for _, mod := range mods {
		if pp, ok := mod.(PurposeProvider); ok {
			m.extra = append(m.extra, pp.FilePurposes()...)
		}
	}
}

// Module implements modules.Module.
func (*Module) Module() modules.Info {
	return modules.Info{
		ID:      "files",
		Title:   modules.Text{ZH: "文件", EN: "Files"},
		Bundles: []string{modules.EveryKind},
		Permissions: []modules.Permission{
			{Name: "files:read", Title: modules.Text{ZH: "查看和下载文件", EN: "View and download files"}},
			{Name: "files:upload", Title: modules.Text{ZH: "上传文件", EN: "Upload files"}},
			{Name: "files:delete", Title: modules.Text{ZH: "删除文件", EN: "Delete files"}},
		},
		Settings: nil,
	}
}

// Provision reads the YAMEN_S3_* settings, checks the purposes and makes
// sure the bucket exists. A store that cannot be reached at all is only
// logged, so an outage of S3 does not keep the rest of the service from
// starting; a bucket that is missing or refuses the credentials fails.
func (m *Module) Provision(ctx context.Context, env modules.Env) error {
	if env.Setting == nil || env.DB == nil {
		return errors.New("files: provisioned without settings or database")
	}
	cfg, err := ConfigFrom(env.Setting)
	if err != nil {
		return err
	}
	ps, err := newPurposeSet(append(builtinPurposes(), m.extra...))
	if err != nil {
		return err
	}
	m.purposes = ps
	m.db = &tenants.DB{Pool: env.DB}
	// The audit chain is sealed with the service's key; Env carries the
	// pool, so the key comes through the settings like everything else.
	if m.db.AuditKey, err = tenants.ParseAuditKey(env.Setting(SettingAuditKey)); err != nil {
		return fmt.Errorf("files: %s: %w", SettingAuditKey, err)
	}
	m.log = env.Logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.store = newStore(cfg)
	if err := m.store.checkBucket(ctx); err != nil {
		if !errors.Is(err, errUnavailable) {
			return err
		}
		m.log.Warn("files: S3 is unreachable; file operations fail until it is back", "endpoint", cfg.Endpoint, "error", err)
	}
	return nil
}

// Validate implements modules.Validator.
func (m *Module) Validate() error {
	if m.store == nil || m.db == nil {
		return fmt.Errorf("files: not provisioned")
	}
	return nil
}

// Cleanup implements modules.CleanerUpper.
func (m *Module) Cleanup() error {
	if m.store != nil {
		m.store.close()
	}
	return nil
}

// Purposes returns the purposes files can be uploaded for.
func (m *Module) Purposes() []Purpose { return m.purposes.all() }

var (
	_ modules.Module        = (*Module)(nil)
	_ modules.Provisioner   = (*Module)(nil)
	_ modules.Validator     = (*Module)(nil)
	_ modules.CleanerUpper  = (*Module)(nil)
	_ modules.RouteProvider = (*Module)(nil)
)
