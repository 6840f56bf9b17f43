package portal

import (
	"fmt"
	"net/url"
	"strings"

	kratos "github.com/ory/kratos-client-go"
)

// flowPage is a Kratos flow as the flow template shows it.
type flowPage struct {
	Kind     string
	Action   string
	Messages []flowMessage
	Hidden   []flowField
	Fields   []flowField
	Buttons  []flowField
	Texts    []flowMessage
	Links    []flowLink
}

type flowField struct {
	ID, Name, Type, Value, Label, Autocomplete string
	Required, Disabled                         bool
	Errors                                     []flowMessage
	Group                                      string
}

type flowMessage struct {
	Type, Text string
}

type flowLink struct {
	Href, Text string
}

func (v *view) renderFlow(status int, kind string, f *kflow, returnTo string) {
	action := "/auth/" + kind + "?flow=" + url.QueryEscape(f.ID)
	if returnTo != "" {
		action += "&return_to=" + url.QueryEscape(safeReturn(returnTo))
	}
	fp := flowPage{Kind: kind, Action: action}
	for _, m := range f.UI.Messages {
		fp.Messages = append(fp.Messages, v.kratosText(m))
	}
	for i, n := range f.UI.Nodes {
		switch {
		case n.Attributes.UiNodeInputAttributes != nil:
			a := n.Attributes.UiNodeInputAttributes
			fld := flowField{ID: fmt.Sprintf("f%d", i), Name: a.Name, Type: a.Type, Disabled: a.Disabled, Group: n.Group}
			if a.Value != nil {
				fld.Value = fmt.Sprint(a.Value)
			}
			if a.Required != nil {
				fld.Required = *a.Required
			}
			if a.Autocomplete != nil {
				fld.Autocomplete = *a.Autocomplete
			}
			if n.Meta.Label != nil {
				fld.Label = v.kratosText(*n.Meta.Label).Text
			}
			for _, m := range n.Messages {
				fld.Errors = append(fld.Errors, v.kratosText(m))
			}
			if fld.Name == "traits.phone" || fld.Name == "identifier" {
				fld.Value = strings.TrimPrefix(fld.Value, "+86")
			}
			switch a.Type {
			case "hidden":
				fp.Hidden = append(fp.Hidden, fld)
				// A hidden field's message (e.g. on a resend code) is the form's.
				fp.Messages = append(fp.Messages, fld.Errors...)
			case "submit", "button":
				if fld.Label == "" {
					fld.Label = v.t("auth.submit")
				}
				fp.Buttons = append(fp.Buttons, fld)
			default:
				if fld.Label == "" {
					fld.Label = fld.Name
				}
				fp.Fields = append(fp.Fields, fld)
			}
		case n.Attributes.UiNodeTextAttributes != nil:
			fp.Texts = append(fp.Texts, v.kratosText(n.Attributes.UiNodeTextAttributes.Text))
		case n.Attributes.UiNodeAnchorAttributes != nil:
			a := n.Attributes.UiNodeAnchorAttributes
			fp.Links = append(fp.Links, flowLink{Href: a.Href, Text: v.kratosText(a.Title).Text})
		}
	}
	titles := map[string]string{"login": "auth.login", "registration": "auth.registration", "recovery": "auth.recovery", "verification": "auth.verification", "settings": "auth.settings"}
	v.render(status, "flow", v.t(titles[kind]), fp)
}

// kratosText is a Kratos message in the page's language: Chinese from the
// message id when we know it, else Kratos's English text.
func (v *view) kratosText(m kratos.UiText) flowMessage {
	out := flowMessage{Type: m.Type, Text: m.Text}
	if v.lang == langEN {
		return out
	}
	zh, ok := kratosZH[m.Id]
	if !ok {
		return out
	}
	if strings.Contains(zh, "{") {
		for k, val := range m.Context {
			zh = strings.ReplaceAll(zh, "{"+k+"}", fmt.Sprint(val))
		}
	}
	out.Text = zh
	return out
}

// kratosZH are Kratos v1.3's message ids (text/id.go) in Chinese. Labels
// generated from the identity schemas (1070002) are already Chinese: the
// schemas' titles.
var kratosZH = map[int64]string{
	1010001: "登录",
	1010003: "请确认是您本人操作。",
	1010004: "请完成第二重验证。",
	1010005: "验证",
	1010013: "继续",
	1010014: "验证码已发送到您填写的邮箱。如未收到，请检查地址是否正确。",
	1010015: "使用验证码登录",
	1010022: "使用密码登录",
	1040001: "注册",
	1040003: "继续",
	1040005: "验证码已发送到您填写的地址。如未收到，请检查是否填写正确。",
	1040006: "使用验证码注册",
	1040008: "返回",
	1050001: "修改已保存。",
	1060001: "账号已找回。请在 {time} 分钟内修改密码。",
	1060002: "找回账号的链接已发送到您的邮箱。",
	1060003: "找回账号的验证码已发送到您填写的邮箱。如未收到，请检查地址是否是注册时所用。",
	1070001: "密码",
	1070003: "保存",
	1070004: "账号",
	1070005: "提交",
	1070006: "验证",
	1070007: "电子邮箱",
	1070008: "重新发送验证码",
	1070009: "继续",
	1070010: "找回验证码",
	1070011: "验证码",
	1070012: "注册验证码",
	1070013: "登录验证码",
	1080001: "验证邮件已发送到您的邮箱。",
	1080002: "验证成功。",
	1080003: "验证码已发送到您填写的地址。如未收到，请检查地址是否正确。",
	4000001: "格式不正确，请检查后重填。",
	4000002: "此项必填。",
	4000003: "长度至少为 {min_length}，当前为 {actual_length}。",
	4000004: "格式不正确。",
	4000005: "该密码不能使用：{reason}",
	4000006: "账号或密码不正确，请检查后重试。",
	4000007: "该手机号或邮箱已注册，请直接登录。",
	4000009: "找不到登录账号。",
	4000010: "账号尚未激活，请先完成验证。",
	4000017: "长度至多为 {max_length}，当前为 {actual_length}。",
	4000026: "类型不正确。",
	4000028: "该手机号或邮箱已注册，请直接登录。",
	4000031: "密码与账号太相似，请换一个。",
	4000032: "密码至少需要 {min_length} 个字符，当前为 {actual_length} 个。",
	4000033: "密码至多 {max_length} 个字符。",
	4000034: "该密码已在数据泄露中出现，请换一个。",
	4000035: "该账号不存在或未开通验证码登录。",
	4000037: "该账号不存在或没有可用的登录方式。",
	4010001: "登录表单已过期，请重试。",
	4010002: "找不到可用的登录方式，请检查填写是否完整。",
	4010008: "验证码不正确或已使用，请重试。",
	4040001: "注册表单已过期，请重试。",
	4050001: "设置表单已过期，请重试。",
	4060004: "找回链接无效或已使用。",
	4060005: "找回表单已过期，请重试。",
	4060006: "找回验证码不正确或已使用，请重试。",
	4070001: "验证链接无效或已使用。",
	4070005: "验证表单已过期，请重试。",
	4070006: "验证码不正确或已使用，请重试。",
	5000000: "系统出错，请稍后重试。",
}
