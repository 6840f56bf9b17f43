package portal

import (
	"net/http"

	"github.com/google/uuid"

	"yamen/modules"
	"yamen/modules/ratings"
	"yamen/problem"
)

// 好差评 in the portal: citizens rate their own cases, follow a rating up
// and rate the rectification a second time (ratings_case.go and the
// ratings_*.go form handlers); anyone reads the tenant's summary and the
// published rectifications (ratings_public.go); managers work through the
// rectification queue (ratings_rectify.go) and read the dashboard
// (ratings_dashboard.go).

func init() {
	RegisterNav(
		NavItem{Path: "/me/cases", Title: modules.Text{ZH: "我的办件", EN: "My cases"}, Module: "ratings", Citizen: true},
		NavItem{Path: "/ratings/public", Title: modules.Text{ZH: "好差评公示", EN: "Ratings"}, Module: "ratings"},
		NavItem{Path: "/ratings/rectifications", Title: modules.Text{ZH: "差评整改", EN: "Rectifications"}, Module: "ratings", Action: "ratings:read"},
		NavItem{Path: "/ratings/dashboard", Title: modules.Text{ZH: "评价统计", EN: "Rating statistics"}, Module: "ratings", Action: "ratings:read"},
		NavItem{Path: "/ratings/province", Title: modules.Text{ZH: "省级上报", EN: "Province uploads"}, Module: "ratings", Action: "ratings:read"},
	)
	for k, v := range ratingMessages {
		messages[k] = v
	}
}

// actionRate is what the tenant policy grants citizens to rate their cases.
const actionRate = "ratings:rate"

// ratingsModule is the registry's ratings module.
func (p *Portal) ratingsModule() (*ratings.Module, error) {
	for _, m := range p.reg.All() {
		if r, ok := m.(*ratings.Module); ok {
			return r, nil
		}
	}
	return nil, problem.New(http.StatusServiceUnavailable, "好差评模块未安装 (the ratings module is not installed)")
}

// citizenIdentity is the signed-in citizen's Kratos identity, which cases
// carry as citizen_id.
func (v *view) citizenIdentity() uuid.UUID { return ratings.CitizenRater(*v.person).Citizen }

// levelOptions are the five levels, best first.
var levelOptions = []int{5, 4, 3, 2, 1}

// secondOptions are the answers of a second rating.
var secondOptions = []string{"satisfied", "basic", "dissatisfied"}

// outcomeOptions are a department's answers to a bad rating.
var outcomeOptions = []string{ratings.OutcomeAtOnce, ratings.OutcomeByDeadline, ratings.OutcomeExplained, ratings.OutcomeAppealed}

