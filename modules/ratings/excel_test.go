package ratings_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"yamen/modules/ratings"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// workbook builds an import file: the header row, then rows.
func workbook(t testing.TB, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	header := make([]any, len(ratings.ImportColumns))
	for i, c := range ratings.ImportColumns {
		header[i] = c
	}
	require.NoError(t, f.SetSheetRow("Sheet1", "A1", &header))
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &r))
	}
	var b bytes.Buffer
	require.NoError(t, f.Write(&b))
	return b.Bytes()
}

func goodRow(no string) []any {
	return []any{no, "I-1", "不动产登记𠀀", "BDC", "自然资源局", "钱五", tenanttest.DistrictCode, "窗口", "2026-11-02 10:30", "孙六", "13700001111"}
}

func TestImportNamesEveryBadCellAndImportsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := goodRow("X-2")
	bad[2] = ""           // C3
	bad[6] = "12"         // G3
	bad[7] = "飞鸽传书"       // H3
	bad[8] = "昨天"         // I3
	dup := goodRow("X-1") // A4 repeats A2
	raw := workbook(t, goodRow("X-1"), bad, dup)
	err := b.tx(t, func(tx *tenants.Tx) error {
		_, err := b.m.ImportCases(context.Background(), tx, raw, time.Now())
		return err
	})
	pe := requireStatus(t, err, http.StatusUnprocessableEntity)
	var locs []string
	for _, f := range pe.Fields {
		locs = append(locs, f.Location)
	}
	require.ElementsMatch(t, []string{"body.C3", "body.G3", "body.H3", "body.I3", "body.A4"}, locs)

	unknownRegion := goodRow("X-3")
	unknownRegion[6] = "123456789"
	err = b.tx(t, func(tx *tenants.Tx) error {
		_, err := b.m.ImportCases(context.Background(), tx, workbook(t, goodRow("X-1"), unknownRegion), time.Now())
		return err
	})
	pe = requireStatus(t, err, http.StatusUnprocessableEntity)
	require.Equal(t, "body.G3", pe.Fields[0].Location)

	rd, err := b.db.Reader(b.tenant.ID, "system")
	require.NoError(t, err)
	cases, err := ratings.ListCases(context.Background(), rd, ratings.CaseFilter{})
	require.NoError(t, err)
	require.Empty(t, cases, "nothing imported from a bad file")

	var got ratings.Imported
	require.NoError(t, b.tx(t, func(tx *tenants.Tx) error {
		got, err = b.m.ImportCases(context.Background(), tx, workbook(t, goodRow("X-1"), goodRow("X-2")), time.Now())
		return err
	}))
	require.Equal(t, ratings.Imported{Rows: 2, Created: 2}, got)
	c, err := ratings.GetCase(context.Background(), rd, "X-2")
	require.NoError(t, err)
	require.Equal(t, "不动产登记𠀀", c.ItemName)
	require.Equal(t, "window", c.Channel)
	require.Equal(t, "import", c.Source)
	listed, err := ratings.ListCases(context.Background(), rd, ratings.CaseFilter{CaseNo: "X-2"})
	require.NoError(t, err)
	require.Equal(t, "137****1111", listed[0].CitizenPhone, "masked in lists")
	require.Empty(t, listed[0].RateToken)
}

func TestImportRejectsWhatIsNoWorkbook(t *testing.T) {
	t.Parallel()
	for _, raw := range [][]byte{nil, []byte("办件编号,事项"), []byte("PK\x03\x04garbage")} {
		cases, fields := ratings.ParseCases(raw, shanghai)
		require.Nil(t, cases)
		require.Equal(t, "body", fields[0].Location)
	}
}

// The parser of outside files never panics, and either returns cases or
// names bad cells, never both.
func FuzzParseCases(f *testing.F) {
	f.Add(workbook(f, goodRow("F-1")), "")
	f.Add(workbook(f, goodRow("F-1"), []any{"F 2", "", "", "", "", "", "9", "x", "y"}), "")
	f.Add([]byte("PK\x03\x04"), "")
	f.Fuzz(func(t *testing.T, raw []byte, cell string) {
		if cell != "" && len(raw) < 1<<16 {
			// Put the fuzzed text into a real workbook too.
			row := goodRow("F-1")
			row[len(cell)%len(row)] = cell
			raw = workbook(t, row)
		}
		cases, fields := ratings.ParseCases(raw, shanghai)
		require.False(t, len(cases) > 0 && len(fields) > 0)
		require.True(t, len(cases) > 0 || len(fields) > 0)
	})
}
