#!/usr/bin/env bash
# A bangbang cluster on one machine: etcd, two logic nodes and two gateways on their own
# loopback addresses, the edge, the staff API (admin), the campaign worker and the third
# parties' stand-ins (sim), on the real PostgreSQL and Redis.
#
#   deploy/local/cluster.sh up       build bangbang, start everything, wait until ready
#   deploy/local/cluster.sh status   which processes run, and their /readyz
#   deploy/local/cluster.sh down     stop everything (SIGTERM, then SIGKILL after 20 s)
#   deploy/local/cluster.sh kill N   kill -9 one process (logic-1, gateway-2, …), for drills
#
# Environment (defaults in brackets):
#   DATABASE_URL  [postgres://postgres@127.0.0.1:5432/test?sslmode=disable]
#   REDIS_ADDR    [127.0.0.1:6379]
#   CLUSTER_NET   [127.0.0.2]  the first three octets of the nodes' addresses: etcd, the
#                 edge, admin, campaign and sim on NET.1, logic on NET.11 and NET.12,
#                 gateways on NET.21 and NET.22 (every port is the default one)
#   CLUSTER_DIR   [./data/cluster]  pids, logs, etcd's data, the shared token secret
#   CLUSTER_BIN  [built into CLUSTER_DIR]  the binary to run
#   LOGIC_NODES, GATEWAY_NODES  [2, 2]  how many of each (1..9; NET.1N and NET.2N)
#   DEMO_USERS   [20]  merchants m1001… and customers c1001… seeded, as many of each
#   BANGBANG_ADMIN_KEY  [generated into CLUSTER_DIR/admin-key]
#
# etcd comes from Debian's etcd-server package, installed when missing (apt-get, as root).
set -euo pipefail

cmd=${1:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
net=${CLUSTER_NET:-127.0.2}
dir=${CLUSTER_DIR:-$root/data/cluster}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export REDIS_ADDR=${REDIS_ADDR:-127.0.0.1:6379}
export ETCD_ENDPOINTS=$net.1:2379
logics=${LOGIC_NODES:-2}
gateways=${GATEWAY_NODES:-2}
demo_users=${DEMO_USERS:-20}
[ "$logics" -ge 1 ] && [ "$logics" -le 9 ] && [ "$gateways" -ge 1 ] && [ "$gateways" -le 9 ] ||
	{ echo "cluster: LOGIC_NODES and GATEWAY_NODES must be 1..9" >&2; exit 1; }

die() { echo "cluster: $*" >&2; exit 1; }

# The processes, in start order: name, ready address, command line.
procs() {
	echo "etcd $net.1:2379 env -u ETCD_ENDPOINTS etcd --name bangbang --data-dir $dir/etcd --listen-client-urls http://$net.1:2379 --advertise-client-urls http://$net.1:2379 --listen-peer-urls http://$net.1:2380 --initial-advertise-peer-urls http://$net.1:2380 --initial-cluster bangbang=http://$net.1:2380 --log-level warn"
	echo "sim $net.1:8600 $bin sim --sim-housing-addr $net.1:8600 --sim-recruitment-addr $net.1:8601 --sim-account-addr $net.1:8602"
	for i in $(seq 1 "$logics"); do
		echo "logic-$i $net.1$i:8900 $bin logic --data-dir $dir/data --logic-addr $net.1$i:8900 --metrics-addr $net.1$i:8902 $([ "$i" = 1 ] && echo "--demo --demo-users $demo_users")"
	done
	for i in $(seq 1 "$gateways"); do
		echo "gateway-$i $net.2$i:8800 $bin gateway --data-dir $dir/data --tcp-addr $net.2$i:8800 --ws-addr $net.2$i:8801 --push-addr $net.2$i:8901 --metrics-addr $net.2$i:8903"
	done
	echo "edge $net.1:8700 $bin edge --data-dir $dir/data --edge-addr $net.1:8700 --metrics-addr $net.1:8702 --tcp-addr $net.21:8800 --ws-addr $net.21:8801 --housing-url http://$net.1:8600 --recruitment-url http://$net.1:8601 --account-url http://$net.1:8602"
	echo "admin $net.1:8701 $bin admin --data-dir $dir/data --admin-addr $net.1:8701"
	echo "campaign $net.1:8904 $bin campaign --data-dir $dir/data --metrics-addr $net.1:8904"
}

# readyz URL of a process, when it has one.
readyz() {
	case $1 in
	logic-*) echo "http://$2/readyz" | sed 's/:8900/:8902/' ;;
	gateway-*) echo "http://$2/readyz" | sed 's/:8800/:8903/' ;;
	edge | admin | campaign) echo "http://$2/readyz" ;;
	esac
}

