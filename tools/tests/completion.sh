#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bash completion offers, for a command line typed so far, the words
# the grammar takes next: each case sets COMP_WORDS and COMP_CWORD, calls
# the completion function in a fresh bash and compares the candidates.
# TAP output.
#
# usage: tests/completion.sh [COMPLETION-FILE]

COMPLETION=${1:-../completion/portredir}
number=0
failed=0

# complete WORD...: the candidates for the last WORD, one line, sorted.
complete_words() {
	bash -c 'source "$0" || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _portredir
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$COMPLETION" "$@"
}

# expect "WANT" WORD...: exactly these candidates (sorted, space separated);
# expect "~WORD WORD" WORD...: these among them.
expect() {
	local want=$1 got missing='' word
	shift
	got=$(complete_words portredir "$@")
	if [[ $want == "~"* ]]; then
		for word in ${want#"~"}; do
			[[ " $got" == *" $word "* ]] || missing+=" $word"
		done
		[[ -z $missing ]]
	else
		[[ "$got" == "$(printf '%s\n' $want | sort | tr '\n' ' ')" ]]
	fi
	report $? "portredir $* <TAB>: ${want}" "got: $got"
}

report() {
	number=$((number + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $number - $2"
	else
		failed=$((failed + 1))
		echo "not ok $number - $2"
		echo "# $3"
	fi
}

expect "add del list flush save restore monitor status ports help" ""
expect "restore" re
expect "--backend" --b
expect "--keep-conntrack" --k
expect "auto kmod nft" --backend ""
expect "add" -b nft -j a
expect "~tcp udp sctp http ssh domain" add ""
expect "domain domain-s" add udp dom
expect "~to domain ntp" add udp domain ""
expect "~to http-alt" add 80 ""
expect "-4 -6 --inbound --local dev --steer" add 80 8080 ""
expect "--inbound --local dev --steer" add 80 to 8080 -4 ""
expect "-4 -6 --steer" add 80 8080 --local -
expect "-4 -6 --inbound --local dev" add udp 53 5353 ""
expect "-4 -6 --inbound --local dev" add 80 8080 --steer ""
expect "-4 -6 --inbound --local dev" del udp 53 ""
expect "~lo" add 80 8080 dev ""
expect "well-known registered dynamic" ports --class ""
expect "tcp udp sctp -4 -6 --class" ports ""
expect "/etc/services" restore /etc/servi
expect "" list ""

echo "$((number - failed)) passed, $failed failed"
((failed == 0))
