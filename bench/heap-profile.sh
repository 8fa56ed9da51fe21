#!/bin/bash
# What a connected agent costs the server, allocation site by allocation site.
#
# Builds the server with glibc's allocator (heaptrack follows malloc, not
# mimalloc) and line tables, runs it under heaptrack with N simulated agents
# (default 2000), kills it with SIGKILL once they are all online and it has
# settled, so every allocation still live counts as "leaked", and prints
# the largest sites, then the largest sites at the heap's peak (the burst of
# enrolments: what a burst holds for a while and then frees). Needs
# heaptrack (Debian: apt install heaptrack).
#
#   bench/heap-profile.sh [N]
set -euo pipefail
N=${1:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=${PROFILE_TARGET_DIR:-$ROOT/target/heap-profile}
OUT=${PROFILE_OUT:-$(mktemp -d)}
command -v heaptrack >/dev/null || { echo "heaptrack is not installed" >&2; exit 1; }
( cd "$ROOT" && CARGO_TARGET_DIR=$T CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_PROFILE_RELEASE_STRIP=none \
    cargo build --release -p steward -p steward-agent --features steward/system-alloc )
B=$T/release/steward
A=$T/release/steward-agent
D=$OUT/data
mkdir -p "$D"
PW='heap profile password 2026'
echo "$PW" | STEWARD_LOG=warn "$B" admin create --email admin@example.com --password-stdin --data-dir "$D" >/dev/null
STEWARD_LOG=warn heaptrack -o "$OUT/heap" "$B" serve --data-dir "$D" --listen 127.0.0.1:0 >"$OUT/server.out" 2>"$OUT/server.err" &
for _ in $(seq 1 60); do grep -q "listening on" "$OUT/server.out" 2>/dev/null && break; sleep 1; done
URL=$(grep -o "listening on [^ ]*" "$OUT/server.out" | cut -d' ' -f3)
SPKI=$(grep -o "SPKI SHA-256 [^ ]*" "$OUT/server.out" | cut -d' ' -f3)
SPID=$(pgrep -f "^$B serve --data-dir $D" | head -1)
J=$OUT/cookies
json() { python3 -c "import sys,json; print(json.load(sys.stdin)[\"$1\"])"; }
CSRF=$(curl -sk -c "$J" -H "origin: $URL" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@example.com\",\"password\":\"$PW\"}" "$URL/api/v1/auth/login" | json csrf_token)
post() { curl -sk -b "$J" -H "origin: $URL" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' -d "$2" "$URL$1"; }
C=$(post /api/v1/clients '{"name":"Fleet"}' | json id)
S=$(post "/api/v1/clients/$C/sites" '{"name":"DC","timezone":"UTC"}' | json id)
TOK=$(post "/api/v1/clients/$C/sites/$S/enrollment-tokens" "{\"max_uses\":$N}" | json token)
"$A" simulate --server "$URL" --token "$TOK" --pin "$SPKI" --count "$N" --ramp-secs 5 >"$OUT/sim.out" 2>&1 &
SIM=$!
ON=0
for _ in $(seq 1 900); do
    ON=$(curl -sk -b "$J" "$URL/api/v1/devices?state=online&limit=1" | json total)
    [ "$ON" -ge "$N" ] && break
    sleep 2
done
echo "$ON of $N agents online; settling for 20 s"
sleep 20
grep VmRSS "/proc/$SPID/status"
kill -KILL "$SPID"
sleep 5
kill "$SIM" 2>/dev/null || true
wait 2>/dev/null || true
F=$(ls "$OUT"/heap*.zst | head -1)
heaptrack_print -f "$F" 2>/dev/null | grep -E "^(peak heap|total memory leaked)"
heaptrack_print -f "$F" --print-leaks 0 --print-peaks 0 --print-allocators 0 --print-temporary 0 \
    --print-flamegraph "$OUT/leaked.folded" --flamegraph-cost-type leaked >/dev/null 2>&1
python3 "$ROOT/bench/heap_sites.py" "$OUT/leaked.folded" "$N"
heaptrack_print -f "$F" --print-leaks 0 --print-peaks 0 --print-allocators 0 --print-temporary 0 \
    --print-flamegraph "$OUT/peak.folded" --flamegraph-cost-type peak >/dev/null 2>&1
python3 "$ROOT/bench/heap_sites.py" "$OUT/peak.folded" "$N" 25 peak
echo "profile: $F (heaptrack_gui or heaptrack_print for more)"
