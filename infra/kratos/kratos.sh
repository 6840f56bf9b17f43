#!/usr/bin/env bash
# Ory Kratos and a message sink for development and tests.
#
#   bash infra/kratos/kratos.sh build   build .dev/bin/kratos (Kratos from the Go module proxy,
#                                       through the tools module in tools/) and .dev/bin/smtpsink;
#                                       does nothing when both are current
#   bash infra/kratos/kratos.sh up      build if needed, then ensure the sink and Kratos run:
#                                       database `kratos` next to $YAMEN_DATABASE_ADMIN_URL's,
#                                       migrated; prints KRATOS_PUBLIC_URL=, KRATOS_ADMIN_URL= and
#                                       YAMEN_DEV_MAIL_DIR= lines for the caller to eval
#   bash infra/kratos/kratos.sh stop    stop Kratos and the sink started here
#
# State under .dev/ (git-ignored): bin/kratos (+ kratos.version), bin/smtpsink, kratos/ (the
# rendered config, logs, pid files), mail/ (one file per e-mail or SMS, see smtpsink/).
#
# Knobs: YAMEN_DEV_KRATOS_PUBLIC_PORT (4433), YAMEN_DEV_KRATOS_ADMIN_PORT (4434),
# YAMEN_DEV_SMTP_PORT (1025), YAMEN_DEV_SMS_PORT (1026), COURIER_SMTP_CONNECTION_URI (the sink).
# Kratos reads any of its own keys from the environment (SECRETS_COOKIE, HASHERS_BCRYPT_COST,
# LOG_LEVEL, …: see kratos.yml); `up` restarts Kratos when those, the configuration, the
# identity schemas or the binary changed since it started it.
#
# Kratos runs with --dev: cookies without the Secure flag, so the portal works over plain
# http://127.0.0.1, and bcrypt below cost 12 (Kratos raises it to 12 otherwise), which keeps
# password tests fast. Also --watch-courier (send mail and SMS from the same process) and
# --sqa-opt-out (no telemetry).
set -euo pipefail

KDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$KDIR/../.." && pwd)
DEV=$REPO/.dev
BIN=$DEV/bin
RUN=$DEV/kratos
MAIL=$DEV/mail
PUBLIC_PORT=${YAMEN_DEV_KRATOS_PUBLIC_PORT:-4433}
ADMIN_PORT=${YAMEN_DEV_KRATOS_ADMIN_PORT:-4434}
SMTP_PORT=${YAMEN_DEV_SMTP_PORT:-1025}
SMS_PORT=${YAMEN_DEV_SMS_PORT:-1026}
PUBLIC_URL=http://127.0.0.1:$PUBLIC_PORT
ADMIN_URL=http://127.0.0.1:$ADMIN_PORT
DB=kratos

die() { echo "yamen kratos: $*" >&2; exit 1; }

# ------------------------------------------------------------------------------------ build

kratos_version() { awk '$1 == "require" && $2 == "github.com/ory/kratos" { print $3 }' "$KDIR/tools/go.mod"; }

# What the binary is built from (comments aside); a different stamp means a rebuild.
build_stamp() {
	local v
	v=$(kratos_version)
	[[ -n $v ]] || die "no github.com/ory/kratos requirement in $KDIR/tools/go.mod"
	echo "github.com/ory/kratos $v tools=$(grep -hv '^[[:space:]]*//' "$KDIR/tools/go.mod" "$KDIR/tools/go.sum" | sha256sum | cut -c1-16) CGO_ENABLED=0 -trimpath -s -w"
}

