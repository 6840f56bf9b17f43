#!/usr/bin/env bash
# `make load-session`: the identity issue's load test. A staff member of
# demo-hall, signed in through Kratos, lists the tenant's modules at 64
# connections with a cached session: every request resolves the session,
# finds the member, asks the policy (cached) and reads. The target:
# >= 3,000 requests/s, p99 < 30 ms, zero errors.
set -euo pipefail
cd "$(dirname "$0")/../.."

. infra/load/server.sh
go build -o .dev/bin/staffsession ./infra/load/staffsession

key=$(.dev/bin/yamen keys create --tenant demo-hall --scopes '*' --name "make load-session" --expires 1h)
token=$(.dev/bin/staffsession -api "http://$addr" -tenant demo-hall -key "$key")
.dev/bin/load -url "http://$addr/v1/t/demo-hall/modules" -c "${LOAD_C:-64}" -d "${LOAD_D:-20s}" \
	-H "X-Session-Token: $token" "$@"
