package ratings

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"yamen/problem"
	"yamen/tenants"
)

// ImportColumns are the columns of a case import, in order, on the first
// sheet, with a header row.
var ImportColumns = []string{"办件编号", "事项编码", "事项名称", "部门编码", "部门名称", "工作人员", "区划代码", "办理渠道", "办结时间", "办事人姓名", "办事人手机"}

// MaxImportRows bounds an import.
const MaxImportRows = 20000

var channelNames = map[string]string{
	"窗口": "window", "网上": "online", "网办": "online", "移动端": "mobile", "自助": "self_service", "自助终端": "self_service", "热线": "hotline", "其他": "other",
	"window": "window", "online": "online", "mobile": "mobile", "self_service": "self_service", "hotline": "hotline", "other": "other",
}

var timeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006/01/02 15:04:05", "2006/1/2 15:04", "2006-01-02", "2006/01/02", time.RFC3339}

// ParseCases reads a case import. It returns the cases, or every bad cell
// as a field at body.<cell> (body.I7: row 7, column I) with the column's
// name: a file with any bad cell imports nothing.
func ParseCases(raw []byte, tz *time.Location) ([]NewCase, []problem.Field) {
	bad := func(msg string) []problem.Field {
		return []problem.Field{{Location: "body", Message: msg}}
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		return nil, bad("不是有效的 Excel (.xlsx) 文件 (not a readable .xlsx file)")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, bad("文件没有工作表 (the file has no sheet)")
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, bad("读取工作表失败 (the sheet cannot be read)")
	}
	if len(rows) == 0 {
		return nil, bad("工作表为空，须有表头行 (the sheet is empty; a header row is needed)")
	}
	var fields []problem.Field
	cell := func(col, row int) string {
		name, _ := excelize.CoordinatesToCellName(col+1, row+1)
		return name
	}
	for i, want := range ImportColumns {
		got := ""
		if i < len(rows[0]) {
			got = strings.TrimSpace(rows[0][i])
		}
		if got != want {
			fields = append(fields, problem.Field{Location: "body." + cell(i, 0), Message: fmt.Sprintf("表头应为“%s” (the header should be %s)", want, want), Value: got})
		}
	}
	if len(fields) > 0 {
		return nil, fields
	}
	if len(rows)-1 > MaxImportRows {
		return nil, bad(fmt.Sprintf("一次最多导入%d行 (at most %d rows at once)", MaxImportRows, MaxImportRows))
	}
	seen := map[string]int{}
	var cases []NewCase
	for r := 1; r < len(rows); r++ {
		row := rows[r]
		get := func(c int) string {
			if c < len(row) {
				return strings.TrimSpace(row[c])
			}
			return ""
		}
		if slices.IndexFunc(row, func(s string) bool { return strings.TrimSpace(s) != "" }) < 0 {
			continue // a blank row
		}
		badCell := func(c int, msg string) {
			fields = append(fields, problem.Field{Location: "body." + cell(c, r), Message: ImportColumns[c] + "：" + msg, Value: get(c)})
		}
		in := NewCase{Source: SourceImport, CaseNo: get(0), ItemCode: get(1), ItemName: get(2), DepartmentCode: get(3), DepartmentName: get(4),
			StaffName: get(5), RegionCode: get(6), CitizenName: get(9), CitizenPhone: get(10)}
		if !casePattern.MatchString(in.CaseNo) {
			badCell(0, "须为1至64位字母、数字或 _.:- (1–64 letters, digits or _.:-)")
		} else if prev, dup := seen[in.CaseNo]; dup {
			badCell(0, fmt.Sprintf("与第%d行重复 (repeats row %d)", prev, prev))
		} else {
			seen[in.CaseNo] = r + 1
		}
		checkLen := func(c int, v string, lo, hi int) {
			if n := len([]rune(v)); n < lo || n > hi {
				badCell(c, fmt.Sprintf("长度须在%d至%d之间 (length %d to %d)", lo, hi, lo, hi))
			}
		}
		checkLen(1, in.ItemCode, 0, 64)
		checkLen(2, in.ItemName, 1, 200)
		checkLen(3, in.DepartmentCode, 0, 40)
		checkLen(4, in.DepartmentName, 1, 200)
		checkLen(5, in.StaffName, 0, 100)
		checkLen(9, in.CitizenName, 0, 100)
		checkLen(10, in.CitizenPhone, 0, 40)
		if !regionPattern.MatchString(in.RegionCode) {
			badCell(6, "须为6、9或12位数字 (6, 9 or 12 digits)")
		}
		if ch, ok := channelNames[get(7)]; ok {
			in.Channel = ch
		} else {
			badCell(7, "须为窗口、网上、移动端、自助、热线或其他 (window, online, mobile, self_service, hotline or other)")
		}
		if t, ok := parseTime(get(8), tz); ok {
			in.HandledAt = t
		} else {
			badCell(8, "须为时间，如 2026-01-02 15:04 (a time such as 2026-01-02 15:04)")
		}
		cases = append(cases, in)
	}
	if len(fields) > 0 {
		return nil, fields
	}
	if len(cases) == 0 {
		return nil, bad("文件中没有办件 (the file holds no case)")
	}
	return cases, nil
}

