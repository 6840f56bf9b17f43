package portal

import "fmt"

// The portal speaks zh-CN, or English when the browser chose it.
const (
	langZH = "zh-CN"
	langEN = "en"
)

// messages are the portal's own words: zh-CN, English.
var messages = map[string][2]string{
	"site.name":        {"衙门 · 政务服务", "Yamen · Government services"},
	"skip":             {"跳到正文", "Skip to content"},
	"elder":            {"适老化（大字）", "Large text"},
	"signin":           {"登录", "Sign in"},
	"signup":           {"注册", "Register"},
	"signout":          {"退出登录", "Sign out"},
	"account":          {"账号设置", "Account settings"},
	"nav.label":        {"管理导航", "Administration"},
	"prefs.label":      {"显示设置", "Display settings"},
	"person.anonymous": {"已登录", "Signed in"},
	"footer":           {"本系统由衙门平台提供。如需帮助，请联系所在单位。", "Provided by the Yamen platform. For help, contact your agency."},

	"error.title":     {"出错了", "Something went wrong"},
	"error.internal":  {"系统出错，请稍后重试。", "Something went wrong on our side; please try again later."},
	"error.too_large": {"提交的内容太大。", "What you sent is too large."},
	"error.back":      {"返回首页", "Back to the start page"},

	"home.title":      {"首页", "Start"},
	"home.welcome":    {"欢迎使用政务服务。登录后可办理业务、管理本单位。", "Welcome. Sign in to use government services or manage your agency."},
	"home.tenants":    {"我所在的单位", "Where I work"},
	"home.none":       {"您的账号尚未加入任何单位，请联系单位管理员邀请您。", "Your account belongs to no agency yet; ask an administrator to invite you."},
	"home.admin":      {"进入管理", "Administer"},
	"home.citizen":    {"您已登录。办事大厅即将开放。", "You are signed in. The service hall opens soon."},
	"done.signed_out": {"您已退出登录。", "You have signed out."},

	"auth.login":        {"登录", "Sign in"},
	"auth.registration": {"注册账号", "Create an account"},
	"auth.recovery":     {"找回账号", "Recover your account"},
	"auth.verification": {"验证", "Verify"},
	"auth.settings":     {"账号设置", "Account settings"},
	"auth.submit":       {"提交", "Submit"},
	"auth.error":        {"登录服务出现问题，请重新开始。", "Sign-in ran into a problem; please start again."},
	"auth.error.title":  {"登录出错", "Sign-in problem"},
	"auth.to_register":  {"还没有账号？注册", "No account yet? Register"},
	"auth.to_login":     {"已有账号？登录", "Have an account? Sign in"},
	"auth.to_recovery":  {"忘记密码？", "Forgot your password?"},
	"auth.phone_hint":   {"手机号填写 11 位数字即可。", "Enter your 11-digit mobile number."},

	"field.required": {"此项必填。", "Required."},
	"field.too_long": {"不能超过 %d 个字符。", "At most %d characters."},
	"form.errors":    {"请按提示修改后再提交。", "Please correct the fields marked below."},
	"save":           {"保存", "Save"},
	"cancel":         {"取消", "Cancel"},

	"admin.home":       {"管理概览", "Administration"},
	"admin.modules":    {"模块", "Modules"},
	"admin.settings":   {"%s · 设置", "%s · Settings"},
	"admin.orgs":       {"组织机构", "Org tree"},
	"admin.staff":      {"人员", "Staff"},
	"admin.roles":      {"角色", "Roles"},
	"admin.policies":   {"租户策略", "Tenant policy"},
	"admin.audit":      {"审计日志", "Audit log"},
	"overview.modules": {"已启用模块", "Modules enabled"},
	"overview.orgs":    {"组织", "Orgs"},
	"overview.roles":   {"角色", "Roles"},

	"modules.name":     {"模块", "Module"},
	"modules.state":    {"状态", "State"},
	"modules.actions":  {"操作", "Actions"},
	"modules.on":       {"已启用", "Enabled"},
	"modules.off":      {"未启用", "Disabled"},
	"modules.enable":   {"启用", "Enable"},
	"modules.disable":  {"停用", "Disable"},
	"modules.settings": {"设置", "Settings"},
	"modules.needs":    {"依赖：%s", "Needs: %s"},
	"done.enabled":     {"模块已启用。", "The module is enabled."},
	"done.disabled":    {"模块已停用。", "The module is disabled."},
	"done.saved":       {"已保存。", "Saved."},
	"done.linked":      {"已关联登录账号，对方可登录使用。", "The account is linked; the person can sign in now."},
	"done.created":     {"角色已创建。", "The role is created."},
	"done.uploaded":    {"新版本策略已上传并启用。", "The new policy version is uploaded and active."},
	"done.activated":   {"已切换策略版本。", "The policy version is switched."},

	"settings.none":    {"此模块没有可设置的项目。", "This module has no settings."},
	"settings.range":   {"取值 %s 到 %s。", "From %s to %s."},
	"settings.integer": {"须为整数。", "Must be a whole number."},
	"settings.number":  {"须为数字。", "Must be a number."},
	"settings.json":    {"须为 JSON。", "Must be JSON."},
	"settings.lines":   {"每行一项。", "One per line."},

	"orgs.add":             {"新增组织", "Add an org"},
	"orgs.parent":          {"上级组织", "Parent org"},
	"orgs.parent.required": {"请选择上级组织。", "Choose a parent org."},
	"orgs.code":            {"组织编码", "Code"},
	"orgs.name":            {"名称", "Name"},
	"orgs.kind":            {"类型", "Kind"},
	"orgs.region":          {"行政区划代码（可选）", "Region code (optional)"},
	"orgs.edit":            {"修改", "Edit"},
	"orgs.move":            {"移到", "Move under"},
	"orgs.move.button":     {"移动", "Move"},
	"orgs.delete":          {"删除", "Delete"},
	"orgs.delete.confirm":  {"确定删除该组织？", "Delete this org?"},
	"orgs.tree":            {"组织树", "The tree"},

	"staff.search":     {"查找（姓名、手机、邮箱、警号）", "Search (name, phone, email, badge)"},
	"staff.find":       {"查找", "Search"},
	"staff.name":       {"姓名", "Name"},
	"staff.org":        {"所在组织", "Org"},
	"staff.account":    {"登录账号", "Sign-in account"},
	"staff.linked":     {"已关联", "Linked"},
	"staff.unlinked":   {"未关联", "Not linked"},
	"staff.identifier": {"邀请：账号的邮箱或手机号", "Invite: the account's email or phone"},
	"staff.invite":     {"邀请", "Invite"},
	"staff.more":       {"下一页", "Next page"},
	"staff.empty":      {"没有人员。", "No staff."},

	"roles.new":                  {"新增角色", "New role"},
	"roles.new.step":             {"新增角色 · 第 %d 步（共 3 步）", "New role · step %d of 3"},
	"roles.steps":                {"步骤", "Steps"},
	"roles.step1":                {"角色概况", "Profile"},
	"roles.step2":                {"操作权限", "Operation permissions"},
	"roles.step3":                {"数据范围", "Data scope"},
	"roles.name":                 {"角色名称（职位）", "Role name (the post)"},
	"roles.description":          {"说明（可选）", "Description (optional)"},
	"roles.next":                 {"下一步", "Next"},
	"roles.back":                 {"上一步", "Back"},
	"roles.create":               {"创建角色", "Create the role"},
	"roles.platform":             {"平台", "Platform"},
	"roles.permissions":          {"权限", "Permissions"},
	"roles.permissions.required": {"请至少选择一项权限。", "Choose at least one permission."},
	"roles.scope.required":       {"请选择数据范围。", "Choose a data scope."},
	"roles.scope.orgs":           {"自定义范围包含的组织", "Orgs of a custom scope"},
	"roles.members":              {"人数", "Members"},
	"roles.scope":                {"数据范围", "Data scope"},
	"scope.all":                  {"全部数据", "All data"},
	"scope.org_subtree":          {"本机构及下级机构数据", "My org and the orgs under it"},
	"scope.org":                  {"所在机构数据", "The data of my org"},
	"scope.self":                 {"仅本人数据", "Only my own"},
	"scope.custom":               {"自定义（指定组织）", "Custom (chosen orgs)"},

	"policies.version":  {"版本", "Version"},
	"policies.active":   {"使用中", "Active"},
	"policies.by":       {"上传人", "Uploaded by"},
	"policies.at":       {"上传时间", "Uploaded at"},
	"policies.activate": {"启用此版本", "Activate"},
	"policies.off":      {"停用租户策略（只用平台策略）", "Switch the tenant policy off (platform policy only)"},
	"policies.upload":   {"上传新版本", "Upload a new version"},
	"policies.source":   {"Rego 源码", "Rego source"},
	"policies.hint":     {"包名须为 %s，并含 test_ 开头的测试。", "The package must be %s, with test_ rules."},
	"policies.none":     {"尚未上传租户策略，当前只用平台策略。", "No tenant policy yet; the platform policy applies."},

	"audit.action":  {"操作", "Action"},
	"audit.subject": {"操作者", "Who"},
	"audit.from":    {"起始时间", "From"},
	"audit.to":      {"截止时间", "To"},
	"audit.filter":  {"筛选", "Filter"},
	"audit.at":      {"时间", "Time"},
	"audit.target":  {"对象", "Target"},
	"audit.older":   {"更早的记录", "Older entries"},
	"audit.empty":   {"没有符合条件的记录。", "No entries match."},
	"audit.hint":    {"操作可写前缀，如 org.*", "An action may be a prefix such as org.*"},

	"window.pick":             {"选择窗口", "Choose your window"},
	"window.title":            {"%d 号窗口 · %s", "Window %d · %s"},
	"window.number":           {"%d 号窗口", "Window %d"},
	"window.sit":              {"进入", "Open"},
	"window.none":             {"该网点没有启用的窗口。", "The hall has no window in use."},
	"window.nohall":           {"还没有办事网点。", "No service hall yet."},
	"window.now":              {"正在办理", "Now serving"},
	"window.idle":             {"窗口空闲，可以叫下一位。", "The window is free: call the next citizen."},
	"window.call":             {"叫号", "Call next"},
	"window.recall":           {"重呼", "Recall"},
	"window.noshow":           {"过号", "No-show"},
	"window.noshow.confirm":   {"确定标记为过号？", "Mark this ticket a no-show?"},
	"window.finish":           {"办结", "Finish"},
	"window.transfer":         {"转办", "Transfer"},
	"window.transfer.to":      {"转到事项", "Transfer to"},
	"window.waiting":          {"等候人数", "People waiting"},
	"window.waiting.count":    {"等候", "Waiting"},
	"window.noitems":          {"没有可取号的事项。", "No item takes tickets."},
	"window.checkin":          {"预约取号", "Appointment check-in"},
	"window.checkin.token":    {"预约二维码凭证（扫码或粘贴）", "The appointment's QR pass (scan or paste)"},
	"window.checkin.button":   {"取号", "Check in"},
	"window.issued":           {"已取号 %s（%s），前面还有 %d 人。", "Ticket %s issued (%s); %d waiting ahead."},
	"window.other":            {"换一个窗口", "Another window"},
	"done.called":             {"已叫号。", "Called."},
	"done.recall":             {"已重呼。", "Called again."},
	"done.no-show":            {"已标记为过号。", "Marked a no-show."},
	"done.finish":             {"已办结。", "Finished."},
	"done.transfer":           {"已转办，该号按原顺序在新事项中等候。", "Transferred: the ticket keeps its place in the other item's queue."},
	"ticket.item":             {"办理事项", "Service item"},
	"ticket.department":       {"部门", "Department"},
	"ticket.kind":             {"号票类型", "Kind"},
	"ticket.kind.walk_in":     {"现场号", "On-site"},
	"ticket.kind.appointment": {"预约号", "Appointment"},
	"ticket.kind.priority":    {"优先号", "Priority"},
	"ticket.name":             {"姓名", "Name"},
	"ticket.id_number":        {"证件号码", "ID number"},
	"ticket.recalls":          {"重呼次数", "Recalls"},
	"ticket.prefix":           {"号票前缀", "Prefix"},
	"board.halls":             {"叫号屏", "Display boards"},
	"board.title":             {"%s · 叫号屏", "%s · Display board"},
	"board.open":              {"打开叫号屏", "Open the display board"},
	"board.calls":             {"请以下号码到窗口办理", "Now called"},
	"board.window":            {"请到 %d 号窗口", "Window %d"},
	"board.empty":             {"暂无叫号。", "No calls yet."},
}

func hasMessage(key string) bool { _, ok := messages[key]; return ok }

// translate looks a message up; a missing key shows as itself, which the
// tests catch.
func translate(lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if lang == langEN {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
