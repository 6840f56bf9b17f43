package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// SmallUploadMaxBytes is the largest multipart body upload-file takes
// (YAMEN_MAX_BODY_BYTES may cut it shorter); larger files go through
// presigned URLs.
const SmallUploadMaxBytes = 1 << 20

type tenantPath struct {
	Tenant string `path:"tenant" doc:"租户标识 (tenant slug)"`
}

type filePath struct {
	tenantPath
	File uuid.UUID `path:"file" doc:"文件编号 (file id)"`
}

type body[T any] struct {
	Body T
}

type noContent struct{}

type registerInput struct {
	tenantPath
	Body NewUpload
}

type uploadInput struct {
	tenantPath
	ContentType string `header:"Content-Type"`
	RawBody     []byte `contentType:"multipart/form-data"`
}

// Routes implements modules.RouteProvider; the operations live under
// /v1/t/{tenant}/files.
func (m *Module) Routes(r *modules.Router) {
	modules.Register(r, "files:read", modules.TenantWide(rowsPurposes, huma.Operation{
		OperationID: "list-file-purposes", Method: http.MethodGet, Path: "/purposes", Summary: "文件用途 File purposes",
		Description: "What files can be uploaded for: the content types each purpose accepts, its largest size and how long deleted files are kept.",
	}), func(ctx context.Context, _ *tenantPath) (*body[[]Purpose], error) {
		return &body[[]Purpose]{m.Purposes()}, nil
	})
	modules.Register(r, "files:upload", huma.Operation{
		OperationID: "create-file-upload", Method: http.MethodPost, Path: "/uploads", DefaultStatus: http.StatusCreated,
		Summary: "登记上传 Register an upload",
		Description: "Registers a file about to be uploaded and returns a presigned PUT URL that accepts exactly the declared content " +
			"(size, type and SHA-256 are signed), once. PUT the content there with the headers given, then call complete.",
	}, func(ctx context.Context, in *registerInput) (*body[Upload], error) {
		u, err := m.Register(ctx, in.Body)
		if err != nil {
			return nil, err
		}
		return &body[Upload]{u}, nil
	})
	modules.Register(r, "files:upload", huma.Operation{
		OperationID: "complete-file-upload", Method: http.MethodPost, Path: "/{file}/complete", Summary: "确认上传 Complete an upload",
		Description: "Checks the uploaded object: its size, the type sniffed from its content and its SHA-256 must match the registration " +
			"and the purpose. 200 with the ready file; 422 naming what was wrong (the file is then rejected for good); 409 when nothing was uploaded yet.",
	}, func(ctx context.Context, in *filePath) (*body[File], error) {
		f, err := m.Complete(ctx, in.File)
		if err != nil {
			return nil, err
		}
		return &body[File]{f}, nil
	})
	modules.Register(r, "files:upload", huma.Operation{
		OperationID: "upload-file", Method: http.MethodPost, Path: "", DefaultStatus: http.StatusCreated, Summary: "上传小文件 Upload a small file",
		Description: "Uploads a small file through the service as multipart/form-data (fields purpose, file, and optionally name and sha256), " +
			"checked like any upload. Larger files use create-file-upload.",
		// The form is read by parseUpload, which names each bad field; huma
		// would try to decode it as JSON to validate the schema below.
		SkipValidateBody: true,
		// Without a Body field huma sets no limit of its own; with one it
		// answers 413 where the server's body limit would cut it short.
		MaxBodyBytes: SmallUploadMaxBytes,
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"multipart/form-data": {Schema: &huma.Schema{
			Type: "object", Required: []string{"purpose", "file"},
			Properties: map[string]*huma.Schema{
				"purpose": {Type: "string", Description: "用途 (purpose)"},
				"name":    {Type: "string", Description: "文件名；缺省为所传文件的名字 (file name; the part's file name when absent)"},
				"sha256":  {Type: "string", Description: "可选：内容的十六进制 SHA-256 (optional hex SHA-256 of the content)"},
				"file":    {Type: "string", Format: "binary", Description: "文件内容 (the content)"},
			},
		}}}},
	}, func(ctx context.Context, in *uploadInput) (*body[File], error) {
		up, err := parseUpload(in.ContentType, in.RawBody)
		if err != nil {
			return nil, err
		}
		f, err := m.UploadSmall(ctx, up)
		if err != nil {
			return nil, err
		}
		return &body[File]{f}, nil
	})
	modules.Register(r, "files:read", modules.TenantWide(rowsFiles, huma.Operation{
		OperationID: "get-file", Method: http.MethodGet, Path: "/{file}", Summary: "查看文件信息 Get a file's metadata",
	}), func(ctx context.Context, in *filePath) (*body[File], error) {
		tn, subject, err := parties(ctx)
		if err != nil {
			return nil, err
		}
		var f File
		err = m.db.Tx(ctx, tn.ID, subject.String(), func(tx *tenants.Tx) error {
			f, err = Get(ctx, tx, in.File)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &body[File]{f}, nil
	})
	modules.Register(r, "files:read", modules.TenantWide(rowsFiles, huma.Operation{
		OperationID: "download-file", Method: http.MethodGet, Path: "/{file}/download", Summary: "下载文件 Download a file",
		Description: "Returns a presigned GET URL that works for a few minutes; the file is served as an attachment with its sniffed type.",
	}), func(ctx context.Context, in *filePath) (*body[Download], error) {
		d, err := m.DownloadURL(ctx, in.File)
		if err != nil {
			return nil, err
		}
		return &body[Download]{d}, nil
	})
	modules.Register(r, "files:delete", huma.Operation{
		OperationID: "delete-file", Method: http.MethodDelete, Path: "/{file}", DefaultStatus: http.StatusNoContent,
		Summary:     "删除文件 Delete a file",
		Description: "Marks the file deleted; its content is removed after the purpose's retention period.",
	}, func(ctx context.Context, in *filePath) (*noContent, error) {
		if err := m.Delete(ctx, in.File); err != nil {
			return nil, err
		}
		return &noContent{}, nil
	})
}

// parseUpload reads a multipart/form-data body: the fields purpose, name
// and sha256, and one file part.
func parseUpload(contentType string, raw []byte) (SmallUpload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return SmallUpload{}, problem.New(http.StatusUnsupportedMediaType, "请以 multipart/form-data 上传 (send multipart/form-data)")
	}
	bad := func(msg string) error { return problem.InvalidField("body", msg, nil) }
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	var up SmallUpload
	var haveFile bool
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return SmallUpload{}, bad("无法解析 multipart 内容 (malformed multipart body)")
		}
		field := part.FormName()
		if seen[field] {
			return SmallUpload{}, problem.InvalidField("body."+field, "字段重复 (given more than once)", nil)
		}
		seen[field] = true
		// The whole body is in memory already, within the body size limit.
		data, err := io.ReadAll(part)
		if err != nil {
			return SmallUpload{}, bad("无法解析 multipart 内容 (malformed multipart body)")
		}
		switch field {
		case "purpose":
			up.Purpose = string(data)
		case "name":
			up.Name = string(data)
		case "sha256":
			up.SHA256 = strings.ToLower(strings.TrimSpace(string(data)))
		case "file":
			haveFile = true
			up.Body = data
			up.ContentType = part.Header.Get("Content-Type")
			if !seen["name"] {
				// The browser's file name, unless a name field overrides
				// it; taken as sent (part.FileName would strip a path off
				// and hide what CheckName must refuse).
				_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
				up.Name = dp["filename"]
			}
		default:
			return SmallUpload{}, problem.InvalidField("body."+field, "未知字段 (unknown field)", nil)
		}
	}
	var fields []problem.Field
	if up.Purpose == "" {
		fields = append(fields, problem.Field{Location: "body.purpose", Message: "必填 (required)"})
	}
	if !haveFile {
		fields = append(fields, problem.Field{Location: "body.file", Message: "必填 (required)"})
	}
	if len(fields) > 0 {
		return SmallUpload{}, problem.Invalid(fields...)
	}
	return up, nil
}
