// Package problem is how domain code says what went wrong in terms a caller
// can act on: an HTTP status, a message in Chinese and English, and the
// fields at fault. The api package renders it as RFC 9457 problem+json.
package problem

import (
	"errors"
	"net/http"
	"strings"
)

// Field names one bad input: its location ("body.name", "path.org") and why.
type Field struct {
	Location string
	Message  string
	Value    any
}

// Error is a failure the caller caused or can see, with its HTTP status.
// It deliberately has no GetStatus method: huma would then write the struct
// as it is, while the api package renders it as a problem document.
type Error struct {
	Status int
	// Detail is shown to the caller: zh-CN first, then English.
	Detail string
	Fields []Field
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(http.StatusText(e.Status))
	b.WriteString(": ")
	b.WriteString(e.Detail)
	for _, f := range e.Fields {
		b.WriteString("; ")
		b.WriteString(f.Location)
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// New returns an error with the given status and detail.
func New(status int, detail string, fields ...Field) *Error {
	return &Error{Status: status, Detail: detail, Fields: fields}
}

// NotFound is a 404.
func NotFound(detail string) *Error { return New(http.StatusNotFound, detail) }

// Conflict is a 409: the request is well formed but the state forbids it.
func Conflict(detail string) *Error { return New(http.StatusConflict, detail) }

// Forbidden is a 403.
func Forbidden(detail string) *Error { return New(http.StatusForbidden, detail) }

// Invalid is a 422 naming the bad fields.
func Invalid(fields ...Field) *Error {
	return New(http.StatusUnprocessableEntity, "请求内容有误 (validation failed)", fields...)
}

// InvalidField is a 422 for one bad field.
func InvalidField(location, message string, value any) *Error {
	return Invalid(Field{Location: location, Message: message, Value: value})
}
