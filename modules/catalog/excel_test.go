package catalog_test

import (
	"context"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"yamen/modules/catalog"
	"yamen/problem"
	"yamen/tenants"
)

// workbook returns an .xlsx whose first sheet holds rows.
func workbook(t testing.TB, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, err)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &row))
	}
	buf, err := f.WriteToBuffer()
	require.NoError(t, err)
	return buf.Bytes()
}

func header() []any {
	h := make([]any, len(catalog.ExcelColumns))
	for i, c := range catalog.ExcelColumns {
		h[i] = c
	}
	return h
}

func locations(t testing.TB, err error) []string {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "want a problem, got %v", err)
	var locs []string
	for _, f := range p.Fields {
		locs = append(locs, f.Location)
	}
	return locs
}

func TestParseExcel(t *testing.T) {
	t.Parallel()
	raw := workbook(t, header(),
		[]any{"police", "HJ-010", "户口迁出（𠀀）", "户籍办理", "5个工作日", "居民身份证*1；户口簿；结婚证（非必需）", "是", "", "否", "A", ""},
		[]any{},
		[]any{"social", "SB-010", "社保卡补领（䶮）", "社会保障", 3, "", "否", "是", "", "", "是"},
	)
	x, err := catalog.ParseExcel(raw)
	require.NoError(t, err)
	require.Equal(t, []int{2, 4}, x.Rows, "the blank row is skipped; rows as Excel numbers them")
	first := x.Items[0]
	require.Equal(t, "户口迁出（𠀀）", first.Name)
	require.Equal(t, 5, first.TimeLimitDays)
	require.Equal(t, []catalog.Material{{Name: "居民身份证", Copies: 1, Required: true}, {Name: "户口簿", Copies: 1, Required: true}, {Name: "结婚证", Copies: 1, Required: false}}, first.Materials)
	require.Equal(t, new(true), first.Bookable)
	require.Nil(t, first.Ticketable, "an empty cell keeps the item's setting")
	require.Equal(t, new(false), first.RealName)
	require.Equal(t, 3, x.Items[1].TimeLimitDays)

	t.Run("EveryBadCellIsNamed", func(t *testing.T) {
		t.Parallel()
		_, err := catalog.ParseExcel(workbook(t, header(),
			[]any{"police", "HJ-010", "户口迁出", "", "五天", "居民身份证*0", "也许", "", "", "", ""},
		))
		require.ElementsMatch(t, []string{"body.E2", "body.F2", "body.G2"}, locations(t, err))
	})
	t.Run("WrongHeader", func(t *testing.T) {
		t.Parallel()
		h := header()
		h[2] = "名称"
		_, err := catalog.ParseExcel(workbook(t, h))
		require.Equal(t, []string{"body.C1"}, locations(t, err))
	})
	t.Run("NotAWorkbook", func(t *testing.T) {
		t.Parallel()
		_, err := catalog.ParseExcel([]byte("PK\x03\x04 not really"))
		require.Equal(t, []string{"body"}, locations(t, err))
		_, err = catalog.ParseExcel(workbook(t, header()))
		require.Equal(t, []string{"body"}, locations(t, err), "a header and no item")
	})
}

func TestExcelImportNamesCells(t *testing.T) {
	t.Parallel()
	f := setup(t)
	x, err := catalog.ParseExcel(workbook(t, header(),
		[]any{"police", "HJ-010", "户口迁出"},
		[]any{"nope", "X-1", "无此部门"},
		[]any{"police", "HJ-010", "重复", "", "", "", "", "", "", "a"},
	))
	require.NoError(t, err)
	err = f.db.Tx(context.Background(), f.tenant.ID, "system", func(tx *tenants.Tx) error {
		_, err := catalog.ImportItems(context.Background(), tx, x.Import)
		return x.Cells(err)
	})
	p, ok := problem.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusUnprocessableEntity, p.Status)
	require.ElementsMatch(t, []string{"body.A3", "body.B4", "body.J4"}, locations(t, err))
	require.Contains(t, p.Fields[0].Message, "：", "the message names the column")
}

func TestParseMaterials(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]catalog.Material{
		"":             {},
		"居民身份证":        {{Name: "居民身份证", Copies: 1, Required: true}},
		"买卖合同×2份;完税凭证": {{Name: "买卖合同", Copies: 2, Required: true}, {Name: "完税凭证", Copies: 1, Required: true}},
		"授权委托书 * 1 (非必需)\n照片": {{Name: "授权委托书", Copies: 1, Required: false}, {Name: "照片", Copies: 1, Required: true}},
	} {
		got, err := catalog.ParseMaterials(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"*2", "证明*0", "证明*100", "（非必需）"} {
		_, err := catalog.ParseMaterials(in)
		require.Error(t, err, in)
	}
}

// FuzzParseMaterials: a cell is refused or read as materials with names and
// copies an item may hold.
func FuzzParseMaterials(f *testing.F) {
	for _, s := range []string{"居民身份证*1；户口簿；结婚证（非必需）", "a×99份", ";;", "𠀀*3(选)", "x*100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := catalog.ParseMaterials(s)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.Name == "" || m.Copies < 1 || m.Copies > 99 {
				t.Fatalf("%q reads as %+v", s, m)
			}
			if utf8.ValidString(s) && !utf8.ValidString(m.Name) {
				t.Fatalf("%q gives a broken name %q", s, m.Name)
			}
		}
	})
}

// FuzzParseExcel: whatever bytes arrive, the parser answers with items or a
// problem, never a panic or a bare error.
func FuzzParseExcel(f *testing.F) {
	f.Add(workbook(f, header(), []any{"police", "HJ-010", "户口迁出", "户籍办理", 5, "居民身份证*1", "是", "", "", "", ""}))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		x, err := catalog.ParseExcel(raw)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("a bare error: %v", err)
			}
			return
		}
		if len(x.Items) == 0 || len(x.Items) != len(x.Rows) {
			t.Fatalf("%d items from %d rows", len(x.Items), len(x.Rows))
		}
	})
}
