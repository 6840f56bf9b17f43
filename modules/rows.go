package modules

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"yamen/policy"
)

// MetaRows is the metadata of a tenant read saying how its rows follow the
// reader's data scope (seed 003 数据权限): a Rows. Register refuses a tenant
// GET without one, so a new read cannot forget the data scope unnoticed:
// either it filters by it or it says why its rows are the same for every
// member.
const MetaRows = "yamen.rows"

// Rows is how a read's rows follow the data scope: by Columns, or, with a
// Reason, not at all (tenant-wide).
type Rows struct {
	Columns policy.Columns
	Reason  string
}

// InScope declares that op returns only the rows in the reader's data
// scope, which its handler gets from DataScope and turns into SQL with
// policy.Scope.Where on these columns.
func InScope(c policy.Columns, op huma.Operation) huma.Operation {
	return withRows(op, Rows{Columns: c}, "org: "+c.Org+", owner: "+c.Owner)
}

// TenantWide declares that op's rows are the same for every member allowed
// the operation, and says why: they belong to no org (a dictionary, the
// hall's catalogue), are the caller's own, or are configuration.
func TenantWide(reason string, op huma.Operation) huma.Operation {
	return withRows(op, Rows{Reason: reason}, "tenant-wide: "+reason)
}

// withRows marks op with its Rows; integrators read in the document
// whether a read follows the data scope.
func withRows(op huma.Operation, rows Rows, doc string) huma.Operation {
	return mark(op, MetaRows, rows, "x-yamen-data-scope", doc)
}

// declaresRows says what is wrong with op's Rows, or "" when it is right
// or op needs none (it is not a tenant GET).
func declaresRows(scope Scope, op *huma.Operation) string {
	if scope != ScopeTenant || op.Method != http.MethodGet {
		return ""
	}
	rows, ok := op.Metadata[MetaRows].(Rows)
	switch {
	case !ok:
		return "does not declare how its rows follow the data scope (modules.InScope or modules.TenantWide)"
	case rows.Columns == (policy.Columns{}) && strings.TrimSpace(rows.Reason) == "":
		return "is declared tenant-wide without a reason"
	}
	return ""
}

// CheckRows reports every tenant read in the API's document that does not
// declare how its rows follow the data scope: Register refuses those it
// adds, this catches those added through Router.API.
func CheckRows(api huma.API) error {
	var bad []string
	for path, item := range api.OpenAPI().Paths {
		op := item.Get
		if op == nil {
			continue
		}
		scope, _ := op.Metadata[MetaScope].(Scope)
		if msg := declaresRows(scope, op); msg != "" {
			bad = append(bad, op.Method+" "+path+" "+msg)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("tenant reads: %s", strings.Join(bad, "; "))
	}
	return nil
}

type decisionKey struct{}

// WithDecision returns ctx carrying the policy decision of the request's
// operation, as the API does before the handler runs.
func WithDecision(ctx context.Context, d policy.Decision) context.Context {
	return context.WithValue(ctx, decisionKey{}, d)
}

// DecisionFrom returns the policy decision of the request's operation; the
// zero Decision, which refuses and sees nothing, when there is none.
func DecisionFrom(ctx context.Context) policy.Decision {
	d, _ := ctx.Value(decisionKey{}).(policy.Decision)
	return d
}

// DataScope is the rows the request's subject may see, for a read declared
// InScope: the zero Scope, which sees nothing, when no decision was made.
func DataScope(ctx context.Context) policy.Scope { return DecisionFrom(ctx).Scope }
