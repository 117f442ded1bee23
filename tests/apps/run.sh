#!/usr/bin/env bash
# The application harness: real client libraries used the way applications use them, against
# a Rustis on 2 threads (or, with --redis, against redis-server, to check the apps themselves).
# Each app checks its own outcome (job states, lock exclusion, counters) and exits non-zero if
# it is wrong.
#
#   tests/apps/run.sh [--redis] [--threads N] [APP ...]
#
# APP is a file in tests/apps (default: all of them). Python apps need redis-py, JavaScript
# apps need the packages of package.json (this script runs `npm install` here). Rustis is
# target/release/rustis unless $RUSTIS_BIN names a binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
server=rustis
threads=2
apps=()
while [ $# -gt 0 ]; do
  case "$1" in
    --redis) server=redis; shift ;;
    --threads) threads="$2"; shift 2 ;;
    *) apps+=("$1"); shift ;;
  esac
done
if [ ${#apps[@]} -eq 0 ]; then
  apps=(watch_transfer.py redis_py_lock.py ioredis_scripts.js rq_jobs.py bullmq_jobs.js)
fi

# Quick when node_modules already holds what package.json asks for.
(cd "$here" && npm install --silent --no-audit --no-fund >/dev/null)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
log="$dir/server.log"
if [ "$server" = redis ]; then
  redis-server --port "$port" --save '' --appendonly no --dir "$dir" >"$log" 2>&1 &
else
  "${RUSTIS_BIN:-$root/target/release/rustis}" --port "$port" --threads "$threads" --dir "$dir" >"$log" 2>&1 &
fi
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
deadline=$((SECONDS + 60))
until [ "$(redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ]; do
  kill -0 "$pid" 2>/dev/null || { echo "apps: the server exited"; cat "$log"; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "apps: no PONG within 60 s"; exit 1; }
  sleep 0.1
done

failed=0
for app in "${apps[@]}"; do
  case "$app" in
    *.py) cmd=(python3 "$here/$app" "$port") ;;
    *.js) cmd=(node "$here/$app" "$port") ;;
    *) echo "apps: unknown app kind: $app"; exit 2 ;;
  esac
  if ! timeout 300 "${cmd[@]}"; then
    echo "apps: $app FAILED against $server"
    failed=1
  fi
  redis-cli -p "$port" PING >/dev/null 2>&1 || { echo "apps: the server died during $app"; cat "$log"; exit 1; }
done
exit "$failed"
