#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Living with nftables: the administrator's rules and another table's NAT
# left alone (and warned about), `nft flush ruleset` by someone else, a
# table of our name made by someone else, the nft backend's ruleset read
# back by nft, and an interrupted restore's leftovers.
#
# Every scenario runs once per backend in $BACKEND ("kmod nft" by default);
# the topology is drawn at the top of lib.sh.
#
#   BACKEND=nft ./nft.sh          one backend
#   ./nft.sh NAME...              only the scenarios named (./nft.sh --list)

source "$(dirname "$0")/lib.sh"

# The namespace's nftables ruleset without the nft backend's own table.
foreign_ruleset() {
	in_ns "$1" nft list ruleset |
		awk '/^table inet portredir \{/ { ours = 1 } !ours { print } ours && /^\}/ { ours = 0 }'
}

expect_foreign_unchanged() {
	foreign_ruleset "$SERVER" >"$TMP_DIR/foreign.now"
	diff -u "$TMP_DIR/foreign.before" "$TMP_DIR/foreign.now" >"$TMP_DIR/foreign.diff" ||
		fail "'$1' changed the administrator's nftables rules: $(cat "$TMP_DIR/foreign.diff")"
}

# An administrator's own tables, NAT included, are the same before and after
# every command, and both redirect side by side.
foreign_rules_untouched() {
	local verb
	setup_topology
	cmd_ok in_ns "$SERVER" nft -f - <<-EOF
		table inet admin {
			chain input {
				type filter hook input priority filter; policy accept;
				tcp dport 22 counter accept
			}
		}
		table ip nat {
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				tcp dport 2222 redirect to :8081
			}
		}
	EOF
	foreign_ruleset "$SERVER" >"$TMP_DIR/foreign.before"
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	printf 'tcp 80 to 8080\nudp 53 to 5353 -4\n' >"$TMP_DIR/rules"
	while IFS= read -r verb; do
		# shellcheck disable=SC2086
		cmd_ok pr "$SERVER" $verb
		expect_foreign_unchanged "$verb"
	done <<-EOF
		add 80 8080
		add 443 8443 -6 --inbound
		list
		del 443 -6 --inbound
		save
		restore $TMP_DIR/rules
		status
	EOF
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" "$SERVER_IP4" 2222 srv8081
	cmd_ok pr "$SERVER" flush
	expect_foreign_unchanged flush
	expect_answer "$CLIENT" "$SERVER_IP4" 2222 srv8081
}

# Another table's DNAT of a port we redirect decides first (portredir sits
# right after dstnat; at the same priority the hook registered last, ours,
# would run first). add and status name its table and chain, and succeed.
foreign_nat_warned() {
	local warning="tcp 80: table ip nat chain PREROUTING also translates port 80 and runs first"
	setup_topology
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	cmd_ok in_ns "$SERVER" nft -f - <<-EOF
		table ip nat {
			chain PREROUTING {
				type nat hook prerouting priority dstnat; policy accept;
				tcp dport 80 dnat to $SERVER_IP4:8081
			}
		}
	EOF
	cmd_ok pr "$SERVER" add 80 8080
	grep -qxF "portredir: warning: $warning" "$TMP_DIR/err" ||
		fail "add did not warn '$warning': $(cat "$TMP_DIR/err")"
	cmd_ok pr "$SERVER" status
	grep -qxF "warning: $warning" "$TMP_DIR/out" ||
		fail "status did not warn '$warning': $(cat "$TMP_DIR/out")"
	cmd_ok pr "$SERVER" add 81 8080
	grep -q "table ip nat" "$TMP_DIR/err" && fail "add of port 81 warned: $(cat "$TMP_DIR/err")"
	# Theirs takes IPv4 from the network; IPv6 and local traffic are ours.
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8081
	expect_answer "$CLIENT" "$SERVER_IP6" 80 srv8080
	expect_answer "$SERVER" 127.0.0.1 80 srv8080
}