var ratingMessages = map[string][2]string{
	"cases.title":                   {"我的办件", "My cases"},
	"cases.none":                    {"暂无办结的办件。在窗口办结后，办件会出现在这里供您评价。", "No finished case yet. Once a window finishes your case, it shows here for you to rate."},
	"cases.handled":                 {"办结时间", "Finished"},
	"cases.rating":                  {"评价", "Rating"},
	"cases.unrated":                 {"待评价", "To rate"},
	"case.title":                    {"办件 · %s", "Case · %s"},
	"case.no":                       {"办件编号", "Case number"},
	"case.department":               {"部门", "Department"},
	"case.window":                   {"窗口", "Window"},
	"case.rate":                     {"评价本次服务", "Rate this service"},
	"case.level":                    {"满意程度", "How satisfied are you?"},
	"case.tags":                     {"评价标签", "Tags"},
	"case.tags.hint":                {"选择“不满意”或“非常不满意”时，须至少勾选一个对应标签。", "With 不满意 or 非常不满意, tick at least one of that level's tags."},
	"case.comment":                  {"评价理由（选填）", "Comment (optional)"},
	"case.submit":                   {"提交评价", "Submit the rating"},
	"case.level.required":           {"请选择满意程度。", "Choose a level."},
	"case.your_rating":              {"您的评价", "Your rating"},
	"case.default":                  {"（超期系统默认评价）", "(rated by default after the deadline)"},
	"case.followup":                 {"追加评价", "Follow-up"},
	"case.followup.level":           {"追加评价等级（选填）", "Level (optional)"},
	"case.followup.none":            {"不改变", "No level"},
	"case.followup.comment":         {"追加评价内容", "Your follow-up"},
	"case.followup.submit":          {"提交追加评价", "Submit the follow-up"},
	"case.followup.required":        {"请填写追加评价内容。", "Write your follow-up."},
	"case.rect":                     {"差评整改", "Rectification"},
	"case.rect.pending":             {"部门正在整改，期限 %s。整改反馈后您可进行二次评价。", "The department is rectifying, due %s. You can rate its answer once it reports back."},
	"case.rect.outcome":             {"整改结果", "Outcome"},
	"case.rect.feedback":            {"整改情况", "What was done"},
	"case.second":                   {"二次评价", "Second rating"},
	"case.second.legend":            {"您对整改结果是否满意？", "Are you satisfied with the rectification?"},
	"case.second.submit":            {"提交二次评价", "Submit"},
	"case.second.required":          {"请选择对整改结果的评价。", "Choose an answer."},
	"second.satisfied":              {"满意", "Satisfied"},
	"second.basic":                  {"基本满意", "Fairly satisfied"},
	"second.dissatisfied":           {"不满意", "Dissatisfied"},
	"outcome.rectified_at_once":     {"立行立改", "Rectified at once"},
	"outcome.rectified_by_deadline": {"限期整改", "Rectified by the deadline"},
	"outcome.explained":             {"解释说明", "Explained"},
	"outcome.appealed":              {"申诉（恶意或误评）", "Appealed (malicious or mistaken)"},
	"rect.open":                     {"待整改", "Open"},
	"rect.fed_back":                 {"已反馈", "Fed back"},
	"rect.appealed":                 {"申诉中", "Appealed"},
	"rect.closed":                   {"已办结", "Closed"},
	"province.title":                {"省级上报对账", "Uploads to the province"},
	"province.about":                {"评价、追加评价、整改与二次评价每隔几秒推送至省“好差评”系统；下表列出省级系统尚未确认接收的数据，失败的将按退避间隔自动重试。", "Ratings, follow-ups, rectifications and second ratings are pushed to the provincial system every few seconds; below is what it has not acknowledged yet. Failed uploads are retried with a growing wait."},
	"province.unconfigured":         {"尚未配置省级接收地址，数据暂不上报。请在模块设置中填写。", "No provincial endpoint is configured: nothing is uploaded until one is set in the module settings."},
	"province.resend":               {"立即重新上报", "Send again now"},
	"province.resend.about":         {"省级系统恢复后使用：不再等待重试间隔。", "Once the province is back: no need to wait out the retries."},
	"done.resent":                   {"已安排重新上报，几秒内推送。", "Everything will be sent again within seconds."},
	"province.none":                 {"所有数据均已被省级系统确认接收。", "The province has acknowledged everything."},
	"province.case":                 {"办件编号", "Case"},
	"province.event":                {"数据类型", "Event"},
	"province.attempts":             {"已尝试次数", "Attempts"},
	"province.error":                {"最近一次结果", "Last result"},
	"province.next":                 {"下次推送", "Next try"},
	"upload.rating":                 {"评价", "Rating"},
	"upload.follow_up":              {"追加评价", "Follow-up"},
	"upload.rectification":          {"差评整改", "Rectification"},
	"upload.second_rating":          {"二次评价", "Second rating"},
	"rects.title":                   {"差评整改", "Rectifications"},
	"rects.none":                    {"没有差评整改。", "No rectification."},
	"rects.deadline":                {"反馈期限", "Due"},
	"rects.status":                  {"状态", "Status"},
	"rects.overdue":                 {"已超期", "Overdue"},
	"rects.filter":                  {"筛选", "Filter"},
	"rects.all":                     {"全部", "All"},
	"rects.only_overdue":            {"只看超期", "Overdue only"},
	"rect.title":                    {"差评整改 · %s", "Rectification · %s"},
	"rect.level":                    {"评价", "Rating"},
	"rect.answer":                   {"整改反馈", "Report back"},
	"rect.outcome.required":         {"请选择整改结果。", "Choose the outcome."},
	"rect.feedback.required":        {"请填写整改情况或申诉理由。", "Say what was done, or why you appeal."},
	"rect.submit":                   {"提交反馈", "Report back"},
	"rect.second":                   {"群众二次评价", "The citizen's second rating"},
	"done.rated":                    {"评价已提交，感谢您的反馈。", "Thank you: your rating is in."},
	"done.followed_up":              {"追加评价已提交。", "Your follow-up is in."},
	"done.second_rated":             {"二次评价已提交，整改已办结。", "Your second rating is in; the rectification is closed."},
	"done.fed_back":                 {"整改反馈已提交。", "The feedback is recorded."},
	"summary.title":                 {"好差评公示", "Ratings"},
	"summary.total":                 {"近一年评价数", "Ratings in the last year"},
	"summary.rate":                  {"满意率", "Satisfaction"},
	"summary.rectify_rate":          {"差评整改率", "Bad ratings rectified"},
	"summary.timely_rate":           {"整改及时率", "Rectified in time"},
	"summary.rects":                 {"整改公示", "Published rectifications"},
	"summary.rects.none":            {"暂无公示的整改。", "No rectification published yet."},
	"dash.asof":                     {"统计时间 %s（半分钟内的数据变化稍后显示）", "Counted at %s (changes show within half a minute)"},
	"dash.title":                    {"评价统计", "Rating statistics"},
	"dash.trend":                    {"近30天满意率", "Satisfaction, last 30 days"},
	"dash.depts":                    {"各部门评价等级", "Levels by department"},
	"dash.regions":                  {"按区划下钻", "By region"},
	"dash.region.up":                {"返回上一级", "Up one level"},
	"dash.export":                   {"导出 Excel", "Export to Excel"},
	"dash.none":                     {"暂无评价数据。", "No ratings yet."},
	"dash.group":                    {"分组", "Group"},
	"dash.count":                    {"评价数", "Ratings"},
	"dash.bad":                      {"差评", "Bad"},
}

func init() {
	for l, name := range ratings.LevelNames {
		en := map[int]string{5: "Very satisfied", 4: "Satisfied", 3: "Fairly satisfied", 2: "Dissatisfied", 1: "Very dissatisfied"}[l]
		messages["level."+string(rune('0'+l))] = [2]string{name, name + " (" + en + ")"}
	}
}
