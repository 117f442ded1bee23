#!/usr/bin/env bash
# Runs units of Redis's own Tcl test suite against Rustis and prints one summary line per unit.
# With --redis it runs the same units, the same way, against redis-server for comparison.
#
#   tests/redis-tcl.sh [options] REDIS_SRC UNIT...
#
#   REDIS_SRC    a Redis 7.0.15 source tree (its tests/ directory is what is used; nothing is
#                fetched or built there, and nothing is written into it)
#   UNIT         a unit as the suite names it: unit/keyspace, unit/type/list, ...
#
# Two modes:
#   normal (default)  the suite starts its own servers, as `./runtest` does in a Redis tree:
#                     every start_server block (with its overrides, config files, restarts)
#                     runs. Rustis is placed where the suite expects src/redis-server (a
#                     wrapper that adds --threads), and redis-cli / redis-benchmark from PATH
#                     as src/redis-cli / src/redis-benchmark.
#   --external        one server per unit started here, and the suite in its external-server
#                     mode (units or blocks that need their own server are skipped); a PING
#                     sent every second from a separate connection checks the server stays
#                     responsive.
#
# Options:
#   --redis          also run each unit against redis-server (from PATH, or $REDIS_SERVER)
#   --no-rustis      do not run against Rustis (with --redis: the reference numbers only)
#   --external       the external-server mode (see above)
#   --threads N      Rustis threads (default 4)
#   --tls            the suite's TLS mode (normal mode only; needs tcl-tls and openssl): the
#                    test certificates are made once with REDIS_SRC/utils/gen-test-certs.sh,
#                    and start_server gives the servers it starts neither tls-client-cert-file,
#                    tls-client-key-file, tls-dh-params-file, tls-replication nor tls-cluster
#                    (settings for outgoing TLS and DHE, which Rustis refuses: see
#                    docs/tls.md), for both servers alike
#   --clients N      the suite's test clients run in parallel (normal mode; default 1)
#   --timeout S      the suite's per-test timeout in seconds (default 600; keep it well above
#                    the two minutes the suite waits for a server that does not start, such as
#                    one given a setting Rustis refuses, or the unit is aborted there)
#   --tags "T ..."   tags for the suite's --tags (default: none in normal mode; in external
#                    mode every needs:* tag is skipped)
#   --only NAME      run only the tests so named (a /regexp as the suite takes it); repeatable
#   --verbose        show the suite's own output as it runs
#   --keep           keep the work directory (logs and the suite's output) and print its path
#
# Rustis is the release build, built here with cargo unless $RUSTIS_BIN names a binary.
#
# The suite runs from a scratch copy of REDIS_SRC/tests (one per server) with two adaptations:
#   - the external-server setup's `r function flush` is wrapped in `catch`, so that a server
#     without FUNCTION does not abort every unit before its first test (no change for servers
#     that have it);
#   - start_server does not give the servers it starts a `unixsocket` (Rustis has no Unix
#     sockets, and refuses the directive rather than pretend); the few tests that connect
#     through the socket fail instead of every server failing to start. The same copy is used
#     for redis-server, so both run the same tests.
#
# Each summary line reads
#   <server> <unit>: P passed, F failed, E errors, S skipped (finished|aborted)[, ping ...]
# where "failed" counts assertion failures, "errors" counts tests that raised an error (an
# unexpected error reply, a dropped connection) plus errors outside any test, "aborted" means the
# unit did not run to its end, "block(s) cut short" counts errors outside any test, each of which
# skips the rest of its start_server block, and "ping" (external mode) is the PING sent every
# second during the run: each one unanswered within 5 seconds is a missed ping.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

run_redis=0 run_rustis=1 threads=4 verbose=0 keep=0 external=0 clients=1 timeout=600 tls=0
suite_extra=()
tags=""
tags_set=0
external_tags="-needs:debug -needs:repl -needs:save -needs:pfdebug -needs:latency -needs:reset -needs:config-maxmemory -needs:config-resetstat -needs:local-process"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --redis) run_redis=1 ;;
        --no-rustis) run_rustis=0 ;;
        --external) external=1 ;;
        --tls) tls=1 ;;
        --threads) threads="$2"; shift ;;
        --clients) clients="$2"; shift ;;
        --timeout) timeout="$2"; shift ;;
        --tags) tags="$2"; tags_set=1; shift ;;
        --verbose) verbose=1 ;;
        --keep) keep=1 ;;
        --only) suite_extra+=(--only "$2"); shift ;;
        -h|--help) usage ;;
        --*) echo "unknown option $1" >&2; usage ;;
        *) break ;;
    esac
    shift
