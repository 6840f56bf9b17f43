#!/usr/bin/env bash
# `make load`: the load test of issue 2, reproducible from a clean checkout.
# It sets up the dev environment (private PostgreSQL and Redis), migrates, seeds
# the demo, starts `yamen serve` on a spare loopback port, makes a demo-hall key
# that may only read modules, and runs GET /v1/t/demo-hall/modules at 64
# connections. The target: >= 3,000 requests/s, p99 < 25 ms, zero errors.
set -euo pipefail
cd "$(dirname "$0")/../.."

. infra/load/server.sh

key=$(.dev/bin/yamen keys create --tenant demo-hall --scopes modules:read --name "make load" --expires 1h)
.dev/bin/load -url "http://$addr/v1/t/demo-hall/modules" -c "${LOAD_C:-64}" -d "${LOAD_D:-20s}" \
	-H "Authorization: Bearer $key" "$@"
