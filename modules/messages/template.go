package messages

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"yamen/problem"
	"yamen/tenants"
)

// Template is a tenant's message text with named variables: 您好，{name}，
// 您预约的{item}将于{date}办理。Its code is the message type other modules
// send by and the statistics group by.
type Template struct {
	ID        uuid.UUID `json:"id"`
	Code      string    `json:"code" doc:"模板编码，即消息类型 (template code: the message type)"`
	Name      string    `json:"name" doc:"模板名称 (name)"`
	Text      string    `json:"text" doc:"模板内容，变量写作 {name} (zh-CN text; variables as {name})"`
	Variables []string  `json:"variables" doc:"模板可用的变量 (the variables the text may use)"`
	Channels  []string  `json:"channels" doc:"默认推送渠道 (channels used when a send names none)"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// NewTemplate is what a tenant admin saves.
type NewTemplate struct {
	Code      string   `json:"code" pattern:"^[a-z][a-z0-9_.-]{0,62}$" doc:"模板编码：小写字母开头，字母、数字、_ . - (template code)"`
	Name      string   `json:"name" minLength:"1" maxLength:"200" doc:"模板名称 (name)"`
	Text      string   `json:"text" minLength:"1" maxLength:"4000" doc:"模板内容，变量写作 {name} (zh-CN text; variables as {name})"`
	Variables []string `json:"variables,omitempty" required:"false" maxItems:"50" uniqueItems:"true" doc:"模板可用的变量 (the variables the text may use)"`
	Channels  []string `json:"channels,omitempty" required:"false" maxItems:"6" uniqueItems:"true" doc:"默认推送渠道 (default channels)"`
}

var (
	// variablePattern finds {name} in a text.
	variablePattern = regexp.MustCompile(`\{([^{}]*)\}`)
	variableName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)
)

// allChannels are the channels a template or a send may name.
var allChannels = []string{ChannelInApp, ChannelSMS, ChannelEmail, ChannelDingTalk, ChannelPolicePhone, ChannelWebhook}

// checkTemplate names every bad field of in: a text using a variable the
// template does not declare is the check the seed asks for.
func checkTemplate(in NewTemplate) []problem.Field {
	var fields []problem.Field
	for i, v := range in.Variables {
		if !variableName.MatchString(v) {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.variables[%d]", i),
				Message: "变量名须为字母、数字或下划线，且不以数字开头 (a variable is letters, digits and _, not starting with a digit)", Value: v})
		}
	}
	if unknown := unknownVariables(in.Text, in.Variables); len(unknown) > 0 {
		fields = append(fields, problem.Field{Location: "body.text",
			Message: fmt.Sprintf("使用了未声明的变量：%s，请在 variables 中声明 (unknown variables: %s; declare them in variables)",
				strings.Join(unknown, "、"), strings.Join(unknown, ", ")), Value: in.Text})
	}
	if in.Code == KindDirect || in.Code == KindAnnouncement {
		fields = append(fields, problem.Field{Location: "body.code",
			Message: fmt.Sprintf("%s 是保留的消息类型 (%s is a reserved message type)", in.Code, in.Code), Value: in.Code})
	}
	fields = append(fields, checkChannels("body.channels", in.Channels)...)
	return fields
}

func checkChannels(loc string, channels []string) []problem.Field {
	var fields []problem.Field
	for i, c := range channels {
		if !slices.Contains(allChannels, c) {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("%s[%d]", loc, i),
				Message: fmt.Sprintf("未知的渠道，可用：%s (unknown channel; known: %s)", strings.Join(allChannels, "、"), strings.Join(allChannels, ", ")), Value: c})
		}
	}
	return fields
}

// variablesOf lists the variables text uses, each once, in order.
func variablesOf(text string) []string {
	var vs []string
	for _, m := range variablePattern.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(vs, m[1]) {
			vs = append(vs, m[1])
		}
	}
	return vs
}

// unknownVariables lists the variables text uses that declared lacks.
func unknownVariables(text string, declared []string) []string {
	var unknown []string
	for _, v := range variablesOf(text) {
		if !slices.Contains(declared, v) {
			unknown = append(unknown, "{"+v+"}")
		}
	}
	return unknown
}

// render fills the variables in; every one must have a value.
func render(text string, values map[string]string) (string, []string) {
	var missing []string
	out := variablePattern.ReplaceAllStringFunc(text, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := values[name]
		if !ok {
			if !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			return m
		}
		return v
	})
	return out, missing
}

const templateColumns = "id, code, name, body, variables, channels::text[], created_at, updated_at, updated_by"

func scanTemplate(row pgx.Row) (Template, error) {
	var t Template
	err := row.Scan(&t.ID, &t.Code, &t.Name, &t.Text, &t.Variables, &t.Channels, &t.CreatedAt, &t.UpdatedAt, &t.UpdatedBy)
	return t, err
}

var errTemplateNotFound = problem.NotFound("没有这个模板 (no such template)")

func codeTaken(code string) error {
	return problem.Conflict(fmt.Sprintf("模板编码 %s 已存在 (template code %s is taken)", code, code))
}

func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505"
}

func normalise(in NewTemplate) NewTemplate {
	if in.Variables == nil {
		in.Variables = []string{}
	}
	if in.Channels == nil {
		in.Channels = []string{}
	}
	return in
}

// CreateTemplate saves a new template after checking it.
func CreateTemplate(ctx context.Context, tx *tenants.Tx, in NewTemplate) (Template, error) {
	if fields := checkTemplate(in); len(fields) > 0 {
		return Template{}, problem.Invalid(fields...)
	}
	in = normalise(in)
	t, err := scanTemplate(tx.QueryRow(ctx, `INSERT INTO message_templates (tenant_id, code, name, body, variables, channels, updated_by)
		VALUES (current_tenant(), $1, $2, $3, $4, $5::text[]::message_channel[], $6) RETURNING `+templateColumns,
		in.Code, in.Name, in.Text, in.Variables, in.Channels, tx.Subject()))
	if isUniqueViolation(err) {
		return Template{}, codeTaken(in.Code)
	}
	if err != nil {
		return Template{}, fmt.Errorf("messages: create template: %w", err)
	}
	return t, tenants.Audit(ctx, tx, "message_template.create", t.ID.String(), map[string]any{"code": t.Code, "text": t.Text})
}

// UpdateTemplate replaces a template after checking it.
func UpdateTemplate(ctx context.Context, tx *tenants.Tx, id uuid.UUID, in NewTemplate) (Template, error) {
	if fields := checkTemplate(in); len(fields) > 0 {
		return Template{}, problem.Invalid(fields...)
	}
	in = normalise(in)
	t, err := scanTemplate(tx.QueryRow(ctx, `UPDATE message_templates SET code = $2, name = $3, body = $4, variables = $5,
		channels = $6::text[]::message_channel[], updated_by = $7, updated_at = now() WHERE id = $1 RETURNING `+templateColumns,
		id, in.Code, in.Name, in.Text, in.Variables, in.Channels, tx.Subject()))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Template{}, errTemplateNotFound
	case isUniqueViolation(err):
		return Template{}, codeTaken(in.Code)
	case err != nil:
		return Template{}, fmt.Errorf("messages: update template: %w", err)
	}
	return t, tenants.Audit(ctx, tx, "message_template.update", t.ID.String(), map[string]any{"code": t.Code, "text": t.Text})
}

// GetTemplate returns a template by id.
func GetTemplate(ctx context.Context, q tenants.Querier, id uuid.UUID) (Template, error) {
	t, err := scanTemplate(q.QueryRow(ctx, "SELECT "+templateColumns+" FROM message_templates WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Template{}, errTemplateNotFound
	}
	if err != nil {
		return Template{}, fmt.Errorf("messages: get template: %w", err)
	}
	return t, nil
}

// templateByCode returns a template by code, or ok false.
func templateByCode(ctx context.Context, q tenants.Querier, code string) (Template, bool, error) {
	t, err := scanTemplate(q.QueryRow(ctx, "SELECT "+templateColumns+" FROM message_templates WHERE code = $1", code))
	if errors.Is(err, pgx.ErrNoRows) {
		return Template{}, false, nil
	}
	if err != nil {
		return Template{}, false, fmt.Errorf("messages: get template %s: %w", code, err)
	}
	return t, true, nil
}

// ListTemplates returns the tenant's templates by code.
func ListTemplates(ctx context.Context, q tenants.Querier) ([]Template, error) {
	rows, err := q.Query(ctx, "SELECT "+templateColumns+" FROM message_templates ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("messages: list templates: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Template, error) { return scanTemplate(r) })
	if err != nil {
		return nil, fmt.Errorf("messages: list templates: %w", err)
	}
	return ts, nil
}

// DeleteTemplate removes a template no message was sent from; one that was
// used is kept for the records.
func DeleteTemplate(ctx context.Context, tx *tenants.Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM message_templates WHERE id = $1", id)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23503" {
		return problem.Conflict("模板已被使用，不能删除 (messages were sent from the template; it cannot be deleted)")
	}
	if err != nil {
		return fmt.Errorf("messages: delete template: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errTemplateNotFound
	}
	return tenants.Audit(ctx, tx, "message_template.delete", id.String(), nil)
}