done
if [[ $tags_set -eq 0 && $external -eq 1 ]]; then tags="$external_tags"; fi
if [[ $tls -eq 1 && $external -eq 1 ]]; then echo "--tls works in normal mode only" >&2; exit 2; fi
if [[ $tls -eq 1 ]]; then suite_extra+=(--tls); fi
[[ $# -ge 2 ]] || usage
src="$(cd "$1" && pwd)"; shift
units=("$@")
[[ -f "$src/tests/test_helper.tcl" ]] || { echo "$src is not a Redis source tree" >&2; exit 2; }
command -v tclsh >/dev/null || { echo "tclsh is needed" >&2; exit 2; }
command -v redis-cli >/dev/null || { echo "redis-cli is needed (to poll PING)" >&2; exit 2; }

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t redis-tcl.XXXXXX)"
server_pid="" pinger_pid=""
cleanup() {
    [[ -n "$pinger_pid" ]] && kill "$pinger_pid" 2>/dev/null || true
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    if [[ $keep -eq 1 ]]; then echo "work directory: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A scratch copy of the suite for one server, in $1, where it writes its tests/tmp.
make_suite() {
    local dir=$1
    mkdir -p "$dir/src"
    cp -R "$src/tests" "$dir/tests"
    rm -rf "$dir/tests/tmp"
    sed -i 's/^\(\s*\)r function flush$/\1catch {r function flush}/' "$dir/tests/support/server.tcl"
    sed -i 's/^\(\s*\)dict set config "unixsocket" \$unixsocket$/\1# (no unixsocket: see tests\/redis-tcl.sh)/' \
        "$dir/tests/support/server.tcl"
    grep -q 'catch {r function flush}' "$dir/tests/support/server.tcl" \
        && grep -q '(no unixsocket' "$dir/tests/support/server.tcl" \
        || { echo "unexpected tests/support/server.tcl: is this Redis 7.0?" >&2; exit 2; }
    if [[ $tls -eq 1 ]]; then
        if [[ ! -d "$work/tls-certs/tests/tls" ]]; then
            mkdir -p "$work/tls-certs"
            (cd "$work/tls-certs" && bash "$src/utils/gen-test-certs.sh") >"$work/tls-certs.log" 2>&1 \
                || { echo "could not make the test certificates (see $work/tls-certs.log)" >&2; exit 2; }
        fi
        cp -R "$work/tls-certs/tests/tls" "$dir/tests/tls"
        sed -i -E '/dict set config "(tls-client-cert-file|tls-client-key-file|tls-dh-params-file|tls-cluster|tls-replication)"/s/^/# (TLS mode: see tests\/redis-tcl.sh) /' \
            "$dir/tests/support/server.tcl"
    fi
    local tool
    for tool in redis-cli redis-benchmark; do
        if command -v "$tool" >/dev/null; then ln -s "$(command -v "$tool")" "$dir/src/$tool"; fi
    done
}

if [[ $run_rustis -eq 1 ]]; then
    if [[ -z "${RUSTIS_BIN:-}" ]]; then
        (cd "$repo" && cargo build --release -q -p rustis)
        RUSTIS_BIN="$repo/target/release/rustis"
    fi
fi
REDIS_SERVER="${REDIS_SERVER:-redis-server}"

free_port() {
    local p
    while :; do
        # Below the ephemeral range, above the ports the suite itself uses (21079 and up).
        p=$((30000 + RANDOM % 2700))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
}

wait_ready() {
    local port=$1 i
    for i in $(seq 1 600); do
        if [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]]; then return 0; fi
        kill -0 "$server_pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# PINGs the server once a second; each PING not answered within 5 s is one line in $1.
pinger() {
    local port=$1 out=$2
    while :; do
        if [[ "$(timeout 5 redis-cli -p "$port" ping 2>/dev/null)" != PONG ]]; then
            date +%T >>"$out"
        fi
        sleep 1
    done
}

# Prints "P F E S finished|aborted" from the suite's output.
tally() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
        function close_err() { if (in_err) { if (is_error) e++; else f++ } in_err = 0; is_error = 0 }
        /^\[(ok|err|skip|ignore|exception)\]:/ || /^\[[0-9]+\/[0-9]+ / { close_err() }
        /^\[ok\]:/ { p++ }
        /^\[err\]:/ { in_err = 1 }
        /^\[err\]:/ && !/ in tests\// { cut++ }
        in_err && /while executing|I\/O error|connection reset|broken pipe/ { is_error = 1 }
        /^\[(skip|ignore)\]:/ { s++ }
        /^\[exception\]:/ { e++ }
        /^\[[0-9]+\/[0-9]+ done\]:/ { done = 1 }
        END {
            close_err()
            state = done ? (cut ? "finished, " cut " block(s) cut short" : "finished") : "aborted"
            printf "%d %d %d %d %s\n", p, f, e, s, state
        }'
}

run_unit() {
    local name=$1 unit=$2 port=$3 log=$4 suite=$5
    local args=(--single "$unit" --durable --baseport $((22000 + RANDOM % 7000))
        ${suite_extra[@]+"${suite_extra[@]}"} --timeout "$timeout")
    [[ -n "$tags" ]] && args+=(--tags "$tags")
    if [[ -n "$port" ]]; then
        # External mode: the server started here.
        args+=(--host 127.0.0.1 --port "$port" --ignore-encoding --ignore-digest --clients 1)
        : >"$work/missed"
        pinger "$port" "$work/missed" &
        pinger_pid=$!
    else
        args+=(--clients "$clients")
    fi
    if [[ $verbose -eq 1 ]]; then
        (cd "$suite" && tclsh tests/test_helper.tcl "${args[@]}") 2>&1 | tee "$log" || true
    else
        (cd "$suite" && tclsh tests/test_helper.tcl "${args[@]}") >"$log" 2>&1 || true
    fi
    local ping=""
    if [[ -n "$port" ]]; then
        kill "$pinger_pid" 2>/dev/null || true
        wait "$pinger_pid" 2>/dev/null || true
        pinger_pid=""
        local missed
        missed=$(wc -l <"$work/missed")
        if [[ $missed -eq 0 ]]; then ping=", ping ok"; else ping=", ping $missed missed"; fi
    fi
    local p f e s state
    read -r p f e s state < <(tally "$log")
    echo "$name $unit: $p passed, $f failed, $e errors, $s skipped ($state)$ping"
}

# External mode: starts one server per unit, so that a unit that leaves a server unusable
# cannot spoil the next.
run_external() {
    local name=$1 suite=$2 unit port log
    for unit in "${units[@]}"; do
        port=$(free_port)
        log="$work/$name-${unit//\//_}.log"
        if [[ $name == rustis ]]; then
            # Its own empty dir: a unit's SAVE must not write into (or a later run load from)
            # the directory the script runs in.
            mkdir -p "$work/$name.dir"
            RUSTIS_LOG=warn "$RUSTIS_BIN" --port "$port" --bind 127.0.0.1 --threads "$threads" \
                --dir "$work/$name.dir" >"$work/$name.server.log" 2>&1 &
        else
            mkdir -p "$work/$name.dir"
            "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
                --dir "$work/$name.dir" --daemonize no >"$work/$name.server.log" 2>&1 &
        fi
        server_pid=$!
        if ! wait_ready "$port"; then
            echo "$name $unit: the server did not start on port $port (see $work/$name.server.log)"
            keep=1
            continue
        fi
        run_unit "$name" "$unit" "$port" "$log" "$suite"
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    done
}

# Normal mode: the suite starts (and restarts) its servers itself from $suite/src/redis-server.
run_normal() {
    local name=$1 suite=$2 unit log
    for unit in "${units[@]}"; do
        log="$work/$name-${unit//\//_}.log"
        run_unit "$name" "$unit" "" "$log" "$suite"
    done
}

run_on() {
    local name=$1 suite="$work/$1"
    make_suite "$suite"
    if [[ $name == rustis ]]; then
        # The suite runs `src/redis-server <config file> [--options]`; the wrapper keeps the
        # process id (exec), which the suite looks for in the log.
        cat >"$suite/src/redis-server" <<WRAPPER
#!/bin/sh
if [ \$# -gt 0 ] && [ "\${1#-}" = "\$1" ]; then
    conf=\$1; shift
    exec "$RUSTIS_BIN" "\$conf" --threads $threads "\$@"
fi
exec "$RUSTIS_BIN" --threads $threads "\$@"
WRAPPER
        chmod +x "$suite/src/redis-server"
    else
        ln -s "$(command -v "$REDIS_SERVER")" "$suite/src/redis-server"
    fi
    if [[ $external -eq 1 ]]; then run_external "$name" "$suite"; else run_normal "$name" "$suite"; fi
}

[[ $run_rustis -eq 1 ]] && run_on rustis
[[ $run_redis -eq 1 ]] && run_on redis-server
exit 0
