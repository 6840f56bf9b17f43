package portal

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"yamen/api"
	"yamen/problem"
)

// formErrors is what went wrong with a form: messages by field, and one for
// the form as a whole.
type formErrors struct {
	Fields map[string]string
	Form   string
}

func (e formErrors) Any() bool { return e.Form != "" || len(e.Fields) > 0 }

// For returns the message of a field, "" when it is fine.
func (e formErrors) For(name string) string { return e.Fields[name] }

// errorsOf sorts a problem into fields: a location such as body.name or
// body.whitelist[2] belongs to the field name (whitelist). Errors that are
// not the person's doing stay errors.
func (v *view) errorsOf(err error) (formErrors, error) {
	fe := formErrors{Fields: map[string]string{}}
	var add = func(loc, msg string) {
		name := fieldOf(loc)
		msg = v.validationText(msg)
		if name == "" {
			if fe.Form != "" {
				fe.Form += "；"
			}
			fe.Form += msg
			return
		}
		if prev, ok := fe.Fields[name]; ok {
			msg = prev + "；" + msg
		}
		fe.Fields[name] = msg
	}
	if pe, ok := problem.As(err); ok {
		if pe.Status >= 500 {
			return fe, err
		}
		if len(pe.Fields) == 0 {
			add("", pe.Detail)
		}
		for _, f := range pe.Fields {
			add(f.Location, f.Message)
		}
		return fe, nil
	}
	var ap *api.Problem
	if errors.As(err, &ap) && ap.Status < 500 {
		if len(ap.Errors) == 0 {
			add("", ap.Detail)
		}
		for _, d := range ap.Errors {
			add(d.Location, d.Message)
		}
		return fe, nil
	}
	var em *huma.ErrorModel
	if errors.As(err, &em) && em.Status < 500 {
		if len(em.Errors) == 0 {
			add("", em.Detail)
		}
		for _, d := range em.Errors {
			add(d.Location, d.Message)
		}
		return fe, nil
	}
	return fe, err
}

func fieldOf(loc string) string {
	for _, prefix := range []string{"body.", "query.", "path."} {
		if strings.HasPrefix(loc, prefix) {
			loc = strings.TrimPrefix(loc, prefix)
			if i := strings.IndexAny(loc, ".["); i >= 0 {
				loc = loc[:i]
			}
			return loc
		}
	}
	return ""
}

// hasChinese says whether a message already has its Chinese (the platform's
// own problems do: "中文 (English)").
var hasChinese = regexp.MustCompile(`\p{Han}`)

var validationZH = []struct {
	re *regexp.Regexp
	zh string
}{
	{regexp.MustCompile(`^expected number >= (\S+)$`), "不能小于 %s"},
	{regexp.MustCompile(`^expected number <= (\S+)$`), "不能大于 %s"},
	{regexp.MustCompile(`^expected number > (\S+)$`), "须大于 %s"},
	{regexp.MustCompile(`^expected number < (\S+)$`), "须小于 %s"},
	{regexp.MustCompile(`^expected integer$`), "须为整数%s"},
	{regexp.MustCompile(`^expected number$`), "须为数字%s"},
	{regexp.MustCompile(`^expected boolean$`), "须为是或否%s"},
	{regexp.MustCompile(`^expected string$`), "须为文字%s"},
	{regexp.MustCompile(`^expected length >= (\S+)$`), "至少 %s 个字符"},
	{regexp.MustCompile(`^expected length <= (\S+)$`), "至多 %s 个字符"},
	{regexp.MustCompile(`^expected array length >= (\S+)$`), "至少 %s 项"},
	{regexp.MustCompile(`^expected array length <= (\S+)$`), "至多 %s 项"},
	{regexp.MustCompile(`^expected value to be one of "?(.*?)"?$`), "须为以下之一：%s"},
	{regexp.MustCompile(`^expected array items to be unique$`), "不能重复%s"},
	{regexp.MustCompile(`^expected string to match pattern (.*)$`), "格式不正确%.0s"},
	{regexp.MustCompile(`^expected string to be RFC 5322 email.*$`), "邮箱格式不正确%s"},
	{regexp.MustCompile(`^expected required property (\S+) to be present$`), "缺少 %s"},
	{regexp.MustCompile(`^unexpected property$`), "不认识的字段%s"},
}

// validationText gives a validation message in the page's language:
// huma's English messages are translated to "中文 (English)" for zh-CN.
func (v *view) validationText(msg string) string {
	if v.lang == langEN || hasChinese.MatchString(msg) {
		return msg
	}
	for _, t := range validationZH {
		if m := t.re.FindStringSubmatch(msg); m != nil {
			arg := ""
			if len(m) > 1 {
				arg = m[1]
			}
			return fmt.Sprintf(t.zh, arg) + " (" + msg + ")"
		}
	}
	return msg
}

var errNotFound = problem.NotFound("没有这个页面 (no such page)")

func errInvalid(field, msg string) error { return problem.InvalidField("body."+field, msg, nil) }