build_kratos() {
	local stamp version tmp start
	stamp=$(build_stamp)
	[[ -x $BIN/kratos && $(cat "$BIN/kratos.version" 2>/dev/null) == "$stamp" ]] && return 0
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "$BIN" "$RUN"
	exec 8>"$RUN/build.lock"
	flock 8
	# Another build may have finished while we waited for the lock.
	[[ -x $BIN/kratos && $(cat "$BIN/kratos.version" 2>/dev/null) == "$stamp" ]] && return 0
	version=$(kratos_version)
	echo "yamen kratos: building Ory Kratos $version from the Go module proxy (one time; a few minutes) ..." >&2
	tmp=$BIN/kratos.tmp.$$
	start=$SECONDS
	# No cgo and no build tags: PostgreSQL support is always compiled in; only SQLite needs
	# cgo and the `sqlite` tag. The version goes where Kratos's release build puts it; it
	# must match kratos.yml's `version` or Kratos warns at every start.
	if ! (cd "$KDIR/tools" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 \
		go build -trimpath -ldflags "-s -w -X github.com/ory/kratos/driver/config.Version=$version" \
		-o "$tmp" github.com/ory/kratos) >"$RUN/build.log" 2>&1; then
		rm -f "$tmp"
		tail -n 30 "$RUN/build.log" >&2
		die "building Kratos failed (full log: $RUN/build.log)"
	fi
	mv -f "$tmp" "$BIN/kratos"
	echo "$stamp" >"$BIN/kratos.version"
	echo "yamen kratos: built $BIN/kratos in $((SECONDS - start))s" >&2
}

build_sink() {
	local f
	if [[ -x $BIN/smtpsink ]]; then
		for f in "$KDIR"/smtpsink/*.go; do
			[[ $f -nt $BIN/smtpsink ]] && break
			f=
		done
		[[ -z $f ]] && return 0
	fi
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "$BIN" "$RUN"
	(cd "$REPO" && GOWORK=off go build -o "$BIN/smtpsink.tmp.$$" ./infra/kratos/smtpsink) >"$RUN/sink-build.log" 2>&1 || {
		rm -f "$BIN/smtpsink.tmp.$$"
		cat "$RUN/sink-build.log" >&2
		die "building smtpsink failed"
	}
	mv -f "$BIN/smtpsink.tmp.$$" "$BIN/smtpsink"
}

# ------------------------------------------------------------------------------- processes

# pid_of NAME COMM: the pid in $RUN/NAME.pid if that process still runs COMM (pids get reused).
pid_of() {
	local pid
	pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] || return 1
	local stat
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ ${stat#*) } != Z* ]] || return 1 # a zombie waiting to be reaped is gone too
	echo "$pid"
}

stop_pid() { # name comm
	local pid i
	if pid=$(pid_of "$1" "$2"); then
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			pid_of "$1" "$2" >/dev/null || break
			sleep 0.1
		done
		! pid_of "$1" "$2" >/dev/null || kill -9 "$pid" 2>/dev/null || true
		echo "yamen kratos: stopped $2 (pid $pid)" >&2
	fi
	rm -f "$RUN/$1.pid" "$RUN/$1.stamp"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# http_ok URL: a 200 answer; curl when there is one, else bash's /dev/tcp.
http_ok() {
	if command -v curl >/dev/null; then
		curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null
		return
	fi
	local rest=${1#http://} hostport path status
	hostport=${rest%%/*}
	path=/${rest#*/}
	(
		exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" >&3
		IFS= read -r -t 2 status <&3 || exit 1
		[[ $status == HTTP/1.?" 200 "* ]]
	) 2>/dev/null
}

kratos_ready() { http_ok "$ADMIN_URL/admin/health/ready"; }

start_sink() {
	local i log=$RUN/smtpsink.log
	if pid_of smtpsink smtpsink >/dev/null && port_open "$SMTP_PORT" && http_ok "http://127.0.0.1:$SMS_PORT/healthz"; then
		return 0
	fi
	stop_pid smtpsink smtpsink 2>/dev/null
	mkdir -p "$MAIL"
	setsid "$BIN/smtpsink" -dir "$MAIL" -smtp "127.0.0.1:$SMTP_PORT" -http "127.0.0.1:$SMS_PORT" \
		>"$log" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$RUN/smtpsink.pid"
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$!" 2>/dev/null; then
			cat "$log" >&2
			die "smtpsink did not start (ports $SMTP_PORT and $SMS_PORT: YAMEN_DEV_SMTP_PORT, YAMEN_DEV_SMS_PORT)"
		fi
		port_open "$SMTP_PORT" && port_open "$SMS_PORT" && return 0
		sleep 0.1
	done
	die "smtpsink does not answer on ports $SMTP_PORT and $SMS_PORT (log: $log)"
}

# ---------------------------------------------------------------------------------- kratos

