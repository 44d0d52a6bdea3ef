#!/usr/bin/env bash
# `make playground`: the bot (anonymous local mode, embedded SQLite store) and the Microsoft 365 Agents Playground,
# a local Teams-like client, on this machine. Ctrl-C stops both.
#
#   PORT             the bot's port (default 3978)
#   PLAYGROUND_PORT  the Playground's port (default 56150; it picks another one itself when that one is busy)
#   SQLITE_PATH      the bot's store (default ./data/playground.db, kept across runs; delete it to start afresh)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

port=${PORT:-3978}
playground_port=${PLAYGROUND_PORT:-56150}
sqlite_path=${SQLITE_PATH:-./data/playground.db}
scratch=$root/build/playground # the Playground writes devTools/ (its own logs) into its working directory
bot_log=$scratch/bot.log
playground_out=$scratch/playground.out
cli=$root/tools/playground/node_modules/.bin/agentsplayground
python=$root/.venv/bin/python

[[ -x $cli ]] || { echo "the Playground is not installed: run 'make playground' (npm ci in tools/playground)" >&2; exit 1; }
[[ -x $python ]] || { echo "no .venv: run 'make playground'" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is already in use (is 'make run' running?): stop it, or choose another with PORT=..." >&2
  exit 1
fi

mkdir -p "$scratch" "$(dirname "$sqlite_path")"
bot_pid=
playground_pid=
stop() {
  trap - INT TERM EXIT
  [[ -n $playground_pid ]] && kill "$playground_pid" 2>/dev/null || true
  [[ -n $bot_pid ]] && kill "$bot_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "Stopped the Playground and the bot."
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The Playground sends no Bot Framework token: the bot runs in anonymous local mode, whatever .env says.
PORT=$port STORAGE=sqlite SQLITE_PATH=$sqlite_path MicrosoftAppId= MicrosoftAppPassword= \
  "$python" app.py >"$bot_log" 2>&1 &
bot_pid=$!
echo "Starting the bot on http://127.0.0.1:$port (store $sqlite_path, log $bot_log)..."
healthy() { "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
  "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; }
for _ in $(seq 1 100); do
  healthy && break
  kill -0 "$bot_pid" 2>/dev/null || { echo "the bot stopped:" >&2; tail -n 20 "$bot_log" >&2; exit 1; }
  sleep 0.2
done
healthy || { echo "the bot did not answer /healthz within 20 s; its log: $bot_log" >&2; exit 1; }

echo "Starting the Microsoft 365 Agents Playground (telemetry off)..."
(cd "$scratch" && TEAMSAPPTESTER_BROWSER=none exec "$cli" --disable-telemetry -c msteams -p "$playground_port" \
  -e "http://127.0.0.1:$port/api/messages") >"$playground_out" 2>&1 &
playground_pid=$!
listening=
for _ in $(seq 1 150); do
  listening=$(sed -n 's/.*Listening on \([0-9][0-9]*\).*/\1/p' "$playground_out" | head -n 1)
  [[ -n $listening ]] && break
  kill -0 "$playground_pid" 2>/dev/null || break
  sleep 0.2
done
if [[ -z $listening ]]; then
  echo "the Playground did not start; its log:" >&2
  cat "$playground_out" "$scratch"/devTools/*.log 2>/dev/null | tail -n 20 >&2
  exit 1
fi

cat <<EOF

  Open http://localhost:$listening in a browser.

  Personal chat: type help, new pilot, pilots, status <pilot>, overdue.
  Channel: pick "My Team - General", type @ and choose Test Bot, then e.g. status <pilot>.
  Bot log: $bot_log    Playground log: $scratch/devTools/
  Ctrl-C stops the Playground and the bot.

EOF
wait "$playground_pid" || true
