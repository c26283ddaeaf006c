#!/usr/bin/env bash
# Times `scripts/run` in a checkout (default: this one): until the home page answers, until the
# worker is ready, then how long Ctrl-C takes to stop everything. Port 8000 must be free.
# Usage: benchmarks/time_run.sh [CHECKOUT]
set -uo pipefail
cd "${1:-$(dirname "$0")/..}"
log="$(mktemp -t scripts-run.XXXX.log)"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

start=$(now)
# In its own process group with SIGINT restored (a background job starts with it ignored), so
# that the INT below reaches every process the way Ctrl-C in a terminal does.
python3 -c 'import os, signal; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); os.execv("scripts/run", ["scripts/run"])' >"$log" 2>&1 &
pid=$!
until curl -fs --max-time 2 -o /dev/null http://127.0.0.1:8000/; do
  kill -0 "$pid" 2>/dev/null || { echo "scripts/run stopped; its output:"; tail -30 "$log"; exit 1; }
  sleep 0.5
done
echo "home page answers after $(since "$start") s"
until grep -q "ready\." "$log"; do sleep 0.5; done
echo "worker ready after $(since "$start") s"
until grep -q "Loaded bundled" "$log"; do sleep 0.5; done
echo "bundled model loaded in the worker after $(since "$start") s"
sleep 5  # let every pool process finish loading, so the stop below is a steady-state one
echo "static file: $(curl -fs -o /dev/null -w '%{http_code} %{content_type}' http://127.0.0.1:8000/static/css/site.css)"

stop=$(now)
kill -INT -- "-$pid"
wait "$pid"
echo "Ctrl-C: exit code $?, everything stopped after $(since "$stop") s"
pgrep -af "gunicorn advisor|celery -A advisor|transformers serve" && echo "left running: the above" || echo "no process left"
echo "output: $log"
