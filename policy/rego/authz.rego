# The base policy: who may do what, and which rows they see.
#
# input.subject  {kind, id, scopes (keys), member: {id, org: {id, kind, depth}, roles},
#                 roles: [{name, permissions, data_scope, scope_org_ids}] (the member's),
#                 sponsor: {id, org: {...}, roles: [...]} (an auxiliary's officer)}
# input.action   "<namespace>:<verb>", e.g. "clues:adopt"
# input.resource optional facts about the target: {module: {entitled}, grant: [...]}
# input.fields   optional fields the response carries that may be masked
#
# Every request that misses the decision cache evaluates this, so it is
# written for OPA's evaluator, where each rule a decision reaches costs about
# as much as the builtins in it: few rules on the way to an answer (helpers
# inlined where only one rule uses them), what several rules look up built
# once as a complete rule (a partial set looked up by key runs its bodies
# again for every key), and neither the scope and masks of a refused action
# (it sees nothing) nor the reasons of an allowed one (there are none) worked
# out. Measure with go test -run '^$' -bench Decide ./policy/.
package yamen.authz

# --- operation permissions -------------------------------------------------

# What grants the action: itself, its namespace's wildcard ("units:*"), or "*".
action_grants := {"*", input.action, concat("", [split(input.action, ":")[0], ":*"])}

# Every permission the subject holds: a key's scopes, the union of its
# roles' permissions.
held := {p | some p in input.subject.scopes} | {p |
	some role in input.subject.roles
	some p in role.permissions
}

holds(p) if held["*"]

holds(p) if held[p]

holds(p) if held[concat(":", [split(p, ":")[0], "*"])]

holds_action if {
	some g in action_grants
	held[g]
}

# An auxiliary police officer (辅警) acts under a sponsoring officer.
auxiliary if input.subject.sponsor

default allow := false

# A member may when one of its roles grants the action; a key when one of
# its scopes does.
allow if {
	input.subject.kind == "member"
	count(granting_roles) > 0
	count(deny) == 0
}

allow if {
	input.subject.kind == "tenant_key"
	some p in input.subject.scopes
	action_grants[p]
	count(deny) == 0
}

# The subject's roles that grant the action (a role is listed once per
# permission of it that grants the action).
granting_roles := [role |
	some role in input.subject.roles
	some p in role.permissions
	action_grants[p]
]

allow if {
	input.subject.kind == "citizen"
	public_action
	count(deny) == 0
}

allow if {
	input.subject.kind == "intermediary"
	public_action
	count(deny) == 0
}

# Modules add what citizens and intermediaries may do through their own rego
# (data.yamen.modules.<id>.public_actions); none by default.
public_actions[kind] := {a | some a in data.yamen.modules[_].public_actions[kind]} if {
	some kind in {"citizen", "intermediary"}
}

public_action if input.action in public_actions[input.subject.kind]

# Seed 000: 辅警 permissions follow their officer's but never include export.
deny contains "辅警不得导出数据 (auxiliary police never export)" if {
	input.subject.sponsor
	endswith(input.action, ":export")
}

# Seed 000: 是否采用 on intelligence clues is set only by city-level orgs.
deny contains "仅市级单位可设置是否采用 (only city-level orgs may set adoption)" if {
	input.action == "clues:adopt"
	not city_level(input.subject.member.org)
}

# 市局 and its 支队: the root and teams directly under it.
city_level(org) if org.depth == 1

city_level(org) if {
	org.depth == 2
	org.kind == "team"
}

# Nobody grants a permission they do not hold.
deny contains sprintf("不能授予自己没有的权限 %s (cannot grant a permission you do not hold)", [p]) if {
	some p in input.resource.grant
	not holds(p)
}

# A tenant admin cannot enable a module the platform did not entitle.
deny contains "平台未授权该模块 (module not entitled by the platform)" if {
	input.action == "modules:manage"
	input.resource.module.entitled == false
}

# A tenant's own rego (package yamen.tenant.<slug>) may refuse more.
deny contains r if some r in data.yamen.tenant[_].deny

reasons contains r if some r in deny

reasons contains sprintf("缺少权限 %s (missing permission)", [input.action]) if {
	input.subject.kind in {"member", "tenant_key"}
	not holds_action
}

reasons contains "该操作不对公众开放 (not open to citizens or intermediaries)" if {
	input.subject.kind in {"citizen", "intermediary"}
	not public_action
}

# --- data scope ---------------------------------------------------------------

# Whose scope applies: an auxiliary sees exactly the sponsor's (seed 000).
scope_holder := input.subject.sponsor if input.subject.sponsor else := input.subject.member

# Only the roles that grant this action widen what it sees: the sponsor's
# for an auxiliary, else the member's own.
acting_roles := [role |
	some role in input.subject.sponsor.roles
	some p in role.permissions
	action_grants[p]
] if input.subject.sponsor else := granting_roles

# The kinds of scope the acting roles carry: all, org_subtree, org, self, custom.
acting_scopes := {role.data_scope | some role in acting_roles}

# Nobody else sees any row. Keys act for the whole tenant, within their
# scopes; a member sees the union of the acting roles' scopes.
default scope := {"all": false, "orgs": [], "subtrees": [], "self": ""}

scope := {"all": true, "orgs": [], "subtrees": [], "self": ""} if {
	input.subject.kind == "tenant_key"
} else := {"all": true, "orgs": [], "subtrees": [], "self": ""} if {
	input.subject.kind == "member"
	acting_scopes.all
} else := {
	"all": false,
	"orgs": sort({scope_holder.org.id | acting_scopes.org} | {o |
		some role in acting_roles
		role.data_scope == "custom"
		some o in role.scope_org_ids
	}),
	"subtrees": [scope_holder.org.id | acting_scopes.org_subtree],
	# The holder's id, or "" when no acting role is scoped to self.
	"self": concat("", [scope_holder.id | acting_scopes.self]),
} if {
	input.subject.kind == "member"
}

# --- field masks ---------------------------------------------------------------

# Personal data is masked unless the subject may read it restricted.
masks contains f if {
	some f in input.fields
	not reads_restricted
}

# ... and mask more.
masks contains f if some f in data.yamen.tenant[_].masks

reads_restricted if {
	ns := split(input.action, ":")[0]
	some g in {"*", concat("", [ns, ":*"]), concat("", [ns, ":read_restricted"])}
	held[g]
}

# The one answer a request gets. An allowed action has no reasons against it
# (allow needs an empty deny and a grant); a refused one sees no rows.
decision := {
	"allow": true,
	"scope": scope,
	"masks": sort(masks),
	"reasons": [],
} if {
	allow
} else := {
	"allow": false,
	"scope": {"all": false, "orgs": [], "subtrees": [], "self": ""},
	"masks": [],
	"reasons": sort(reasons),
}
