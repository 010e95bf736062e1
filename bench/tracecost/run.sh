#!/usr/bin/env bash
# What tracing costs (BENCHMARKS.md, section 6): the IM chat path and the marketing edge,
# each with tracing off, at the default sampling and at 100%, in one run.
#
#   bench/tracecost/run.sh                       # from anywhere in the repository
#   ROUNDS=3 IM_DURATION=8s bench/tracecost/run.sh
#   MODES='off default drop' PARTS=im bench/tracecost/run.sh
#
# Modes, set per server process:
#   off      OTEL_SDK_DISABLED=true (no-op tracer providers)
#   default  nothing set (chat roots and the edge's reads kept at 0.1, entry spans of the rest
#            recorded; paid and state-changing marketing actions kept)
#   full     --trace-chat-ratio 1 --trace-read-ratio 1 (every trace kept)
#   off2     as off: MODES='off off2' measures the bench's own floor, two identical servers
#   drop     OTEL_TRACES_SAMPLER=parentbased_traceidratio, ARG 0.1: 10% of traces kept,
#            the rest no-op spans (what tracing.Config.DropUnsampled gives chat; it samples
#            marketing at 10% too, so it is meant for PARTS=im)
# The first mode is the baseline of the ratios.
#
# The machine is shared and noisy, so the modes are interleaved: every round runs each
# mode once, in the order of MODES, reversed in every other round. The tables give
# min / median / max over the rounds and the median of the per-round ratios to the baseline.
#
#   im    a fresh `bangbang all --demo` on SQLite per run, `imload chat` unpaced with 500
#         sending connections (section 2.2's best configuration), then one run per mode
#         paced at half the baseline's median rate (section 2.3) for latency.
#   edge  the simulators and logic once (tracing off: they are the same in every mode),
#         one edge per mode, all up at once, exporting over OTLP to an admin process (a
#         separate edge keeps no trace store of its own); `edgeload` closed loop against each edge in
#         turn. Every edgeload call also runs its bare phase (the SOAP call without the
#         edge), a reference for how busy the machine was.
#
# Every process and temporary file is removed on exit, failure or Ctrl-C included.
# Set OUT=file to keep the raw JSON lines of imload and edgeload.
set -euo pipefail

ROUNDS=${ROUNDS:-4}                # interleaved rounds of the modes
read -ra MODES <<<"${MODES:-off default full}"
PARTS=${PARTS:-im edge}            # which benchmarks to run
IM_DURATION=${IM_DURATION:-10s}    # measured window of each imload run (after a 2s warm-up)
IM_DEVICES=${IM_DEVICES:-25}       # sending connections per sender user (20 users)
EDGE_DURATION=${EDGE_DURATION:-4s} # measured window of each edgeload phase (after 1s)
EDGE_ACTION=${EDGE_ACTION:-GetCreditBalance}
EDGE_CONCURRENCY=${EDGE_CONCURRENCY:-32}
PORT=${PORT:-19000}                # first of the loopback ports used: PORT .. PORT+19+2×modes
OUT=${OUT:-}

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tracecost.XXXXXX")
RESULTS=$WORK/results.tsv # part mode round figures…
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# start NAME MODE ARGS…: runs bangbang ARGS in MODE in the background; sets STARTED to its pid.
# EXTRA holds variables for the processes started next (an array: set it, start, reset it).
EXTRA=()
start() {
	local name=$1 mode=$2
	shift 2
	local env=(env -u OTEL_SDK_DISABLED -u OTEL_TRACES_SAMPLER -u OTEL_TRACES_SAMPLER_ARG
		-u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_TRACES_ENDPOINT -u REDIS_ADDR -u DATABASE_URL
		"${EXTRA[@]}")
	case $mode in
	off | off2) env+=(OTEL_SDK_DISABLED=true) ;;
	default) ;;
	full) set -- "$@" --trace-chat-ratio 1 --trace-read-ratio 1 ;;
	drop) env+=(OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1) ;;
	*) echo "unknown mode $mode" >&2 && return 1 ;;
	esac
	"${env[@]}" "$WORK/bb" "$@" --log-level warn >"$WORK/$name.log" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}

# stop PID: ends a process started here and waits for it.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# ready URL PID NAME: waits until URL answers anything over HTTP, for at most 30 s.
ready() {
	local i
	for i in $(seq 300); do
		if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
		if ! kill -0 "$2" 2>/dev/null; then break; fi
		sleep 0.1
	done
	echo "$3 did not come up; its log:" >&2
	cat "$WORK/$3.log" >&2
	return 1
}

# order ROUND: the modes in the order of that round.
order() {
	if (($1 % 2 == 1)); then echo "${MODES[@]}"; else printf '%s\n' "${MODES[@]}" | tac | xargs; fi
}

keep() { if [[ -n $OUT ]]; then echo "$1" >>"$OUT"; fi; }

