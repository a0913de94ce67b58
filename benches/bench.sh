#!/usr/bin/env bash
# Tsunagi performance benchmarks, side by side with their peers in one run (see PEERS.md in the
# design notes: absolute figures drift on this 2-core machine, ratios hold).
#
# What it measures:
#   1. GET /fhir/Patient/{id} on `tsunagi serve` (SQLite store in a temp dir, loopback only)
#      against the "limit" peer, a bare actix-web handler returning a fixed Patient of the same
#      size (gateway/examples/bare_actix.rs): wrk -t2 -c32 -d10s, req/s and p99, and the ratio.
#   2. Transaction ingest (100-entry linked Bundles) into the embedded store, synchronous FULL
#      and NORMAL, and the parse of such a Bundle alone: the criterion bench
#      gateway/benches/transaction_ingest.rs, in resources/s.
#   3. GET by id on the PostgreSQL store against pgbench running the same read query.
#   4. Transaction ingest: the embedded store, PostgreSQL with 1 and with 2 replicas
#      (gateway/benches/replica_ingest.rs).
#
# Usage: benches/bench.sh   (needs wrk: apt-get install wrk). Honours CARGO_TARGET_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WRK_ARGS=(-t2 -c32 -d10s --latency)
# wrk sends far more than the default per-client limit (60000 a minute, `[limits]
# rate_limit_per_minute`) from one address: keep the limiter running, so its cost is measured,
# with a limit it never reaches.
export TSUNAGI_RATE_LIMIT_PER_MINUTE=4000000000
PATIENT_ID="bench-1"
PATIENT='{"resourceType":"Patient","id":"bench-1","identifier":[{"system":"urn:oid:1.2.392.100495.20.3.51.11310000","value":"00012345"}],"active":true,"name":[{"use":"official","family":"Yamada","given":["Taro"]}],"telecom":[{"system":"phone","value":"+81-3-1234-5678","use":"home"}],"gender":"male","birthDate":"1970-01-01","address":[{"use":"home","line":["1-2-3 Marunouchi"],"city":"Chiyoda-ku","state":"Tokyo","postalCode":"100-0005","country":"JP"}]}'

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench.sh: wrk is not installed; install it with: apt-get install wrk" >&2
    exit 1
fi
for tool in curl cargo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench.sh: $tool is not installed" >&2
        exit 1
    fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tsunagi-bench.XXXXXX")"
SERVER_PIDS=()
stop_servers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${SERVER_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    SERVER_PIDS=()
}
cleanup() {
    stop_servers
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A loopback port nobody listens on (a connection attempt is refused).
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "bench.sh: found no free loopback port" >&2
    return 1
}

# Waits until $1 answers HTTP (any status), for at most 20 s.
wait_for() {
    for _ in $(seq 1 200); do
        if curl -s -o /dev/null "$1"; then
            return 0
        fi
        sleep 0.1
    done
    echo "bench.sh: $1 did not answer" >&2
    return 1
}

# Runs wrk on $2 and prints "NAME REQ_PER_S P99" ($1 = NAME); the full output goes to a file.
run_wrk() {
    local name="$1" url="$2" out="$WORK/wrk-$1.txt"
    wrk "${WRK_ARGS[@]}" "$url" >"$out"
    if grep -q "Non-2xx" "$out"; then
        echo "bench.sh: $name answered non-2xx statuses:" >&2
        cat "$out" >&2
        return 1
    fi
    local rps p99
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    p99="$(awk '$1 == "99%" { print $2 }' "$out")"
    echo "$name $rps $p99"
}

echo "== building (release)"
cargo build --release -p tsunagi-gateway --bin tsunagi --example bare_actix
TSUNAGI="$TARGET_DIR/release/tsunagi"
BARE="$TARGET_DIR/release/examples/bare_actix"

echo "== starting servers"
TSUNAGI_PORT="$(free_port)"
TSUNAGI_LOG=warn "$TSUNAGI" serve --listen "127.0.0.1:$TSUNAGI_PORT" --db "$WORK/tsunagi.db" \
    >"$WORK/tsunagi.log" 2>&1 &
SERVER_PIDS+=($!)
wait_for "http://127.0.0.1:$TSUNAGI_PORT/healthz"
status="$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
    -H 'Content-Type: application/fhir+json' --data-binary "$PATIENT" \
    "http://127.0.0.1:$TSUNAGI_PORT/fhir/Patient/$PATIENT_ID")"
if [[ "$status" != 201 && "$status" != 200 ]]; then
    echo "bench.sh: PUT Patient/$PATIENT_ID answered $status" >&2
    exit 1
fi
TSUNAGI_URL="http://127.0.0.1:$TSUNAGI_PORT/fhir/Patient/$PATIENT_ID"

BARE_PORT="$(free_port)"
"$BARE" "127.0.0.1:$BARE_PORT" >"$WORK/bare.log" 2>&1 &
SERVER_PIDS+=($!)
BARE_URL="http://127.0.0.1:$BARE_PORT/fhir/Patient/$PATIENT_ID"
wait_for "$BARE_URL"

tsunagi_bytes="$(curl -sf "$TSUNAGI_URL" | wc -c)"
bare_bytes="$(curl -sf "$BARE_URL" | wc -c)"

echo "== GET by id: wrk ${WRK_ARGS[*]} (tsunagi, then bare actix)"
tsunagi_result="$(run_wrk tsunagi "$TSUNAGI_URL")"
bare_result="$(run_wrk bare_actix "$BARE_URL")"
read -r _ tsunagi_rps tsunagi_p99 <<<"$tsunagi_result"
read -r _ bare_rps bare_p99 <<<"$bare_result"
stop_servers

