package policy

import (
	"fmt"
	"strings"
)

// Scope is which rows a decision lets the subject see. Its fields are
// unexported: only a Decision makes one, and the zero Scope sees nothing, so
// a list query that forgets to ask the policy returns no rows rather than all.
type Scope struct {
	decided  bool
	all      bool
	orgs     []string
	subtrees []string
	self     string
}

// SystemScope is the scope of the service's own work (the worker, the demo
// seed, tests): every row of the tenant. Requests get theirs from a Decision.
func SystemScope() Scope { return Scope{decided: true, all: true} }

// All is the scope of a subject that sees every row of the tenant.
func (s Scope) All() bool { return s.all }

// Columns name what a table's rows are scoped by: the org a row belongs to
// and, for "self", the member who owns it. Either may be empty when the table
// has no such column; a scope that needs it then admits nothing by it.
type Columns struct {
	Org   string
	Owner string
}

// Where returns a SQL predicate restricting rows to the scope, with its
// arguments numbered from $next. The org tree is read from the orgs table,
// so subtrees follow moves at once.
func (s Scope) Where(c Columns, next int) (string, []any) {
	if !s.decided {
		return "false", nil
	}
	if s.all {
		return "true", nil
	}
	var terms []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", next+len(args)-1)
	}
	if c.Org != "" && len(s.orgs) > 0 {
		terms = append(terms, fmt.Sprintf("%s = ANY(%s::uuid[])", c.Org, arg(s.orgs)))
	}
	if c.Org != "" && len(s.subtrees) > 0 {
		terms = append(terms, fmt.Sprintf("%s IN (SELECT o.id FROM orgs o JOIN orgs r ON o.path <@ r.path WHERE r.id = ANY(%s::uuid[]))", c.Org, arg(s.subtrees)))
	}
	if c.Owner != "" && s.self != "" {
		terms = append(terms, fmt.Sprintf("%s = %s::uuid", c.Owner, arg(s.self)))
	}
	if len(terms) == 0 {
		return "false", nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", args
}