has() { [[ " $PARTS " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------
say "building into $WORK"
(cd "$REPO" && go build -o "$WORK/bb" ./cmd/bangbang && go build -o "$WORK/imload" ./bench/imload &&
	go build -o "$WORK/edgeload" ./bench/edgeload)
say "commit $(git -C "$REPO" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
touch "$RESULTS"

# imrun MODE ROUND IMLOAD-FLAGS…: one chat run on a fresh server and data directory.
imrun() {
	local mode=$1 round=$2
	shift 2
	local data=$WORK/im-data
	mkdir -p "$data"
	start im "$mode" all --demo --data-dir "$data" --io goroutine \
		--tcp-addr 127.0.0.1:$PORT --ws-addr 127.0.0.1:$((PORT + 1)) \
		--edge-addr 127.0.0.1:$((PORT + 2)) --admin-addr 127.0.0.1:$((PORT + 3)) \
		--sim-housing-addr 127.0.0.1:$((PORT + 4)) --sim-recruitment-addr 127.0.0.1:$((PORT + 5)) \
		--sim-account-addr 127.0.0.1:$((PORT + 6))
	local pid=$STARTED
	ready "http://127.0.0.1:$((PORT + 3))/healthz" "$pid" im
	local load json
	load=$(cut -d' ' -f1 /proc/loadavg)
	json=$("$WORK/imload" chat --pairs 20 --devices "$IM_DEVICES" --warmup 2s --duration "$IM_DURATION" \
		--edge "http://127.0.0.1:$((PORT + 2))" --server-pid "$pid" "$@" 2>>"$WORK/imload.log" | tail -n 1)
	stop "$pid"
	rm -rf "$data"
	keep "$json"
	# stored/s, stored p50, stored p99, delivered p99 (ms), server µs per message, load, failures
	jq -r --arg p "$IM_PART" --arg m "$mode" --arg r "$round" --arg l "$load" \
		'[$p, $m, $r, .stored_per_sec, .send_to_stored.p50_ms, .send_to_stored.p99_ms,
		  .send_to_delivered.p99_ms, (.server_cpu_cores * 1e6 / .stored_per_sec), $l,
		  .undelivered + .conn_errors + ((.errors // {}) | add // 0)] | @tsv' <<<"$json" >>"$RESULTS"
	say "$IM_PART $mode round $round: $(tail -n 1 "$RESULTS" | cut -f4) msg/s"
}

if has im; then
	say "IM chat, unpaced, $((20 * IM_DEVICES)) sending connections, $ROUNDS rounds"
	IM_PART=im
	for round in $(seq "$ROUNDS"); do
		for mode in $(order "$round"); do
			imrun "$mode" "$round" --conn-rate 0
		done
	done
	half=$(awk -F'\t' -v m="${MODES[0]}" '$1 == "im" && $2 == m { print $4 }' "$RESULTS" | sort -n |
		awk '{ v[NR] = $1 } END { x = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f", x / 2 }')
	say "IM chat paced at $half msg/s (half the ${MODES[0]} median), one run per mode"
	IM_PART=paced
	for mode in "${MODES[@]}"; do
		imrun "$mode" 1 --rate "$half"
	done
fi

# ---------------------------------------------------------------------------------------
if has edge; then
	say "Edge, $EDGE_ACTION, closed loop at concurrency $EDGE_CONCURRENCY, $ROUNDS rounds"
	SECRET=tracecost-bench-secret-0123456789abcdef
	mkdir -p "$WORK/logic-data"
	start sim off sim --sim-housing-addr 127.0.0.1:$((PORT + 10)) \
		--sim-recruitment-addr 127.0.0.1:$((PORT + 11)) --sim-account-addr 127.0.0.1:$((PORT + 12))
	SIM_PID=$STARTED
	start logic off logic --data-dir "$WORK/logic-data" --demo --token-secret "$SECRET" \
		--logic-addr 127.0.0.1:$((PORT + 13)) --metrics-addr 127.0.0.1:$((PORT + 14))
	ready "http://127.0.0.1:$((PORT + 10))/" "$SIM_PID" sim
	ready "http://127.0.0.1:$((PORT + 14))/healthz" "$STARTED" logic
	HOUSING=http://127.0.0.1:$((PORT + 10))/soap/housing/v1
	ACCOUNT=http://127.0.0.1:$((PORT + 12))/soap/account/v1
	# A separate edge keeps no trace store: it exports over OTLP, here to an admin process
	# as a cluster does, so the export's cost (batching, protobuf, HTTP) is counted.
	ADMIN_KEY=tracecost-admin-key-0123456789
	EXTRA=(BANGBANG_ADMIN_KEY=$ADMIN_KEY)
	start admin off admin --admin-addr 127.0.0.1:$((PORT + 15))
	ready "http://127.0.0.1:$((PORT + 15))/healthz" "$STARTED" admin
	EXTRA=(OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$((PORT + 15)) OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
		"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20$ADMIN_KEY")
	declare -A EDGE_PID EDGE_URL
	p=$((PORT + 20))
	for mode in "${MODES[@]}"; do
		mkdir -p "$WORK/edge-$mode"
		start "edge-$mode" "$mode" edge --data-dir "$WORK/edge-$mode" --edge-addr 127.0.0.1:$p \
			--metrics-addr 127.0.0.1:$((p + 1)) --logic-addr 127.0.0.1:$((PORT + 13)) --token-secret "$SECRET" \
			--housing-url "$HOUSING" --account-url "$ACCOUNT" \
			--recruitment-url "http://127.0.0.1:$((PORT + 11))/soap/recruitment/v1" \
			--tcp-addr 127.0.0.1:$PORT --ws-addr 127.0.0.1:$((PORT + 1)) --rate-limits 'read=100000/1s:10000,login=100000/1s:10000,login-addr=100000/1s:10000'
		EDGE_PID[$mode]=$STARTED
		EDGE_URL[$mode]=http://127.0.0.1:$p
		ready "http://127.0.0.1:$((p + 1))/healthz" "$STARTED" "edge-$mode"
		p=$((p + 2))
	done
	EXTRA=()
	for round in $(seq "$ROUNDS"); do
		for mode in $(order "$round"); do
			load=$(cut -d' ' -f1 /proc/loadavg)
			json=$("$WORK/edgeload" --edge "${EDGE_URL[$mode]}" --edge-pid "${EDGE_PID[$mode]}" --sim-pid "$SIM_PID" \
				--housing-url "$HOUSING" --account-url "$ACCOUNT" --action "$EDGE_ACTION" \
				--concurrency "$EDGE_CONCURRENCY" --warmup 1s --duration "$EDGE_DURATION" --rounds 1 \
				2>>"$WORK/edgeload.log" | tail -n 1)
			keep "$json"
			# edge actions/s, p50, p99 (ms), edge µs per action, bare actions/s, load, failures
			jq -r --arg m "$mode" --arg r "$round" --arg l "$load" \
				'(.phases | map({(.name): .}) | add) as $p |
				 ["edge", $m, $r, $p.edge.actions_per_sec, $p.edge.latency.p50_ms, $p.edge.latency.p99_ms,
				  $p.edge.cpu_us_per_action.edge, $p.bare.actions_per_sec, $l,
				  $p.edge.failed + $p.edge.limited_429] | @tsv' <<<"$json" >>"$RESULTS"
			say "edge $mode round $round: $(tail -n 1 "$RESULTS" | cut -f4) actions/s"
		done
	done
fi

# ---------------------------------------------------------------------------------------
# table TITLE PART COLUMN: per mode min / median / max of COLUMN over the rounds, and the
# median over rounds of COLUMN divided by the baseline's COLUMN in the same round.
table() {
	grep -q "^$2	" "$RESULTS" || return 0
	printf '\n%s\n\n| mode | min | median | max | ratio to %s (median of rounds) |\n| --- | ---: | ---: | ---: | ---: |\n' "$1" "${MODES[0]}"
	awk -F'\t' -v part="$2" -v col="$3" -v modes="${MODES[*]}" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		$1 == part { val[$2, $3] = $col; rounds[$3] = 1 }
		END {
			k = split(modes, m, " ")
			for (i = 1; i <= k; i++) {
				delete a; delete q; n = 0; nq = 0
				for (r in rounds) if ((m[i], r) in val) {
					a[++n] = val[m[i], r]
					if (val[m[1], r] > 0) q[++nq] = val[m[i], r] / val[m[1], r]
				}
				if (n == 0) continue
				x = median(a, n)
				printf "| %s | %.1f | %.1f | %.1f | %.3f |\n", m[i], a[1], x, a[n], nq ? median(q, nq) : 0
			}
		}' "$RESULTS"
}

echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
table "IM chat, stored msg/s (unpaced)" im 4
table "IM chat, delivered p99 ms (unpaced)" im 7
table "IM chat, server CPU µs per message (unpaced)" im 8
table "Edge $EDGE_ACTION, actions/s" edge 4
table "Edge, edge CPU µs per action" edge 7
table "Edge, p99 ms" edge 6
table "Edge run's bare phase, actions/s (how busy the machine was)" edge 8
if has im; then
	printf '\nIM chat paced at %s msg/s, one run per mode\n\n' "$half"
	printf '| mode | stored/s | stored p50 ms | stored p99 ms | delivered p99 ms | server µs/msg | load |\n'
	printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
	awk -F'\t' '$1 == "paced" { printf "| %s | %.0f | %.2f | %.2f | %.2f | %.1f | %s |\n", $2, $4, $5, $6, $7, $8, $9 }' "$RESULTS"
fi
printf '\nEvery run (part, mode, round, figures…, load at start, failures):\n\n'
cat "$RESULTS"
