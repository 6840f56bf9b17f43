package messages

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCheckTemplate(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in   NewTemplate
		want []string
	}{
		"Declared":         {NewTemplate{Code: "a", Text: "{name}您好，{date}办理", Variables: []string{"name", "date"}}, nil},
		"NoVariables":      {NewTemplate{Code: "a", Text: "您好"}, nil},
		"Unknown":          {NewTemplate{Code: "a", Text: "{name}您好，{date}办理", Variables: []string{"name"}}, []string{"body.text"}},
		"Empty braces":     {NewTemplate{Code: "a", Text: "{}"}, []string{"body.text"}},
		"BadVariableName":  {NewTemplate{Code: "a", Text: "x", Variables: []string{"ok", "1bad"}}, []string{"body.variables[1]"}},
		"UnknownChannel":   {NewTemplate{Code: "a", Text: "x", Channels: []string{"sms", "fax"}}, []string{"body.channels[1]"}},
		"ReservedCode":     {NewTemplate{Code: KindAnnouncement, Text: "x"}, []string{"body.code"}},
		"UnusedIsFine":     {NewTemplate{Code: "a", Text: "x", Variables: []string{"spare"}}, nil},
		"RepeatedVariable": {NewTemplate{Code: "a", Text: "{a}{a}{b}", Variables: []string{"a"}}, []string{"body.text"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, f := range checkTemplate(tc.in) {
				got = append(got, f.Location)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	out, missing := render("{name}您好，您预约的{item}将于{date}办理。{name}", map[string]string{"name": "张三", "item": "居住证", "date": "明天"})
	require.Empty(t, missing)
	require.Equal(t, "张三您好，您预约的居住证将于明天办理。张三", out)
	_, missing = render("{a}{b}{a}", map[string]string{"b": "x"})
	require.Equal(t, []string{"a"}, missing)
	out, _ = render("{a}", map[string]string{"a": "{b}"})
	require.Equal(t, "{b}", out, "values are not rendered again")
}

func TestWhitelisted(t *testing.T) {
	t.Parallel()
	r := Recipient{ID: "0b0e3c3e-0000-0000-0000-000000000001", Phone: "13800000001", Email: "Zhang@Example.cn"}
	require.True(t, whitelisted([]string{"13800000001"}, ChannelSMS, r))
	require.False(t, whitelisted([]string{"13800000001"}, ChannelEmail, r))
	require.True(t, whitelisted([]string{"zhang@example.cn"}, ChannelEmail, r), "email addresses compare without case")
	require.True(t, whitelisted([]string{r.ID}, ChannelEmail, r), "a member id admits every address of the member")
	require.False(t, whitelisted([]string{""}, ChannelSMS, Recipient{}))
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	require.Equal(t, 30*time.Second, retryDelay(DefaultRetryBackoff, 1))
	require.Equal(t, time.Minute, retryDelay(DefaultRetryBackoff, 2))
	require.Equal(t, 8*time.Minute, retryDelay(DefaultRetryBackoff, 5))
	require.Equal(t, time.Hour, retryDelay(DefaultRetryBackoff, 50))
}

func TestSign(t *testing.T) {
	t.Parallel()
	// RFC 4231 test case 2.
	require.Equal(t, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", Sign("Jefe", []byte("what do ya want for nothing?")))
}

func TestSubjectOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, "第一行", subjectOf("第一行\n第二行"))
	long := subjectOf(string(make([]rune, 100)))
	require.Len(t, []rune(long), 41)
}
