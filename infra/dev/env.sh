#!/usr/bin/env bash
# Private PostgreSQL + Redis + S3 (versitygw) for development and tests.
#
#   . infra/dev/env.sh            ensure all run, export YAMEN_DATABASE_ADMIN_URL,
#                                 YAMEN_DATABASE_URL, YAMEN_REDIS_URL and YAMEN_S3_* (bash only)
#   bash infra/dev/env.sh stop    stop them          (make stop)
#   bash infra/dev/env.sh clean   stop them and delete their data (make clean)
#
# Knobs: YAMEN_DEV_PG_PORT (54329), YAMEN_DEV_REDIS_PORT (63799), YAMEN_DEV_S3_PORT (7070),
# YAMEN_DEV_DB (yamen), YAMEN_DEV_REDIS_DB (0), YAMEN_DEV_S3_BUCKET (YAMEN_DEV_DB with - for _),
# YAMEN_APP_DB_PASSWORD (yamen_app). A URL that is already set and does not point at our
# private port is taken as given and its service is left alone (for S3: YAMEN_S3_ENDPOINT,
# and then every YAMEN_S3_* is the user's).
#
# The work is done by running this same file as a separate bash process: the caller may be
# an interactive shell, a `set -e` script or sit in an `if`, and a child process gives us
# real `set -euo pipefail` in every case and leaks no variables or options into the caller.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	# ---------------------------------------------------------------- executed: the work
	set -euo pipefail

	REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	DEV=$REPO/.dev
	PG_PORT=${YAMEN_DEV_PG_PORT:-54329}
	REDIS_PORT=${YAMEN_DEV_REDIS_PORT:-63799}
	# /var/lib, not /var/tmp: systemd-tmpfiles ages out /var/tmp and would eat the data.
	FALLBACK_ROOT=/var/lib/yamen-dev

	die() { echo "yamen dev: $*" >&2; exit 1; }
	is_root() { [[ $(id -u) == 0 ]]; }

	# initdb and pg_ctl refuse to run as root, so as root the cluster belongs to `postgres`
	# (from / because postgres may not be allowed into the current directory).
	as_pg_owner() {
		if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
	}

	apt_install() {
		local sudo=
		if ! is_root; then
			command -v sudo >/dev/null || die "need root or sudo to install: $*"
			sudo=sudo
		fi
		mkdir -p "$DEV"
		echo "yamen dev: installing $* (one time) ..." >&2
		# apt is chatty; keep its output for when it fails.
		if ! { $sudo apt-get update -qq &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >"$DEV/apt.log" 2>&1; then
			tail -n 20 "$DEV/apt.log" >&2
			die "apt-get install $* failed (full log: $DEV/apt.log)"
		fi
	}

	# Debian keeps server binaries off PATH in /usr/lib/postgresql/<ver>/bin.
	pg_bindir() {
		local c
		if c=$(command -v initdb 2>/dev/null); then
			dirname "$(readlink -f "$c")"
			return
		fi
		if c=$(pg_config --bindir 2>/dev/null) && [[ -x $c/initdb ]]; then
			echo "$c"
			return
		fi
		for c in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
			if [[ -x $c/initdb ]]; then
				echo "$c"
				return
			fi
		done
		return 1
	}

	pg_complete() { # bindir
		[[ -x $1/initdb && -x $1/pg_ctl && -x $1/postgres && -x $1/pg_isready ]] || return 1
		local share
		share=$("$1/pg_config" --sharedir 2>/dev/null) ||
			share=/usr/share/postgresql/$(basename "$(dirname "$1")")
		[[ -f $share/extension/ltree.control ]] # the migrations need ltree (org trees)
	}

	ensure_packages() { # which...
		local want=() bin
		if [[ " $* " == *" pg "* ]]; then
			if ! bin=$(pg_bindir) || ! pg_complete "$bin"; then want+=(postgresql postgresql-contrib); fi
		fi
		if [[ " $* " == *" redis "* ]]; then
			command -v redis-server >/dev/null && command -v redis-cli >/dev/null || want+=(redis-server)
		fi
		if [[ " $* " == *" cc "* ]]; then
			# go test -race needs cgo, and cgo needs a C compiler.
			command -v "$(go env CC 2>/dev/null || echo gcc)" >/dev/null || want+=(gcc libc6-dev)
		fi
		if [[ " $* " == *" chromium "* ]]; then
			# The portal's browser tests (portal/browser_test.go) drive Debian's Chromium.
			command -v chromium >/dev/null || want+=(chromium)
			# Chinese-first pages need CJK glyphs: without them the screenshots
			# in .dev/screenshots show boxes where the text should be.
			dpkg -s fonts-noto-cjk >/dev/null 2>&1 || want+=(fonts-noto-cjk)
		fi
		if ((${#want[@]})); then apt_install "${want[@]}"; fi
	}

	# Where the cluster really lives. Normally .dev itself; but as root with the repo under a
	# private directory (e.g. /root, mode 700) the postgres user cannot reach .dev, so the data
	# goes to /var/lib and .dev/pg and .dev/pg.log become symlinks to it.
	pg_base() {
		if ! is_root || runuser -u postgres -- test -x "$DEV"; then
			echo "$DEV"
			return
		fi
		local base
		base=$FALLBACK_ROOT/$(printf %s "$REPO" | cksum | cut -d' ' -f1)
		mkdir -p "$base"
		ln -sfn "$base/pg" "$DEV/pg"
		ln -sfn "$base/pg.log" "$DEV/pg.log"
		echo "$base"
	}

	start_pg() {
		local bin base data log locale i port seen
		bin=$(pg_bindir) || die "PostgreSQL server binaries not found"
		mkdir -p "$DEV"
		if is_root && ! id -u postgres >/dev/null 2>&1; then
			useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
		fi
		base=$(pg_base)
		data=$base/pg
		log=$base/pg.log

		if [[ ! -f $data/PG_VERSION ]]; then
			mkdir -p "$data"
			touch "$log"
			chmod 700 "$data"
			if is_root; then chown postgres: "$data" "$log"; fi
			locale=C
			if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then locale=C.UTF-8; fi
			if ! as_pg_owner "$bin/initdb" -D "$data" -U postgres --auth=trust \
				--encoding=UTF8 --locale="$locale" >"$base/initdb.log" 2>&1; then
				cat "$base/initdb.log" >&2
				die "initdb failed"
			fi
			# A throwaway cluster: durability buys nothing here, speed does. The socket goes
			# into the data directory ('.' is relative to it) so it never clashes with the
			# system cluster's /var/run/postgresql and survives moving the repo.
			cat >>"$data/postgresql.conf" <<-'EOF'

				# --- yamen dev/test cluster (infra/dev/env.sh) ---
				listen_addresses = '127.0.0.1'
				unix_socket_directories = '.'
				fsync = off
				synchronous_commit = off
				full_page_writes = off
				max_connections = 300
				shared_buffers = 256MB
			EOF
		fi

		if ! as_pg_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
			# The port is given at start, not written into the config, so YAMEN_DEV_PG_PORT
			# keeps working after initdb.
			# Another checkout's cluster (CI clones next to a developer's) may hold the port:
			# take the next free one rather than fail; the exported URLs carry it.
			port=$PG_PORT
			while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
				port=$((port + 1))
				((port < PG_PORT + 50)) || die "no free port for PostgreSQL near $PG_PORT"
			done
			[[ $port == "$PG_PORT" ]] ||
				echo "yamen dev: note: port $PG_PORT is taken; private PostgreSQL starts on $port" >&2
			seen=$(wc -l <"$log")
			if ! as_pg_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port" start >/dev/null 2>&1; then
				tail -n "+$((seen + 1))" "$log" >&2 # just this attempt
				die "PostgreSQL did not start (log: $log)"
			fi
		fi

		# A cluster we reuse may have been started with another port: trust its lock file.
		port=$(sed -n 4p "$data/postmaster.pid")
		for ((i = 0; i < 100; i++)); do
			if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
				echo "$port"
				return
			fi
			sleep 0.2
		done
		die "PostgreSQL on port $port is not accepting connections (log: $log)"
	}

	redis_up() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

	start_redis() {
		local dir=$DEV/redis i
		if ! redis_up; then
			mkdir -p "$dir"
			# Queues in dev and tests are disposable: no snapshots, no AOF.
			redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
				--daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null ||
				die "redis-server did not start (log: $dir/redis.log)"
			for ((i = 0; i < 100; i++)); do
				redis_up && break
				sleep 0.1
			done
			redis_up || die "redis on port $REDIS_PORT does not answer (log: $dir/redis.log)"
		fi
		echo "$REDIS_PORT"
	}

	stop_pg() {
		local data bin
		data=$(readlink -f "$DEV/pg" 2>/dev/null) || return 0
		[[ -f $data/postmaster.pid ]] || return 0
		bin=$(pg_bindir) || die "PostgreSQL binaries not found, cannot stop $data"
		as_pg_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
		echo "yamen dev: stopped PostgreSQL ($data)" >&2
	}

	stop_redis() {
		local pidfile=$DEV/redis/redis.pid pid i
		[[ -f $pidfile ]] || return 0
		pid=$(<"$pidfile")
		# The pid may be stale and reused; only signal it if it is still a redis-server.
		if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]]; then
			kill "$pid"
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			echo "yamen dev: stopped redis (pid $pid)" >&2
		fi
		rm -f "$pidfile"
	}

	# ------------------------------------------------------------- S3: versitygw (files)
	# The files module keeps attachments in S3. Here that is versitygw with its POSIX backend:
	# built once from the Go module proxy into .dev/bin (a few minutes; a binary of another
	# version is rebuilt), listening on loopback only, with fixed dev root keys (the defaults
	# in config.go), keeping each bucket as a directory under .dev/s3.
	VGW_VERSION=v1.8.0
	VGW=$DEV/bin/versitygw
	S3_PORT=${YAMEN_DEV_S3_PORT:-7070}
	S3_BUCKET=${YAMEN_DEV_S3_BUCKET:-$(tr _ - <<<"${YAMEN_DEV_DB:-yamen}")}
	S3_ACCESS_KEY=yamen-dev
	S3_SECRET_KEY=yamen-dev-secret

	vgw_installed() {
		[[ -x $VGW ]] && go version -m "$VGW" 2>/dev/null |
			grep -qE "^[[:space:]]+mod[[:space:]]+github.com/versity/versitygw[[:space:]]+$VGW_VERSION([[:space:]]|$)"
	}

	install_vgw() {
		vgw_installed && return 0
		command -v go >/dev/null || die "need Go on PATH to build versitygw"
		mkdir -p "$DEV/bin"
		echo "yamen dev: building versitygw $VGW_VERSION from the Go module proxy (one time, a few minutes) ..." >&2
		if ! (cd / && GOBIN=$DEV/bin go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION") \
			>"$DEV/versitygw-build.log" 2>&1; then
			tail -n 20 "$DEV/versitygw-build.log" >&2
			die "go install versitygw failed (full log: $DEV/versitygw-build.log)"
		fi
	}

	s3_up() { # port: does versitygw answer its health check there?
		(
			exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
			printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
			IFS= read -r -t 2 line <&3 && [[ $line == "HTTP/1."?" 200"* ]]
		) 2>/dev/null
	}

	s3_pid() { # prints the pid of our versitygw, if it runs
		local pid
		[[ -f $DEV/s3.pid ]] || return 1
		pid=$(<"$DEV/s3.pid")
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == versitygw* ]] || return 1
		echo "$pid"
	}

	start_s3() { # -> prints the port
		local pid port i
		install_vgw
		mkdir -p "$DEV/s3"
		if pid=$(s3_pid) && port=$(cat "$DEV/s3.port" 2>/dev/null) && s3_up "$port"; then
			: # ours, running: reuse it
		else
			if pid=$(s3_pid); then kill "$pid"; fi # ours but not answering
			# Another checkout's gateway may hold the port: take the next free one.
			port=$S3_PORT
			while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
				port=$((port + 1))
				((port < S3_PORT + 50)) || die "no free port for versitygw near $S3_PORT"
			done
			[[ $port == "$S3_PORT" ]] || echo "yamen dev: note: port $S3_PORT is taken; versitygw starts on $port" >&2
			# setsid: it outlives this script; no descriptor of ours stays open in it.
			setsid "$VGW" --port "127.0.0.1:$port" --access "$S3_ACCESS_KEY" --secret "$S3_SECRET_KEY" \
				--region us-east-1 --health /health --quiet posix "$DEV/s3" \
				</dev/null >>"$DEV/s3.log" 2>&1 &
			echo $! >"$DEV/s3.pid"
			echo "$port" >"$DEV/s3.port"
			for ((i = 0; i < 100; i++)); do
				s3_up "$port" && break
				sleep 0.1
			done
			s3_up "$port" || {
				tail -n 20 "$DEV/s3.log" >&2
				die "versitygw did not start on port $port (log: $DEV/s3.log)"
			}
		fi
		# The POSIX backend's buckets are the top directories of its root.
		mkdir -p "$DEV/s3/$S3_BUCKET"
		echo "$port"
	}

	stop_s3() {
		local pid i
		if pid=$(s3_pid); then
			kill "$pid"
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			echo "yamen dev: stopped versitygw (pid $pid)" >&2
		fi
		rm -f "$DEV/s3.pid" "$DEV/s3.port"
	}

	case ${1:-} in
	up) # up [pg] [redis] [s3] -> prints "<pg port or -> <redis port or -> <s3 port or ->"
		shift
		ensure_packages "$@"
		pg=- redis=- s3=-
		if [[ " $* " == *" pg "* ]]; then pg=$(start_pg); fi
		if [[ " $* " == *" redis "* ]]; then redis=$(start_redis); fi
		if [[ " $* " == *" s3 "* ]]; then s3=$(start_s3); fi
		echo "$pg $redis $s3"
		;;
	cc) ensure_packages cc ;;
	chromium) ensure_packages chromium ;;
	stop)
		# Kratos first: it holds connections to PostgreSQL and fixed ports.
		bash "$REPO/infra/kratos/kratos.sh" stop || true
		stop_pg
		stop_redis
		stop_s3
		;;
	clean)
		bash "$REPO/infra/kratos/kratos.sh" stop || true
		stop_pg
		stop_redis
		stop_s3
		if [[ -L $DEV/pg ]]; then
			base=$(dirname "$(readlink "$DEV/pg")")
			# Only ever delete what pg_base created.
			[[ $base == "$FALLBACK_ROOT"/* ]] && rm -rf "$base"
		fi
		rm -rf "$DEV"
		;;
	*) die "usage: . ${BASH_SOURCE[0]}   or   bash ${BASH_SOURCE[0]} stop|clean" ;;
	esac
	exit 0
fi

# -------------------------------------------------------------------- sourced: the exports
if [ -z "${BASH_VERSION:-}" ]; then
	echo "yamen dev: source infra/dev/env.sh from bash" >&2
	return 1
fi

# A URL pointing at our private port is ours (e.g. inherited from a shell that sourced this
# for `dev`): recompute it, so `make test` still gets yamen_test and a stopped service is
# restarted. Anything else was given by the user and is left alone.
_yamen_want=
case ${YAMEN_DATABASE_ADMIN_URL:-} in
"" | *@127.0.0.1:"${YAMEN_DEV_PG_PORT:-54329}"/*) _yamen_want+=" pg" ;;
esac
case ${YAMEN_REDIS_URL:-} in
"" | redis://127.0.0.1:"${YAMEN_DEV_REDIS_PORT:-63799}"/*) _yamen_want+=" redis" ;;
esac
case ${YAMEN_S3_ENDPOINT:-} in
"" | http://127.0.0.1:"${YAMEN_DEV_S3_PORT:-7070}") _yamen_want+=" s3" ;;
esac

if _yamen_ports=$(bash "${BASH_SOURCE[0]}" up $_yamen_want); then
	read -r _yamen_pg _yamen_redis _yamen_s3 <<<"$_yamen_ports"
	_yamen_summary="yamen dev env:"

	if [[ $_yamen_pg != - ]]; then
		export YAMEN_DATABASE_ADMIN_URL="postgres://postgres@127.0.0.1:$_yamen_pg/${YAMEN_DEV_DB:-yamen}?sslmode=disable"
		_yamen_summary+=" postgres 127.0.0.1:$_yamen_pg (private)"
	else
		_yamen_summary+=" postgres from YAMEN_DATABASE_ADMIN_URL"
	fi

	# The app role (created by `yamen migrate`) uses the admin URL's host, port, database
	# and parameters: scheme://[user[:pass]@]host[:port][/db][?params].
	case ${YAMEN_DATABASE_URL:-} in
	"" | *@127.0.0.1:"${YAMEN_DEV_PG_PORT:-54329}"/*)
		_yamen_rest=${YAMEN_DATABASE_ADMIN_URL#*://}
		_yamen_host=${_yamen_rest%%[/?]*}
		_yamen_host=${_yamen_host##*@}
		_yamen_rest=${_yamen_rest#"${_yamen_rest%%[/?]*}"}
		_yamen_db=${_yamen_rest#/}
		_yamen_db=${_yamen_db%%\?*}
		_yamen_query=sslmode=disable
		[[ $_yamen_rest != *\?* ]] || _yamen_query=${_yamen_rest#*\?}
		export YAMEN_DATABASE_URL="postgres://yamen_app:${YAMEN_APP_DB_PASSWORD:-yamen_app}@$_yamen_host/$_yamen_db?$_yamen_query"
		;;
	esac
	_yamen_db=${YAMEN_DATABASE_URL##*/}
	_yamen_summary+=" db ${_yamen_db%%\?*}"

	if [[ $_yamen_redis != - ]]; then
		export YAMEN_REDIS_URL="redis://127.0.0.1:$_yamen_redis/${YAMEN_DEV_REDIS_DB:-0}"
		_yamen_summary+=", redis 127.0.0.1:$_yamen_redis/${YAMEN_DEV_REDIS_DB:-0} (private)"
	else
		_yamen_summary+=", redis from YAMEN_REDIS_URL"
	fi

	# Our versitygw takes only its dev keys, so with it every YAMEN_S3_* is ours; the bucket
	# follows the database (yamen for dev, yamen-test for tests). Set YAMEN_S3_ENDPOINT to use
	# another S3, and the other YAMEN_S3_* are then yours to set too.
	if [[ $_yamen_s3 != - ]]; then
		export YAMEN_S3_ENDPOINT="http://127.0.0.1:$_yamen_s3"
		export YAMEN_S3_BUCKET=${YAMEN_DEV_S3_BUCKET:-$(tr _ - <<<"${YAMEN_DEV_DB:-yamen}")}
		export YAMEN_S3_REGION=us-east-1 YAMEN_S3_ACCESS_KEY=yamen-dev YAMEN_S3_SECRET_KEY=yamen-dev-secret
		export YAMEN_S3_PATH_STYLE=true
		_yamen_summary+=", s3 127.0.0.1:$_yamen_s3/$YAMEN_S3_BUCKET (private versitygw)"
	else
		_yamen_summary+=", s3 from YAMEN_S3_ENDPOINT"
	fi
	# Ory Kratos (people sign in through it) and its mail and SMS sink, next to our
	# PostgreSQL; built once from the Go module proxy (infra/kratos). YAMEN_KRATOS_PUBLIC_URL
	# set to another Kratos leaves ours off.
	if [[ -z ${YAMEN_KRATOS_PUBLIC_URL:-} || ${YAMEN_KRATOS_PUBLIC_URL:-} == "${KRATOS_PUBLIC_URL:-none}" ]]; then
		if _yamen_kratos=$(bash "$(dirname "${BASH_SOURCE[0]}")/../kratos/kratos.sh" up); then
			eval "$_yamen_kratos"
			export KRATOS_PUBLIC_URL KRATOS_ADMIN_URL YAMEN_DEV_MAIL_DIR
			export YAMEN_KRATOS_PUBLIC_URL=$KRATOS_PUBLIC_URL YAMEN_KRATOS_ADMIN_URL=$KRATOS_ADMIN_URL
			_yamen_summary+=", kratos $KRATOS_PUBLIC_URL"
		else
			unset _yamen_want _yamen_ports _yamen_kratos
			return 1
		fi
	fi
	echo "$_yamen_summary" >&2
	unset _yamen_want _yamen_ports _yamen_kratos _yamen_pg _yamen_redis _yamen_s3 _yamen_summary _yamen_rest _yamen_host _yamen_db _yamen_query
else
	unset _yamen_want _yamen_ports
	return 1
fi