printf '\n%-28s %12s %10s %12s\n' "GET /fhir/Patient/{id}" "req/s" "p99" "body bytes"
printf '%-28s %12s %10s %12s\n' "tsunagi serve" "$tsunagi_rps" "$tsunagi_p99" "$tsunagi_bytes"
printf '%-28s %12s %10s %12s\n' "bare actix-web (limit)" "$bare_rps" "$bare_p99" "$bare_bytes"
awk -v t="$tsunagi_rps" -v b="$bare_rps" \
    'BEGIN { printf "%-28s %12.2f\n", "ratio tsunagi / bare", (b > 0 ? t / b : 0) }'
printf '%-28s %12s bytes\n' "tsunagi release binary" "$(stat -c %s "$TSUNAGI")"

# 3. The same GET on PostgreSQL (a fresh schema in $TSUNAGI_BENCH_POSTGRES, default the local
#    test database) against the database alone: pgbench running the very query the gateway
#    runs for a read (the current-version join on the primary key), with as many clients as
#    wrk opens. The gateway's figure is bounded by it.
PG_URL="${TSUNAGI_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
PG_SCHEMA="tsunagi_bench_get_$$"
if command -v psql >/dev/null 2>&1 && command -v pgbench >/dev/null 2>&1 \
    && psql "$PG_URL" -qc "CREATE SCHEMA $PG_SCHEMA" >/dev/null 2>&1; then
    drop_schema() { psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" >/dev/null 2>&1 || true; }
    trap 'stop_servers; drop_schema; rm -rf "$WORK"' EXIT
    PG_DB="$PG_URL?options=-csearch_path%3D$PG_SCHEMA"
    PG_PORT="$(free_port)"
    TSUNAGI_LOG=warn "$TSUNAGI" serve --listen "127.0.0.1:$PG_PORT" --db "$PG_DB" \
        >"$WORK/tsunagi-pg.log" 2>&1 &
    SERVER_PIDS+=($!)
    wait_for "http://127.0.0.1:$PG_PORT/healthz"
    curl -sf -o /dev/null -X PUT -H 'Content-Type: application/fhir+json' --data-binary "$PATIENT" \
        "http://127.0.0.1:$PG_PORT/fhir/Patient/$PATIENT_ID"
    echo "== GET by id on PostgreSQL: wrk ${WRK_ARGS[*]}, then pgbench with the gateway's read query"
    pg_result="$(run_wrk tsunagi_postgres "http://127.0.0.1:$PG_PORT/fhir/Patient/$PATIENT_ID")"
    read -r _ pg_rps pg_p99 <<<"$pg_result"
    stop_servers
    cat >"$WORK/read.sql" <<SQL
SELECT v.body FROM resource_current c JOIN resource_version v ON v.seq = c.seq
WHERE c.res_type = 'Patient' AND c.res_id = '$PATIENT_ID';
SQL
    PGOPTIONS="-c search_path=$PG_SCHEMA" pgbench -n -c 32 -j 2 -T 10 -f "$WORK/read.sql" "$PG_URL" \
        >"$WORK/pgbench.txt" 2>&1
    pg_select_tps="$(awk '/^tps =/ { print $3; exit }' "$WORK/pgbench.txt")"
    printf '\n%-28s %12s %10s\n' "GET by id, PostgreSQL" "req/s" "p99"
    printf '%-28s %12s %10s\n' "tsunagi serve (postgres)" "$pg_rps" "$pg_p99"
    printf '%-28s %12s\n' "pgbench primary-key SELECT" "$pg_select_tps"
    awk -v t="$pg_rps" -v b="$pg_select_tps" \
        'BEGIN { printf "%-28s %12.2f\n", "ratio tsunagi / SELECT", (b > 0 ? t / b : 0) }'
else
    echo "== GET by id on PostgreSQL: skipped (no psql/pgbench or no server at $PG_URL)"
fi

echo
echo "== transaction ingest: cargo bench -p tsunagi-gateway --bench transaction_ingest"
cargo bench -p tsunagi-gateway --bench transaction_ingest 2>&1 | tee "$WORK/ingest.txt" >/dev/null
echo
echo "transaction ingest, and the Bundle parse alone (criterion: [low  estimate  high])"
# Each benchmark's name, time and throughput; the lines after "change:" compare with an
# earlier run and are left out.
awk '/^(transaction_ingest|transaction_ingest_two_clients|bundle_parse)\// { show = 1; print; next }
     /change:/ { show = 0 }
     show && /^ +(time|thrpt):/ { print }' "$WORK/ingest.txt"

echo
echo "== replica ingest: cargo bench -p tsunagi-gateway --bench replica_ingest"
cargo bench -p tsunagi-gateway --bench replica_ingest 2>&1 | tee "$WORK/replicas.txt" >/dev/null
echo "transaction ingest by store and replicas (criterion: [low  estimate  high])"
awk '/^replica_ingest\// { show = 1; print; next }
     /change:/ { show = 0 }
     show && /^ +(time|thrpt):/ { print }' "$WORK/replicas.txt"

echo
echo "== SS-MIX2 bulk ingest: cargo bench -p tsunagi-gateway --bench ssmix2_ingest"
# A generated tree of 10,000 made-up patients (≈ 43,000 messages) → a fresh SQLite store, end to
# end, with and without write validation, and the dry run (convert + R4 check); the CPU split
# (convert summed over worker threads, store) is printed once per variant.
cargo bench -p tsunagi-gateway --bench ssmix2_ingest 2>&1 | tee "$WORK/ssmix2.txt" >/dev/null
grep -E 'messages/s' "$WORK/ssmix2.txt" || true
awk '/^ssmix2_ingest\// { show = 1; print; next }
     /change:/ { show = 0 }
     show && /^ +(time|thrpt):/ { print }' "$WORK/ssmix2.txt"
