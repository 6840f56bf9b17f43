# Sourced by the load scripts: the dev environment, fresh binaries, the demo
# data, and `yamen serve` on a spare loopback port ($addr), stopped on exit.
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
