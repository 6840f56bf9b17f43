package catalog

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"yamen/problem"
)

// ExcelColumns are the columns of an item import workbook, in order, on its
// first sheet under a header row: the export of the city's item management
// system as halls receive it.
var ExcelColumns = []string{"部门编码", "事项编码", "事项名称", "主题分类", "法定办结时限", "申报材料", "可预约", "可现场取号", "须实名", "号票前缀", "是否启用"}

// excelField is the ImportItem field of each column, to point a problem of
// an item back at its cell.
var excelField = []string{"department_code", "code", "name", "theme", "time_limit_days", "materials", "bookable", "ticketable", "real_name", "ticket_prefix", "active"}

// MaxExcelRows bounds one workbook, like the JSON import.
const MaxExcelRows = 5000

// ExcelImport is a parsed workbook: the items and the sheet row each came
// from (1-based, as Excel numbers them).
type ExcelImport struct {
	Import
	Rows []int
}

// cellName is the name of the cell at 0-based column and 1-based row: B4.
func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col+1, row)
	return name
}

// ParseExcel reads an item import workbook. It returns the items, or every
// bad cell as a field at body.<cell> (body.E7: row 7, column E) with the
// column's name, so a file with any bad cell imports nothing.
func ParseExcel(raw []byte) (ExcelImport, error) {
	whole := func(msg string) error { return problem.InvalidField("body", msg, nil) }
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		return ExcelImport{}, whole("不是有效的 Excel (.xlsx) 文件 (not a readable .xlsx file)")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return ExcelImport{}, whole("文件没有工作表 (the file has no sheet)")
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return ExcelImport{}, whole("读取工作表失败 (the sheet cannot be read)")
	}
	if len(rows) == 0 {
		return ExcelImport{}, whole("工作表为空，须有表头行 (the sheet is empty; a header row is needed)")
	}
	var fields []problem.Field
	for c, want := range ExcelColumns {
		got := ""
		if c < len(rows[0]) {
			got = strings.TrimSpace(rows[0][c])
		}
		if got != want {
			fields = append(fields, problem.Field{Location: "body." + cellName(c, 1), Message: fmt.Sprintf("表头应为“%s” (the header should be %s)", want, want), Value: got})
		}
	}
	if len(fields) > 0 {
		return ExcelImport{}, problem.Invalid(fields...)
	}
	if len(rows)-1 > MaxExcelRows {
		return ExcelImport{}, whole(fmt.Sprintf("一次最多导入%d行 (at most %d rows at once)", MaxExcelRows, MaxExcelRows))
	}
	var out ExcelImport
	for r := 1; r < len(rows); r++ {
		row, line := rows[r], r+1
		get := func(c int) string {
			if c < len(row) {
				return strings.TrimSpace(row[c])
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue // a blank row
		}
		bad := func(c int, msg string) {
			fields = append(fields, problem.Field{Location: "body." + cellName(c, line), Message: ExcelColumns[c] + "：" + msg, Value: get(c)})
		}
		it := ImportItem{DepartmentCode: get(0), Code: get(1), Name: get(2), Theme: get(3), TicketPrefix: get(9)}
		if s := get(4); s != "" {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(s, "个工作日"), "工作日"))
			if err != nil {
				bad(4, "须为工作日天数，如 5 (working days, such as 5)")
			}
			it.TimeLimitDays = n
		}
		ms, err := ParseMaterials(get(5))
		if err != nil {
			bad(5, err.Error())
		}
		it.Materials = ms
		for c, dst := range map[int]**bool{6: &it.Bookable, 7: &it.Ticketable, 8: &it.RealName, 10: &it.Active} {
			b, ok := parseYesNo(get(c))
			if !ok {
				bad(c, "须为“是”或“否” (yes or no)")
			}
			*dst = b
		}
		out.Items = append(out.Items, it)
		out.Rows = append(out.Rows, line)
	}
	if len(fields) > 0 {
		return ExcelImport{}, problem.Invalid(fields...)
	}
	if len(out.Items) == 0 {
		return ExcelImport{}, whole("文件中没有事项 (the file holds no item)")
	}
	return out, nil
}

// Cells turns the fields of a problem of the parsed items (body.items[3].code,
// body.items[3].materials[0].name) into the cells they came from (body.B5).
func (x ExcelImport) Cells(err error) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	out := *p
	out.Fields = make([]problem.Field, len(p.Fields))
	for i, f := range p.Fields {
		out.Fields[i] = f
		var n int
		var rest string
		if _, err := fmt.Sscanf(f.Location, "body.items[%d].", &n); err != nil || n < 0 || n >= len(x.Rows) {
			continue
		}
		_, rest, _ = strings.Cut(f.Location, "].")
		field, _, _ := strings.Cut(rest, "[")
		for c, name := range excelField {
			if name == field {
				out.Fields[i].Location = "body." + cellName(c, x.Rows[n])
				out.Fields[i].Message = ExcelColumns[c] + "：" + f.Message
			}
		}
	}
	return &out
}

var materialPattern = regexp.MustCompile(`^(.*?)\s*(?:[*×]\s*(\d{1,2})\s*份?)?\s*(（非必需）|\(非必需\)|（选）|\(选\))?$`)

// ParseMaterials reads the 申报材料 cell: materials separated by ; ； or a
// line break, each a name, optionally *份数 (×2, *2份), optionally marked
// （非必需） when only some applicants need it: 居民身份证*1；户口簿；结婚证（非必需）.
func ParseMaterials(s string) ([]Material, error) {
	ms := []Material{}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' || r == '\n' || r == '\r' })
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := materialPattern.FindStringSubmatch(part)
		if m == nil || strings.TrimSpace(m[1]) == "" {
			return nil, fmt.Errorf("无法识别的材料“%s”，应如 居民身份证*1；结婚证（非必需） (unreadable material)", part)
		}
		mat := Material{Name: strings.TrimSpace(m[1]), Copies: 1, Required: m[3] == ""}
		if strings.ContainsAny(mat.Name, "*×") {
			return nil, fmt.Errorf("材料“%s”的份数须在1至99之间 (1 to 99 copies)", part)
		}
		if m[2] != "" {
			mat.Copies, _ = strconv.Atoi(m[2])
			if mat.Copies < 1 {
				return nil, fmt.Errorf("材料“%s”的份数须在1至99之间 (1 to 99 copies)", mat.Name)
			}
		}
		ms = append(ms, mat)
	}
	return ms, nil
}

// parseYesNo reads a yes/no cell; empty is nil (keep the item's setting).
func parseYesNo(s string) (*bool, bool) {
	switch strings.ToLower(s) {
	case "":
		return nil, true
	case "是", "y", "yes", "true", "1", "√":
		return new(true), true
	case "否", "n", "no", "false", "0", "×":
		return new(false), true
	}
	return nil, false
}
