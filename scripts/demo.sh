#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` shows, run inside the test VM (selftests/vm/run.sh) with
# portredir.ko loaded: a service on port 8080 answering connections made to
# port 80, from this host and from a second host (a network namespace behind
# a veth pair).

set -u
cd "$(dirname "$0")/.."
PATH=$PWD/tools:$PATH

say() { printf '\n# %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}
# connect WANT CMD...: show CMD and its answer; the demo fails when the
# answer is not WANT ("" for none).
status=0
connect() {
	local want=$1 out
	shift
	printf '$ %s\n' "$*"
	out=$("$@" 2>/dev/null </dev/null)
	echo "${out:-(no answer: connection refused)}"
	if [[ $out != "$want" ]]; then
		echo "!! expected: ${want:-no answer}"
		status=1
	fi
}
hello="hello from the service on port 8080"

say "Linux $(uname -r) in QEMU; portredir.ko loaded: $([[ -d /sys/module/portredir ]] && echo yes || echo no)"

say "A second host, 'client', reaches this one over a veth pair:"
ip netns add client
ip link add veth0 type veth peer name veth0 netns client
ip addr add 192.0.2.2/24 dev veth0
ip link set veth0 up
ip -n client addr add 192.0.2.1/24 dev veth0
ip -n client link set veth0 up
ip -n client link set lo up
echo "  client 192.0.2.1 <---> 192.0.2.2 this host"

say "An unprivileged service listens on port 8080; nothing listens on 80:"
socat TCP6-LISTEN:8080,fork,reuseaddr,ipv6only=0 SYSTEM:'echo "hello from the service on port 8080"' &
listener=$!
for _ in $(seq 50); do
	[[ -n $(ss -Hlnt 'sport = :8080') ]] && break
	sleep 0.1
done
run ss -Hlnt 'sport = :8080'
connect "" timeout 5 socat -T 3 -t 3 - TCP:127.0.0.1:80

say "Redirect port 80 to 8080:"
run portredir add 80 8080 || status=1
run portredir list

say "A local connection to port 80 is answered by the service on 8080:"
connect "$hello" timeout 5 socat -T 3 -t 3 - TCP:127.0.0.1:80
say "And so is one from the client host:"
connect "$hello" timeout 5 ip netns exec client socat -T 3 -t 3 - TCP:192.0.2.2:80

say "The counter shows both connections:"
run portredir list

say "Remove the rule; port 80 is closed again:"
run portredir del 80
connect "" timeout 5 socat -T 3 -t 3 - TCP:127.0.0.1:80

kill "$listener"
ip netns del client
exit $status
