#!/bin/sh
# entrypoint.sh: the root side of the Airlock container (SPEC 1 and 8).
#
# Runs as root, under docker-init (`init: true`) or as PID 1, with only the
# capabilities compose grants it (CHOWN, SETUID, SETGID, SETPCAP, KILL). It
#   1. creates and fixes /data (0700 airlock-system), /data/secure and
#      /data/workspace (0700), and the socket directory (2750
#      airlock-system:airlock: setgid, so the socket the orchestrator creates
#      there belongs to group airlock);
#   2. starts the orchestrator as airlock-system and waits for its socket;
#   3. starts the worker as airlock-ai, supplementary group airlock only, with
#      an allowlisted environment (never a key or token);
#   4. forwards SIGTERM/SIGINT to both and stops them within
#      AIRLOCK_STOP_TIMEOUT seconds (then SIGKILL);
#   5. restarts the worker with backoff if it exits, and exits non-zero if the
#      orchestrator exits.
# Both children run with no capabilities (effective, permitted, inheritable,
# ambient, bounding) and no_new_privs. Root never reads or writes inside /data:
# what happens there is done as airlock-system.
set -eu

SYSTEM_UID=10001
SYSTEM_GID=10001
AI_UID=10002
AI_GID=10002
AIRLOCK_GID=10000
DATA_DIR=/data
SOCKET=${AIRLOCK_SOCKET:-/run/airlock/mcp.sock}
SOCKET_DIR=${SOCKET%/*}
SOCKET_TIMEOUT=${AIRLOCK_SOCKET_TIMEOUT:-30}
STOP_TIMEOUT=${AIRLOCK_STOP_TIMEOUT:-9}
TICK=0.5
WORKER_PATH=/usr/local/bin:/usr/bin:/bin
# AIRLOCK_* variables the worker may see, by exact name (the same list as the
# orchestrator's dev-mode supervisor, cmd/orchestrator/supervise.go).
# Everything else in this environment (AIRLOCK_LLM_API_KEY, DISCORD_TOKEN,
# *_FILE paths...) stays with the orchestrator.
WORKER_ENV_ALLOW="AIRLOCK_LOG_LEVEL AIRLOCK_WORKER_PARALLEL AIRLOCK_WORKER_MAX_ROUNDS AIRLOCK_WORKER_TASK_TIMEOUT"

ORCH_PID=
WORKER_PID=
WORKER_STARTED=0
BACKOFF_MS=500
BACKOFF_MAX_MS=10000
BACKOFF_RESET_S=60
SLEEP_PID= # the pending pause, so a signal can end it

log() { printf 'entrypoint: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	trap '' TERM INT
	stop "$WORKER_PID" "$ORCH_PID"
	exit 1
}

# exec_as UID GID GROUPS CMD...: replace the current (sub)shell with CMD (an
# absolute path) run as UID:GID with exactly GROUPS as supplementary groups
# ("" for none), no capabilities in any set, and no_new_privs. The static
# orchestrator binary does it (secure/privdrop) and reads the result back from
# the kernel before it runs CMD. Call it in a subshell.
exec_as() {
	uid=$1 gid=$2 groups=$3
	shift 3
	exec /usr/local/bin/orchestrator exec-as --uid="$uid" --gid="$gid" --groups="$groups" -- "$@"
}

# as_system CMD...: run CMD as airlock-system and wait for it.
as_system() { (exec_as "$SYSTEM_UID" "$SYSTEM_GID" "" "$@"); }

# alive PID: whether the child still runs (for another user's process, kill -0
# needs CAP_KILL).
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

now() { date +%s; }

# owned DIR UID GID MODE: whether DIR has exactly this owner and mode.
owned() { [ "$(stat -c '%u %g %a' "$1" 2>/dev/null)" = "$2 $3 $4" ]; }

# fix_dir DIR UID GID MODE: chmod while root owns it, then chown (chown keeps a
# directory's setgid bit), so that root needs CHOWN but not FOWNER.
fix_dir() {
	owned "$@" && return 0
	log "fixing $1 to $4 $2:$3 (was $(stat -c '%a %u:%g' "$1"))"
	chown 0:0 "$1" && chmod "$4" "$1" && chown "$2:$3" "$1"
}

# check_caps: fail early and clearly when compose's cap_add is not applied.
# (CHOWN is needed only to repair ownership; fix_dir says so when it fails.)
check_caps() {
	eff=0
	while read -r key value; do
		if [ "$key" = CapEff: ]; then eff=$value; fi
	done </proc/$$/status
	missing=
	for cap in 5:KILL 6:SETGID 7:SETUID 8:SETPCAP; do
		[ $(((0x$eff >> ${cap%%:*}) & 1)) = 1 ] || missing="$missing ${cap#*:}"
	done
	[ -z "$missing" ] || die "missing capabilities:$missing (see cap_add in deploy/compose.yaml)"
}

prepare_dirs() {
	log "preparing $DATA_DIR (0700 airlock-system) and $SOCKET_DIR (2750 airlock-system:airlock)"
	[ -d "$DATA_DIR" ] || mkdir -p "$DATA_DIR" || die "cannot create $DATA_DIR"
	fix_dir "$DATA_DIR" "$SYSTEM_UID" "$SYSTEM_GID" 700 || die "cannot fix $DATA_DIR"
	# shellcheck disable=SC2016 # expanded by the inner shell
	as_system /bin/sh -c 'umask 077 && mkdir -p "$1/secure" "$1/workspace" && chmod 0700 "$1/secure" "$1/workspace"' \
		prepare "$DATA_DIR" ||
		die "cannot prepare $DATA_DIR/secure and $DATA_DIR/workspace as airlock-system; if the volume came from elsewhere, run: docker run --rm -u 0 -v <volume>:/data --entrypoint chown <image> -R $SYSTEM_UID:$SYSTEM_GID /data"
	[ -d "$SOCKET_DIR" ] || mkdir -p "$SOCKET_DIR" || die "cannot create $SOCKET_DIR"
	fix_dir "$SOCKET_DIR" "$SYSTEM_UID" "$AIRLOCK_GID" 2750 || die "cannot fix $SOCKET_DIR"
	as_system /bin/rm -f "$SOCKET" || die "cannot remove a stale $SOCKET"
}

start_orchestrator() {
	log "starting orchestrator as airlock-system (uid $SYSTEM_UID)"
	(
		export HOME=/nonexistent AIRLOCK_WORKER_UID="$AI_UID" AIRLOCK_SOCKET="$SOCKET" AIRLOCK_DATA_DIR="$DATA_DIR"
		exec_as "$SYSTEM_UID" "$SYSTEM_GID" "" /usr/local/bin/orchestrator
	) &
	ORCH_PID=$!
}

wait_socket() {
	log "waiting for $SOCKET (up to ${SOCKET_TIMEOUT}s)"
	deadline=$(($(now) + SOCKET_TIMEOUT))
	until as_system /bin/test -S "$SOCKET"; do
		alive "$ORCH_PID" || orchestrator_exited
		[ "$(now)" -lt "$deadline" ] ||
			die "the orchestrator did not create $SOCKET within ${SOCKET_TIMEOUT}s"
		sleep 0.05
	done
	group=$(as_system /bin/stat -c %g "$SOCKET")
	[ "$group" = "$AIRLOCK_GID" ] ||
		die "$SOCKET belongs to group $group, not airlock ($AIRLOCK_GID), so the worker could not connect: mount a tmpfs on $SOCKET_DIR (compose: tmpfs; docker run: --tmpfs $SOCKET_DIR); some storage drivers ignore a setgid directory"
	log "socket $SOCKET is up"
}

start_worker() {
	set -- "PATH=$WORKER_PATH" HOME=/tmp "AIRLOCK_SOCKET=$SOCKET"
	for name in TZ LANG $WORKER_ENV_ALLOW; do
		eval "isset=\${$name+x} value=\${$name-}"
		# shellcheck disable=SC2154 # assigned by the eval above
		[ -z "$isset" ] || set -- "$@" "$name=$value"
	done
	names=
	for kv in "$@"; do names="$names ${kv%%=*}"; done
	log "starting worker as airlock-ai (uid $AI_UID, groups $AIRLOCK_GID), environment:$names"
	# Each variable becomes --env=NAME=VALUE: exec-as gives the worker exactly
	# these in the execve that starts it, so that no airlock-ai process ever
	# holds this shell's environment (an LLM key passed as a variable).
	n=$#
	while [ "$n" -gt 0 ]; do
		set -- "$@" "--env=$1"
		shift
		n=$((n - 1))
	done
	(exec /usr/local/bin/orchestrator exec-as --uid="$AI_UID" --gid="$AI_GID" --groups="$AIRLOCK_GID" \
		--clear-env "$@" -- /usr/local/bin/aiworker) &
	WORKER_PID=$!
	WORKER_STARTED=$(now)
}

# stop PID...: SIGTERM, then SIGKILL after STOP_TIMEOUT seconds; waits for all.
stop() {
	pids=
	for pid in "$@"; do
		if alive "$pid"; then pids="$pids $pid"; fi
	done
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # a list of pids
	kill -TERM $pids 2>/dev/null || :
	# shellcheck disable=SC2086
	(sleep "$STOP_TIMEOUT" && log "still running after ${STOP_TIMEOUT}s: sending SIGKILL" &&
		kill -KILL $pids 2>/dev/null) &
	killer=$!
	for pid in $pids; do wait "$pid" 2>/dev/null || :; done
	kill -KILL "$killer" 2>/dev/null || :
}

on_signal() {
	trap '' TERM INT
	log "received SIG$1: stopping worker and orchestrator (SIGKILL after ${STOP_TIMEOUT}s)"
	stop "$WORKER_PID" "$ORCH_PID" "$SLEEP_PID"
	log "stopped"
	exit 0
}

orchestrator_exited() {
	status=0
	wait "$ORCH_PID" || status=$?
	log "orchestrator exited with status $status: stopping the worker and exiting"
	trap '' TERM INT
	stop "$WORKER_PID" "$SLEEP_PID"
	[ "$status" -ne 0 ] || status=1
	exit "$status"
}

worker_exited() {
	status=0
	wait "$WORKER_PID" || status=$?
	WORKER_PID=
	up=$(($(now) - WORKER_STARTED))
	[ "$up" -lt "$BACKOFF_RESET_S" ] || BACKOFF_MS=500
	delay=$((BACKOFF_MS / 1000)).$(printf '%03d' $((BACKOFF_MS % 1000)))
	log "worker exited with status $status after ${up}s: restarting in ${delay}s"
	BACKOFF_MS=$((BACKOFF_MS * 2))
	[ "$BACKOFF_MS" -le "$BACKOFF_MAX_MS" ] || BACKOFF_MS=$BACKOFF_MAX_MS
	pause "$delay"
	start_worker
}

# pause SECONDS: sleep, but return at once when SIGTERM/SIGINT arrives (the
# trap then runs).
pause() {
	sleep "$1" &
	SLEEP_PID=$!
	wait "$SLEEP_PID" 2>/dev/null || :
	SLEEP_PID=
}

# supervise polls both children. (busybox ash's `wait -n` misses children
# that exit non-zero or by a signal, so it cannot be the wake-up.)
supervise() {
	while :; do
		pause "$TICK"
		alive "$ORCH_PID" || orchestrator_exited
		alive "$WORKER_PID" || worker_exited
	done
}

main() {
	[ "$(id -u)" = 0 ] || die "must start as root (it drops to uid $SYSTEM_UID and $AI_UID itself)"
	trap 'on_signal TERM' TERM
	trap 'on_signal INT' INT
	check_caps
	prepare_dirs
	start_orchestrator
	wait_socket
	start_worker
	supervise
}

main "$@"
