#!/usr/bin/env bash
# t_manpages.sh — the manual pages and the bash completion that `make install` installs.
#
# Checks:
#  - `make install DESTDIR=... PREFIX=/usr` puts netcon.1 and netcon-exec.1 (built from
#    man/*.scd by scdoc) in usr/share/man/man1, the completion in
#    usr/share/bash-completion/completions/netcon, the JSON schema and its page in
#    usr/share/doc/netcon, beside bin/netcon and lib/netcon/{libnetcon.so,netcon-exec};
#  - `man -l` renders each page with no groff warning (--warnings), with its NAME line;
#  - every flag that `netcon --help`, `netcon CMD --help` (each command) and
#    `netcon-exec --help` print appears in the rendered page;
#  - the completion, sourced into bash and driven through COMP_WORDS: the commands, each
#    command's own options (those in its usage line and its option lines) and nothing
#    that is not in its --help, values for --link, --mode and --log-level, files after
#    --pcap.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built
require_cmd scdoc man make

D=$NC_TMP/root
log make -s -C "$NC_ROOT" install DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" >/dev/null
for f in usr/bin/netcon usr/lib/netcon/libnetcon.so usr/lib/netcon/netcon-exec \
	usr/share/man/man1/netcon.1 usr/share/man/man1/netcon-exec.1 \
	usr/share/bash-completion/completions/netcon usr/share/doc/netcon/status-json.md \
	usr/share/doc/netcon/status-json.schema.json; do
	[ -s "$D/$f" ] || fail "make install did not install $f"
done
note "ok: make install put the pages, the completion and the schema in place"

# render PAGE — the page as plain text (wide: no line breaks inside a flag).
render() {
	MANWIDTH=250 man --warnings -l "$1" 2>"$NC_TMP/man.err" | col -b
	[ ! -s "$NC_TMP/man.err" ] || fail "man -l $1 warned: $(cat "$NC_TMP/man.err")"
}
render "$D/usr/share/man/man1/netcon.1" >"$NC_TMP/netcon.txt"
render "$D/usr/share/man/man1/netcon-exec.1" >"$NC_TMP/netcon-exec.txt"
grep -q '^ *netcon - put unmodified programs on a virtual network' "$NC_TMP/netcon.txt" ||
	fail "netcon.1 has no NAME line"
grep -q '^ *netcon-exec - run a program' "$NC_TMP/netcon-exec.txt" || fail "netcon-exec.1 has no NAME line"
note "ok: man -l renders both pages without a warning"

# flags CMD... — the flags a --help text mentions.
# Long options and short ones (-w, and tcpdump's -r the texts show), not words with a dash.
optnames() { grep -oE '(^|[ [(`])--?[a-z][a-z0-9-]*' | sed 's/^[ [(`]//' | sort -u; }
flags() { "$@" --help | optnames; }
n=0
for cmd in "" service run intercept show status container-flags capture; do
	for f in $(flags "$NETCON" $cmd) --version --help; do
		grep -q -e "$f\b" "$NC_TMP/netcon.txt" || fail "netcon ${cmd:+$cmd }--help names $f; netcon.1 does not"
		n=$((n + 1))
	done
done
for f in $(flags "$BUILD/netcon-exec"); do
	grep -q -e "$f\b" "$NC_TMP/netcon-exec.txt" || fail "netcon-exec --help names $f; netcon-exec.1 does not"
	n=$((n + 1))
done
note "ok: all $n flags of the --help texts are in the pages"

# ---- bash completion -------------------------------------------------------------------
# complete WORDS... — what the completion offers for the last word.
complete_words() {
	bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=(netcon "$@"); COMP_CWORD=$#
		_netcon; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$D/usr/share/bash-completion/completions/netcon" "$@"
}
got=$(complete_words "" | tr '\n' ' ')
assert_eq "--help --version capture container-flags intercept run service show status " "$got" "commands completed"
for cmd in service run intercept show status container-flags capture; do
	offered=$(complete_words "$cmd" "-")
	all=$(flags "$NETCON" "$cmd")
	# The command's own options: in its usage line, or at the head of an option line.
	own=$("$NETCON" "$cmd" --help | { grep -E '^usage:|^  --' || true; } |
		sed 's/ --  *[A-Z].*//' | optnames)
	for f in $own; do
		grep -qx -- "$f" <<<"$offered" || fail "completion of '$cmd -' lacks $f"
	done
	for f in $offered; do
		[ "$f" = --help ] || [ "$cmd $f" = "run --mode" ] || grep -qx -- "$f" <<<"$all" ||
			fail "completion of '$cmd -' offers $f, which $cmd --help does not name"
	done
	note "ok: $cmd: $(wc -w <<<"$own") options of its --help completed, none other"
done
assert_eq "tap vxlan wireguard " "$(complete_words service --link "" | tr '\n' ' ')" "values of --link"
assert_eq "auto preload seccomp " "$(complete_words intercept --mode "" | tr '\n' ' ')" "values of --mode"
assert_eq "debug error info warn " "$(complete_words run --log-level "" | tr '\n' ' ')" "values of --log-level"
touch "$NC_TMP/cap-one.pcap"
assert_eq "$NC_TMP/cap-one.pcap" "$(complete_words service --pcap "$NC_TMP/cap-")" "a file after --pcap"
