package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/danielgtaylor/huma/v2"

	"yamen/problem"
)

// Problem is an RFC 9457 problem document. A 5xx carries a generic title and
// the request ID only; what went wrong inside is logged, never sent.
type Problem struct {
	Type      string              `json:"type,omitempty" doc:"问题类型 URI (problem type URI)"`
	Title     string              `json:"title" doc:"简短标题 (short title)"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty" doc:"说明，中文在前 (explanation, Chinese first)"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty" doc:"请求编号，联系管理员时请提供 (quote it when asking for help)"`
	Errors    []*huma.ErrorDetail `json:"errors,omitempty" doc:"每个有误的字段 (each bad field)"`

	internal error
}

func (p *Problem) Error() string {
	if p.internal != nil {
		return p.internal.Error()
	}
	return p.Title + ": " + p.Detail
}

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes JSON problems application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	if ct == "application/cbor" {
		return "application/problem+cbor"
	}
	return ct
}

const internalDetail = "服务器内部错误，请凭请求编号联系管理员 (internal error: quote the request ID when asking for help)"

// newProblem replaces huma.NewError: domain errors keep their status, detail
// and fields; anything else of status 500 or more loses its text.
func newProblem(status int, msg string, errs ...error) *Problem {
	for _, err := range errs {
		if pe, ok := problem.As(err); ok {
			p := &Problem{Status: pe.Status, Title: http.StatusText(pe.Status), Detail: pe.Detail}
			for _, f := range pe.Fields {
				p.Errors = append(p.Errors, &huma.ErrorDetail{Location: f.Location, Message: f.Message, Value: f.Value})
			}
			return p
		}
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &Problem{Status: http.StatusRequestEntityTooLarge, Title: http.StatusText(http.StatusRequestEntityTooLarge),
				Detail: fmt.Sprintf("请求体超过 %d 字节 (the request body is larger than %d bytes)", tooLarge.Limit, tooLarge.Limit)}
		}
		if errors.Is(err, context.Canceled) {
			// The client went away; whatever we write, nobody reads it.
			return &Problem{Status: 499, Title: "Client Closed Request", internal: err}
		}
	}
	if status >= 500 {
		return &Problem{Status: status, Title: http.StatusText(status), Detail: internalDetail, internal: errors.Join(errs...)}
	}
	if msg == "validation failed" {
		msg = "请求内容有误 (validation failed)"
	}
	p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg}
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(err, &d) {
			p.Errors = append(p.Errors, namedField(d.ErrorDetail()))
		} else {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Message: err.Error()})
		}
	}
	return p
}

func init() {
	// huma offers only these package variables to shape its errors.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return newProblem(status, msg, errs...)
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		p := newProblem(status, msg, errs...)
		stamp(ctx.Context(), ctx.URL().Path, p)
		return p
	}
}

// stamp adds the request ID and path to a problem and hands any internal
// error to the access log.
func stamp(ctx context.Context, path string, p *Problem) {
	info := requestInfoFrom(ctx)
	if info == nil {
		return
	}
	p.RequestID = info.id
	if p.Instance == "" {
		p.Instance = path
	}
	if p.internal != nil {
		info.err = p.internal
	}
}

// problemTransformer stamps problems huma created without a context, such
// as a huma.Error503ServiceUnavailable a handler returned.
func problemTransformer(ctx huma.Context, _ string, v any) (any, error) {
	if p, ok := v.(*Problem); ok && p.RequestID == "" {
		stamp(ctx.Context(), ctx.URL().Path, p)
	}
	return v, nil
}

// huma reports a missing property at its parent; name the property itself,
// so every bad field is named where it would be.
var missingProperty = regexp.MustCompile(`\(expected required property (\S+) to be present\)$`)

func namedField(d *huma.ErrorDetail) *huma.ErrorDetail {
	if m := missingProperty.FindStringSubmatch(d.Message); m != nil {
		return &huma.ErrorDetail{Location: d.Location + "." + m[1], Message: "必填 (required)"}
	}
	return d
}
