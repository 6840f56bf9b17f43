#!/usr/bin/env bash
# `make load`: the load test of issue 2, reproducible from a clean checkout.
# It sets up the dev environment (private PostgreSQL and Redis), migrates, seeds
# the demo, starts `yamen serve` on a spare loopback port, makes a demo-hall key
# that may only read modules, and runs GET /v1/t/demo-hall/modules at 64
# connections. The target: >= 3,000 requests/s, p99 < 25 ms, zero errors.
set -euo pipefail
cd "$(dirname "$0")/../.."

. infra/dev/env.sh
mkdir -p .dev/bin
go build -o .dev/bin/yamen .
go build -o .dev/bin/load ./infra/load
.dev/bin/yamen migrate
.dev/bin/yamen seed demo >/dev/null

addr=127.0.0.1:${YAMEN_LOAD_PORT:-18080}
YAMEN_HTTP_ADDR=$addr YAMEN_LOG_LEVEL=warn .dev/bin/yamen serve 2>.dev/load-serve.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break
	sleep 0.1
done

key=$(.dev/bin/yamen keys create --tenant demo-hall --scopes modules:read --name "make load" --expires 1h)
.dev/bin/load -url "http://$addr/v1/t/demo-hall/modules" -c "${LOAD_C:-64}" -d "${LOAD_D:-20s}" \
	-H "Authorization: Bearer $key" "$@"
