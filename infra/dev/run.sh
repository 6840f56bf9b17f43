#!/usr/bin/env bash
# Entry points behind `make dev|test|bench|fuzz`.
#
#   dev    build, migrate, seed the demo data and run everything (yamen dev)
#   test   go vet, then go test -race on the yamen_test database and redis db 1
#   bench  benchmarks ($BENCH_PKGS, default ./...) in the test environment
#   fuzz   every Fuzz* target for $FUZZTIME (default 30s) in the test environment
#
# Extra go test flags: $GOTESTFLAGS or trailing arguments (bash infra/dev/run.sh test -run X).
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=${1:-}
shift || true

# Tests, benchmarks and fuzzing get their own database and redis db so they never touch
# the data `make dev` works with. Set before sourcing: env.sh reads them.
test_env() {
	export YAMEN_DEV_DB=yamen_test YAMEN_DEV_REDIS_DB=1
	bash infra/dev/env.sh cc # -race needs cgo, cgo needs a C compiler
	. infra/dev/env.sh
	export YAMEN_TEST=1
}

case $mode in
dev)
	. infra/dev/env.sh
	# seed prints new demo keys once and keeps them here; dev prints them every start.
	export YAMEN_DEMO_KEYS_FILE=${YAMEN_DEMO_KEYS_FILE:-$PWD/.dev/demo-keys.txt}
	mkdir -p .dev/bin
	go build -o .dev/bin/yamen .
	.dev/bin/yamen migrate
	.dev/bin/yamen seed demo
	exec .dev/bin/yamen dev
	;;
test)
	test_env
	bash infra/dev/env.sh chromium # the portal's browser tests
	go vet ./...
	# The tests migrate yamen_test themselves. GOTESTFLAGS is split into words on purpose.
	exec go test -race -count=1 ${GOTESTFLAGS:-} "$@" ${TEST_PKGS:-./...}
	;;
bench)
	test_env
	# Benchmarks measure the service as it runs: under its collector target
	# (gcPercent in config.go), unless GOGC is set.
	export GOGC=${GOGC:-400}
	exec go test -run '^$' -bench . -benchmem ${GOTESTFLAGS:-} "$@" ${BENCH_PKGS:-./...}
	;;
fuzz)
	test_env
	failed=()
	# Only packages whose tests declare a fuzz target: `go test -list` compiles the test
	# binary, which is too slow to do for every package.
	for dir in $(grep -rlE --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); do
		# go test -fuzz takes exactly one target per run, hence the inner loop.
		if ! targets=$(go test -list '^Fuzz' "$dir"); then
			failed+=("$dir (tests do not build)")
			continue
		fi
		for target in $(grep '^Fuzz' <<<"$targets" || true); do
			echo "== fuzz $dir $target (${FUZZTIME:-30s})" >&2
			go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-30s}" ${GOTESTFLAGS:-} "$@" "$dir" ||
				failed+=("$dir $target")
		done
	done
	if ((${#failed[@]})); then
		printf 'yamen fuzz: FAILED %s\n' "${failed[@]}" >&2
		exit 1
	fi
	;;
*)
	echo "usage: $0 dev|test|bench|fuzz [go test flags]" >&2
	exit 2
	;;
esac
