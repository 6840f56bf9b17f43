package catalog

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"yamen/problem"
)

// writeError turns what PostgreSQL refused of a write into a problem naming
// the field: a taken code or window number is a 409, a reference to nothing
// (a region, hall, department or org not of this tenant) or a value the
// table's checks refuse is a 422. The column comes from the constraint's
// name, which PostgreSQL derives from it (<table>_<column>_check,
// <table>_tenant_id_<column>_fkey, <table>_tenant_id_<columns>_key).
// values are the values written, by column, to show in the problem.
func writeError(err error, values map[string]any) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return fmt.Errorf("catalog: write: %w", err)
	}
	name := strings.TrimPrefix(pgErr.ConstraintName, pgErr.TableName+"_")
	name = strings.TrimPrefix(name, "tenant_id_")
	switch pgErr.Code {
	case "23505":
		column := strings.TrimSuffix(name, "_key")
		// (hall_id, number) and (department_id, code): the last column is
		// the one the caller chose.
		if i := strings.LastIndex(column, "_id_"); i >= 0 {
			column = column[i+len("_id_"):]
		}
		return problem.New(http.StatusConflict, "已存在相同的"+fieldTitle(column)+" (already used)",
			problem.Field{Location: "body." + column, Message: "已存在 (already used)", Value: values[column]})
	case "23503":
		column := strings.TrimSuffix(name, "_fkey")
		return problem.InvalidField("body."+column, fieldTitle(column)+"不存在 (no such "+strings.TrimSuffix(column, "_id")+")", values[column])
	case "22021", "22P05":
		return problem.InvalidField("body", "含有无效字符 (invalid characters)", nil)
	case "23514":
		column := strings.TrimSuffix(name, "_check")
		return problem.InvalidField("body."+column, "取值不符合要求 (value not allowed)", values[column])
	}
	return fmt.Errorf("catalog: write: %w", err)
}

// deleteError is a 409 when what is deleted is still referred to (a hall by
// its departments, an item by appointments), which can be made inactive
// instead.
func deleteError(err error, what string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return problem.Conflict(what + "仍被引用，无法删除，可改为停用 (still in use; deactivate it instead)")
	}
	return fmt.Errorf("catalog: delete: %w", err)
}

func fieldTitle(column string) string {
	switch column {
	case "code":
		return "编码"
	case "number":
		return "窗口序号"
	case "region_code":
		return "行政区划"
	case "hall_id":
		return "办事网点"
	case "department_id":
		return "业务部门"
	case "org_id":
		return "组织"
	case "item_id":
		return "事项"
	}
	return column
}