# `nft flush ruleset` (as in many nftables.conf) takes the nft backend's
# table with it; the tool then shows that and starts over cleanly. The
# module's rules are not nftables objects and stay.
nft_flush_ruleset() {
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok in_ns "$SERVER" nft flush ruleset
	cmd_ok pr "$SERVER" list
	if [[ $BACKEND == kmod ]]; then
		rule_count_is 1
		expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	else
		rule_count_is 0
		expect_answer "$CLIENT" "$SERVER_IP4" 80 none
	fi
	cmd_ok pr "$SERVER" flush
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
}

# A table inet portredir that the nft backend did not make (dormant, say:
# its chains would see no packet) is refused by every command, with what is
# wrong with it, and left as it was; once it is gone, rules work again.
foreign_table_refused() {
	local table why verb
	[[ $BACKEND == nft ]] || skip "the module keeps no nftables table"
	setup_topology
	listen "$SERVER" 8080
	for table in "flags dormant;" 'comment "mine";'; do
		why="it has a comment or user data other than portredir gives it"
		[[ $table == flags* ]] && why="it has flag dormant, so its chains see no packet"
		cmd_ok in_ns "$SERVER" nft add table inet portredir "{ $table }"
		in_ns "$SERVER" nft list ruleset >"$TMP_DIR/ruleset.before"
		for verb in "add 80 8080" "del 80" list save status flush "restore /dev/null"; do
			# shellcheck disable=SC2086 # the verb and its words
			cmd_fail 1 "~^portredir: .*table inet portredir was made or changed outside portredir: $why; \`nft delete table inet portredir\` starts over$" \
				pr "$SERVER" $verb
		done
		in_ns "$SERVER" nft list ruleset | diff -u "$TMP_DIR/ruleset.before" - >"$TMP_DIR/diff" ||
			fail "a refused command changed table inet portredir: $(cat "$TMP_DIR/diff")"
		expect_answer "$CLIENT" "$SERVER_IP4" 80 none
		cmd_ok in_ns "$SERVER" nft delete table inet portredir
	done
	cmd_ok pr "$SERVER" add 80 8080
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
}

# refused_because WHY: list is refused, naming WHY (a regular expression).
refused_because() {
	cmd_fail 1 "~^portredir: list: table inet portredir was made or changed outside portredir: $1; \`nft delete table inet portredir\` starts over$" \
		pr "$SERVER" list
}

# What `nft list ruleset` prints of the table, saved to a file as for
# /etc/nftables.conf, is read back by `nft -f` after `nft flush ruleset`:
# the same rules, the same listing, and the tool goes on with them. The
# loopback guard heads chain prerouting, or the table is refused.
nft_listing_reads_back() {
	local handle
	[[ $BACKEND == nft ]] || skip "the module's rules are not in the nftables ruleset"
	setup_topology
	listen "$SERVER" 8080
	cmd_ok pr "$SERVER" add 80 8080
	cmd_ok pr "$SERVER" add 81-83 8080
	cmd_ok pr "$SERVER" add 8000-8009 to 9000-9009
	cmd_ok pr "$SERVER" add udp 53 5353 -4
	cmd_ok pr "$SERVER" add 443 8443 -6
	cmd_ok pr "$SERVER" add 84 8080 -4 --inbound
	cmd_ok pr "$SERVER" add 85 8080 --local
	cmd_ok pr "$SERVER" add 86 8080 dev veth0
	list_rules_only >"$TMP_DIR/list.before"
	[[ $(lines "$TMP_DIR/list.before") == 8 ]] || fail "list shows: $(cat "$TMP_DIR/list.before")"
	in_ns "$SERVER" nft list ruleset >"$TMP_DIR/ruleset" || fail "nft list ruleset failed"
	cmd_ok in_ns "$SERVER" nft flush ruleset
	cmd_ok in_ns "$SERVER" nft -f "$TMP_DIR/ruleset"
	in_ns "$SERVER" nft list ruleset | diff -u "$TMP_DIR/ruleset" - >"$TMP_DIR/diff" ||
		fail "nft -f of the listing lists differently: $(cat "$TMP_DIR/diff")"
	list_rules_only | diff -u "$TMP_DIR/list.before" - >"$TMP_DIR/diff" ||
		fail "after nft -f of the listing, list shows other rules: $(cat "$TMP_DIR/diff")"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" "$SERVER_IP6" 82 srv8080
	expect_answer "$CLIENT" "$SERVER_IP4" 84 srv8080
	expect_answer "$CLIENT" "$SERVER_IP6" 86 srv8080
	expect_answer "$SERVER" 127.0.0.1 85 srv8080
	cmd_ok pr "$SERVER" restore <<<"tcp 87 to 8080"
	expect_answer "$CLIENT" "$SERVER_IP4" 87 srv8080
	# Without its guard, or with it after a map rule, the table is refused.
	handle=$(in_ns "$SERVER" nft -a list chain inet portredir prerouting |
		sed -n 's/^[[:space:]]*ip daddr 127.0.0.0\/8 return # handle \([0-9]*\)$/\1/p')
	[[ -n $handle ]] || fail "chain prerouting has no guard: $(in_ns "$SERVER" nft list chain inet portredir prerouting)"
	cmd_ok in_ns "$SERVER" nft delete rule inet portredir prerouting handle "$handle"
	refused_because "chain prerouting does not start with \`ip daddr 127.0.0.0/8 return\`"
	cmd_ok in_ns "$SERVER" nft add rule inet portredir prerouting ip daddr 127.0.0.0/8 return
	refused_because "chain prerouting has its loopback guard \(handle [0-9]+\) after other rules"
}