alive() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

wait_ready() { # name addr
	local url
	url=$(readyz "$1" "$2")
	for _ in $(seq 1 150); do
		alive "$1" || die "$1 exited; see $dir/$1.log"
		if [ -n "$url" ]; then
			curl -fs -o /dev/null "$url" && return 0
		elif (exec 3<>"/dev/tcp/${2%:*}/${2#*:}") 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	die "$1 not ready at ${url:-$2} after 30 s; see $dir/$1.log"
}

up() {
	mkdir -p "$dir/data"
	if ! command -v etcd >/dev/null 2>&1; then
		echo "cluster: installing etcd-server"
		apt-get update -qq && apt-get install -y -qq etcd-server >/dev/null || die "cannot install etcd-server"
	fi
	bin=${CLUSTER_BIN:-}
	if [ -z "$bin" ]; then
		bin=$dir/bangbang
		(cd "$root" && go build -o "$bin" ./cmd/bangbang) || die "build failed"
	fi
	if [ -z "${BANGBANG_ADMIN_KEY:-}" ]; then
		[ -f "$dir/admin-key" ] || echo "bbk_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$dir/admin-key"
		BANGBANG_ADMIN_KEY=$(cat "$dir/admin-key")
	fi
	export BANGBANG_ADMIN_KEY
	# Every process exports its spans to the admin's trace store.
	export OTEL_EXPORTER_OTLP_ENDPOINT=http://$net.1:8701
	export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$BANGBANG_ADMIN_KEY"
	while read -r name addr line; do
		if alive "$name"; then
			echo "cluster: $name already runs"
			continue
		fi
		# shellcheck disable=SC2086 # the command line is split on purpose
		nohup $line >"$dir/$name.log" 2>&1 &
		echo $! >"$dir/$name.pid"
		wait_ready "$name" "$addr"
		echo "cluster: $name ready ($addr)"
	done < <(procs)
	cat <<EOF
cluster: up. Log in at http://$net.1:8700/v1/login (demo users m1001… and c1001…, password
demo): the answer lists both gateways. Staff API http://$net.1:8701 with the key in
$dir/admin-key. Logs and pids in $dir.
EOF
}

down() {
	local names
	# Every process this directory started (whatever LOGIC_NODES and GATEWAY_NODES were
	# then), the last started first.
	names=$(cd "$dir" 2>/dev/null && ls -t -- *.pid 2>/dev/null | sed 's/\.pid$//' || true)
	for name in $names; do
		alive "$name" && kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
	done
	for name in $names; do
		for _ in $(seq 1 100); do alive "$name" || break; sleep 0.2; done
		if alive "$name"; then
			echo "cluster: $name did not stop in 20 s; killing it" >&2
			kill -9 "$(cat "$dir/$name.pid")" 2>/dev/null || true
		fi
		rm -f "$dir/$name.pid"
	done
	echo "cluster: down"
}

status() {
	local url
	while read -r name addr _; do
		if alive "$name"; then
			url=$(readyz "$name" "$addr")
			if [ -z "$url" ]; then
				echo "$name: running ($addr)"
			elif curl -fs -o /dev/null "$url"; then
				echo "$name: ready ($addr)"
			else
				echo "$name: running, not ready ($url)"
			fi
		else
			echo "$name: stopped"
		fi
	done < <(procs)
}

bin=${CLUSTER_BIN:-$dir/bangbang}
case $cmd in
up) up ;;
down) down ;;
status) status ;;
kill)
	[ -n "${2:-}" ] || die "kill needs a process name"
	alive "$2" || die "$2 does not run"
	kill -9 "$(cat "$dir/$2.pid")"
	echo "cluster: $2 killed"
	;;
*) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
