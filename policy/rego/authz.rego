# The base policy: who may do what, and which rows they see.
#
# input.subject  {kind, id, scopes (keys), member: {id, org: {id, kind, depth}, roles},
#                 roles: [{name, permissions, data_scope, scope_org_ids}] (the member's),
#                 permissions: {permission: [index in roles]} (a key's scopes: []),
#                 sponsor: {id, org: {...}, roles: [...], permissions: {...}}
#                 (an auxiliary's officer)}
# input.action   "<namespace>:<verb>", e.g. "clues:adopt"
# input.resource optional facts about the target: {module: {entitled}, grant: [...]}
# input.fields   optional fields the response carries that may be masked
#
# Every request that misses the decision cache evaluates this, so it is
# written for OPA's evaluator, where what costs is building values (a set or
# array literal, a comprehension) and walking collections, and what is cheap
# is looking a key up in the input and choosing among rules by the rule index:
# permissions are looked up in the subject's index, never walked; one rule
# per alternative rather than a set of alternatives; the data scope worked
# out inside the decision rather than in rules of its own; sets handed back
# unsorted (Go sorts them); and neither the scope and masks of a refused
# action (it sees nothing) nor the reasons of an allowed one (there are none)
# worked out. Measure with go test -run '^$' -bench Decide ./policy/.
package yamen.authz

# --- operation permissions -------------------------------------------------

# input.subject.permissions indexes what the subject holds: each permission
# of its roles, with the indices of the roles in input.subject.roles that
# hold it; each scope of a key, with none. A lookup there replaces a walk
# over every permission of every role.

action_namespace := split(input.action, ":")[0]

# The namespace's wildcard, "units:*" for "units:read".
action_wildcard := concat("", [action_namespace, ":*"])

# The subject holds what grants the action: itself, its namespace's
# wildcard, or "*".
holds_action if input.subject.permissions["*"]

holds_action if input.subject.permissions[input.action]

holds_action if input.subject.permissions[action_wildcard]

holds(p) if input.subject.permissions["*"]

holds(p) if input.subject.permissions[p]

holds(p) if input.subject.permissions[concat(":", [split(p, ":")[0], "*"])]

default allow := false

# A member may when one of its roles grants the action; a key when one of
# its scopes does.
allow if member_allowed

# The decision asks this of a member directly, without the other kinds'
# rules.
member_allowed if {
	input.subject.kind == "member"
	holds_action
	count(deny) == 0
}

allow if {
	input.subject.kind == "tenant_key"
	holds_action
	count(deny) == 0
}

# Citizens and intermediaries may what a module opens to them
# (public_actions in package yamen.modules.<id>).
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

public_action if data.yamen.modules[_].public_actions[input.subject.kind][input.action]

# --- refusals that override a grant ------------------------------------------

# Seed 000: an auxiliary never exports, whatever its roles say.
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

# --- field masks ---------------------------------------------------------------

# Personal data is masked unless the subject may read it restricted.
masks contains f if {
	some f in input.fields
	not reads_restricted
}

# A tenant's own rego may mask more.
masks contains f if some f in data.yamen.tenant[_].masks

reads_restricted if input.subject.permissions["*"]

reads_restricted if input.subject.permissions[action_wildcard]

reads_restricted if input.subject.permissions[concat("", [action_namespace, ":read_restricted"])]

# --- the decision and its data scope -------------------------------------------

# The one answer a request gets. An allowed action has no reasons against it
# (allow needs an empty deny and a grant); a refused one sees no rows. Sets
# come back unsorted: the caller sorts them.
#
# A member sees the union of what its acting roles see: the roles of the
# scope holder that grant the action, where the holder of an auxiliary
# (辅警) is the sponsoring officer (seed 000). The scope names the kinds of
# scope those roles carry (all, org_subtree, org, self, custom) with what
# they apply to: the holder's org, the holder, and the orgs the custom
# roles list. Keys act for the whole tenant, within their scopes; nobody
# else sees any row. It is worked out here rather than in rules of its own:
# every rule a decision reaches costs a rule-index lookup and a cache entry.
decision := {
	"allow": true,
	"scope": {"kinds": kinds, "org": h.org.id, "holder": h.id, "custom": custom},
	"masks": masks,
	"reasons": [],
} if {
	member_allowed
	h := object.get(input.subject, "sponsor", input.subject.member)
	grants := ["*", input.action, action_wildcard]
	kinds := {h.roles[i].data_scope | some g in grants; some i in h.permissions[g]}
	custom := {o |
		"custom" in kinds
		some g in grants
		some i in h.permissions[g]
		h.roles[i].data_scope == "custom"
		some o in h.roles[i].scope_org_ids
	}
} else := {
	"allow": true,
	"scope": {"kinds": {"all"}},
	"masks": masks,
	"reasons": [],
} if {
	allow
	input.subject.kind == "tenant_key"
} else := {
	"allow": true,
	"scope": {"kinds": set()},
	"masks": masks,
	"reasons": [],
} if {
	allow
} else := {
	"allow": false,
	"scope": {"kinds": set()},
	"masks": [],
	"reasons": reasons,
}