# An interrupted restore leaves, from its first step, a filled map that no
# chain rule looks up yet (tools/backends/nft/nft_txn.h). Commands go on as
# if it were not there, and the next change deletes it.
nft_restore_leftovers() {
	[[ $BACKEND == nft ]] || skip "the module's table has no maps"
	setup_topology
	listen "$SERVER" 8080
	listen "$SERVER" 8081
	cmd_ok pr "$SERVER" restore <<<"tcp 80 to 8080"
	in_ns "$SERVER" nft list map inet portredir redir_tcp >"$TMP_DIR/map" ||
		fail "no map redir_tcp after restore: $(in_ns "$SERVER" nft list ruleset)"
	sed -e 's/map redir_tcp /map redir_tcp_alt /' \
		-e 's/elements = {.*}/elements = { 80 : 8081, 81 : 8081 }/' \
		"$TMP_DIR/map" >"$TMP_DIR/spare"
	cmd_ok in_ns "$SERVER" nft -f "$TMP_DIR/spare"
	[[ $(list_rules_only | wc -l) == 1 && $(list_rules_only) == *"-> 8080 "* ]] ||
		fail "with a spare map, list shows: $(list_rules_only)"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8080
	expect_answer "$CLIENT" "$SERVER_IP4" 81 none
	cmd_ok pr "$SERVER" add 82 8081
	in_ns "$SERVER" nft list ruleset | grep -q redir_tcp_alt &&
		fail "add left the spare map: $(in_ns "$SERVER" nft list ruleset | grep -E 'map|@')"
	[[ $(list_rules_only | wc -l) == 2 ]] || fail "after add, list shows: $(list_rules_only)"
	# The name a restore's new map takes may still be held by a spare.
	cmd_ok in_ns "$SERVER" nft -f "$TMP_DIR/spare"
	cmd_ok pr "$SERVER" restore <<<"tcp 80 to 8081"
	[[ $(list_rules_only | wc -l) == 1 ]] || fail "after restore, list shows: $(list_rules_only)"
	expect_answer "$CLIENT" "$SERVER_IP4" 80 srv8081
	expect_answer "$CLIENT" "$SERVER_IP4" 82 none
}

# name function arguments...
readonly CASES=(
	"administrator's nftables rules untouched|foreign_rules_untouched"
	"another table's DNAT of our port runs first and is warned about|foreign_nat_warned"
	"nft flush ruleset by someone else|nft_flush_ruleset"
	"a table inet portredir made by someone else is refused|foreign_table_refused"
	"nft -f reads back what nft list ruleset prints|nft_listing_reads_back"
	"an interrupted restore's maps are ignored, then deleted|nft_restore_leftovers"
)

run_topic "$@"