func parseTime(s string, tz *time.Location) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, tz); err == nil {
			return t, true
		}
	}
	// An Excel serial date, as a cell formatted as a number shows it.
	if v, err := strconv.ParseFloat(s, 64); err == nil && v > 1 && v < 2958466 {
		if t, err := excelize.ExcelDateToTime(v, false); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, tz), true
		}
	}
	return time.Time{}, false
}

// Imported says what an import did.
type Imported struct {
	Rows    int `json:"rows" doc:"文件中的办件数 (cases in the file)"`
	Created int `json:"created" doc:"新建的办件数 (cases created)"`
	Known   int `json:"known" doc:"已有、未改动的办件数 (cases known already, left unchanged)"`
}

// ImportCases imports the cases of an .xlsx file: all of them, or, when
// any cell is bad, none.
func (m *Module) ImportCases(ctx context.Context, tx *tenants.Tx, raw []byte, now time.Time) (Imported, error) {
	cal, err := m.calendar(ctx)
	if err != nil {
		return Imported{}, err
	}
	cases, fields := ParseCases(raw, cal.Location())
	if len(fields) > 0 {
		return Imported{}, problem.Invalid(fields...)
	}
	codes := make([]string, 0, len(cases))
	for _, c := range cases {
		codes = append(codes, c.RegionCode)
	}
	rows, err := tx.Query(ctx, "SELECT code FROM regions WHERE code = ANY($1)", codes)
	if err != nil {
		return Imported{}, fmt.Errorf("ratings: import: %w", err)
	}
	known := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return Imported{}, fmt.Errorf("ratings: import: %w", err)
		}
		known[c] = true
	}
	rows.Close()
	for i, c := range cases {
		if !known[c.RegionCode] {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.G%d", i+2), Message: "区划代码：没有这个区划 (no such region)", Value: c.RegionCode})
		}
		if c.HandledAt.After(now.Add(5 * time.Minute)) {
			fields = append(fields, problem.Field{Location: fmt.Sprintf("body.I%d", i+2), Message: "办结时间：不能晚于现在 (cannot be in the future)", Value: c.HandledAt})
		}
	}
	if len(fields) > 0 {
		return Imported{}, problem.Invalid(fields...)
	}
	out := Imported{Rows: len(cases)}
	for _, c := range cases {
		got, err := m.insertCase(ctx, tx, c)
		if err != nil {
			return Imported{}, err
		}
		if got.Created {
			out.Created++
		} else {
			out.Known++
		}
	}
	if err := tenants.Audit(ctx, tx, "ratings.cases.import", "", map[string]any{"rows": out.Rows, "created": out.Created}); err != nil {
		return Imported{}, err
	}
	return out, nil
}

// StatsWorkbook writes statistics as an .xlsx workbook.
func StatsWorkbook(st Stats) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "好差评统计"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	header := []any{"分组", "名称", "评价数", "非常满意", "满意", "基本满意", "不满意", "非常不满意", "默认评价", "差评", "已整改", "按期整改", "满意率", "整改率", "及时率", "默认评价占比"}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return nil, err
	}
	rows := append(slices.Clone(st.Rows), st.Total)
	for i, r := range rows {
		line := []any{r.Key, r.Name, r.Total, r.VerySatisfied, r.Satisfied, r.Basic, r.Dissatisfied, r.VeryDissatisfied, r.Defaults, r.Bad,
			r.Rectified, r.RectifiedInTime, r.SatisfactionRate, r.RectifyRate, r.TimelyRate, r.DefaultShare}
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", i+2), &line); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, fmt.Errorf("ratings: export: %w", err)
	}
	return b.Bytes(), nil
}
