// Package files is the attachment store every module writes to: activity
// photos (seed 000), inspection pictures and task feedback (seeds 000, 001),
// contract scans and credit commitments (seed 004), kept in S3-compatible
// storage.
package files

import "yamen/modules"

// Module declares the files module.
type Module struct{}

// New returns the files module; it has no side effects.
func New() *Module { return &Module{} }

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

var _ modules.Module = (*Module)(nil)