# The admin URL with its database name replaced: scheme://[user[:pass]@]host[:port][/db][?params].
db_url() { # url db
	local scheme=${1%%://*} rest=${1#*://} hostpart query=
	hostpart=${rest%%[/?]*}
	rest=${rest#"$hostpart"}
	[[ $rest != *\?* ]] || query=?${rest#*\?}
	echo "$scheme://$hostpart/$2$query"
}

# ensure_db ADMIN_URL: create the database if missing; prints its oid, which changes when
# the database is dropped and created again.
ensure_db() {
	local maint sql oid
	command -v psql >/dev/null || die "psql not found (PostgreSQL's client; infra/dev/env.sh installs it)"
	maint=$(db_url "$1" postgres)
	sql="SELECT oid FROM pg_database WHERE datname = '$DB'"
	oid=$(PGCONNECT_TIMEOUT=10 psql -X -q -tA -d "$maint" -c "$sql") || die "cannot reach PostgreSQL at $maint"
	if [[ -z $oid ]]; then
		# Two checkouts' `up`s may race (each holds only its own lock): losing is fine.
		PGCONNECT_TIMEOUT=10 psql -X -q -d "$maint" -c "CREATE DATABASE $DB" >/dev/null 2>"$RUN/createdb.err" || true
		oid=$(PGCONNECT_TIMEOUT=10 psql -X -q -tA -d "$maint" -c "$sql")
		[[ -n $oid ]] || die "cannot create database $DB: $(cat "$RUN/createdb.err")"
	fi
	echo "$oid"
}

# migrate DSN OID: `kratos migrate sql`, skipped (it takes seconds even with nothing to do)
# when this binary already migrated this very database.
migrate() {
	local want
	want="$1 oid=$2 $(cat "$BIN/kratos.version")"
	[[ $(cat "$RUN/migrated" 2>/dev/null) == "$want" ]] && return 0
	if ! DSN=$1 "$BIN/kratos" migrate sql -e --yes >"$RUN/migrate.log" 2>&1; then
		tail -n 30 "$RUN/migrate.log" >&2
		die "kratos migrate sql failed (log: $RUN/migrate.log)"
	fi
	echo "$want" >"$RUN/migrated"
}

# Resolve file://./ against this folder, and apply the port knobs.
render_config() {
	local c
	c=$(<"$KDIR/kratos.yml")
	c=${c//"file://./"/"file://$KDIR/"}
	c=${c//"127.0.0.1:4433"/"127.0.0.1:$PUBLIC_PORT"}
	c=${c//"port: 4433"/"port: $PUBLIC_PORT"}
	c=${c//"127.0.0.1:4434"/"127.0.0.1:$ADMIN_PORT"}
	c=${c//"port: 4434"/"port: $ADMIN_PORT"}
	c=${c//"127.0.0.1:1026"/"127.0.0.1:$SMS_PORT"}
	printf '%s\n' "$c"
}

# What a running Kratos was started with: config, schemas, templates, binary, DSN and the
# environment variables Kratos reads as configuration.
run_stamp() { # dsn smtp-uri
	{
		cat "$RUN/kratos.yml" "$BIN/kratos.version"
		find "$KDIR/identity" "$KDIR/courier" -type f | LC_ALL=C sort | xargs cat
		echo "$1 $2"
		env | LC_ALL=C grep -E '^(SELFSERVICE|SERVE|COURIER|SECRETS|HASHERS|SESSION|COOKIES|IDENTITY|LOG|CIPHERS|DATABASE|TRACING|SECURITY|FEATURE_FLAGS|CLIENTS|OAUTH2_PROVIDER|PREVIEW|ORGANIZATIONS|ENTERPRISE)_' | LC_ALL=C sort || true
	} | sha256sum | cut -d' ' -f1
}

up() {
	local admin=${YAMEN_DATABASE_ADMIN_URL:-} dsn smtp stamp pid oid i log=$RUN/kratos.log
	[[ -n $admin ]] || die "YAMEN_DATABASE_ADMIN_URL is not set (source infra/dev/env.sh first)"
	build_kratos
	build_sink
	mkdir -p "$RUN" "$MAIL"
	exec 9>"$RUN/up.lock"
	flock 9

	choose_ports
	start_sink

	dsn=$(db_url "$admin" "$DB")
	smtp=${COURIER_SMTP_CONNECTION_URI:-smtp://127.0.0.1:$SMTP_PORT/?disable_starttls=true}
	render_config >"$RUN/kratos.yml"
	stamp=$(run_stamp "$dsn" "$smtp")

	if pid=$(pid_of kratos kratos); then
		if [[ $(cat "$RUN/kratos.stamp" 2>/dev/null) == "$stamp" ]] && kratos_ready; then
			print_env
			return
		fi
		echo "yamen kratos: configuration changed or Kratos not ready; restarting it" >&2
		stop_pid kratos kratos 2>/dev/null
	fi
	port_open "$PUBLIC_PORT" && die "port $PUBLIC_PORT is taken by something else (YAMEN_DEV_KRATOS_PUBLIC_PORT)"
	port_open "$ADMIN_PORT" && die "port $ADMIN_PORT is taken by something else (YAMEN_DEV_KRATOS_ADMIN_PORT)"

	oid=$(ensure_db "$admin")
	migrate "$dsn" "$oid"

	[[ ! -f $log ]] || mv -f "$log" "$log.1"
	(
		cd "$RUN"
		DSN=$dsn COURIER_SMTP_CONNECTION_URI=$smtp exec setsid "$BIN/kratos" serve \
			-c "$RUN/kratos.yml" --dev --watch-courier --sqa-opt-out
	) >"$log" 2>&1 </dev/null 8>&- 9>&- & # the children must not hold our locks
	pid=$!
	echo "$pid" >"$RUN/kratos.pid"
	echo "$stamp" >"$RUN/kratos.stamp"
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$log" >&2
			die "Kratos exited (log: $log)"
		fi
		if kratos_ready; then
			print_env
			return
		fi
		sleep 0.2
	done
	tail -n 30 "$log" >&2
	die "Kratos is not ready after 60s (log: $log)"
}

# choose_ports keeps the ports of the Kratos and sink this checkout runs, or
# picks the first block of four free ones at or after the defaults: another
# checkout's Kratos (CI clones next to a developer's) would send our mail to
# its own sink, so it is never shared.
choose_ports() {
	if [[ -f $RUN/ports ]] && { pid_of kratos kratos >/dev/null || pid_of smtpsink smtpsink >/dev/null; }; then
		read -r PUBLIC_PORT ADMIN_PORT SMTP_PORT SMS_PORT <"$RUN/ports"
	else
		local k base=("$PUBLIC_PORT" "$ADMIN_PORT" "$SMTP_PORT" "$SMS_PORT")
		for ((k = 0; k < 500; k += 10)); do
			if ! port_open $((base[0] + k)) && ! port_open $((base[1] + k)) &&
				! port_open $((base[2] + k)) && ! port_open $((base[3] + k)); then
				break
			fi
		done
		((k < 500)) || die "no free ports for Kratos near ${base[*]}"
		((k == 0)) || echo "yamen kratos: note: ports ${base[*]} are taken; using each +$k" >&2
		PUBLIC_PORT=$((base[0] + k)) ADMIN_PORT=$((base[1] + k)) SMTP_PORT=$((base[2] + k)) SMS_PORT=$((base[3] + k))
		echo "$PUBLIC_PORT $ADMIN_PORT $SMTP_PORT $SMS_PORT" >"$RUN/ports"
	fi
	PUBLIC_URL=http://127.0.0.1:$PUBLIC_PORT
	ADMIN_URL=http://127.0.0.1:$ADMIN_PORT
}

print_env() {
	printf 'KRATOS_PUBLIC_URL=%q\nKRATOS_ADMIN_URL=%q\nYAMEN_DEV_MAIL_DIR=%q\n' "$PUBLIC_URL" "$ADMIN_URL" "$MAIL"
}

case ${1:-} in
build)
	build_kratos
	build_sink
	;;
up) up ;;
stop)
	[[ -d $RUN ]] || exit 0
	stop_pid kratos kratos
	stop_pid smtpsink smtpsink
	;;
*)
	echo "usage: bash ${BASH_SOURCE[0]} build|up|stop" >&2
	exit 2
	;;
esac
