#!/usr/bin/env bash
# c_mariadb.sh — MariaDB server (datadir in the temp dir) under A (namespace with no
# network); the mariadb client under B over TCP.
# program: mariadb-server + mariadb client (the "mysql" row)
# packages: mariadb-server mariadb-client
# checks: TCP login of a user; CREATE TABLE; 10,000 rows inserted; all rows read back byte-exact (sha256), COUNT and SUM
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_built
require_root "mariadbd as root with --user=root"
compat_pkgs mariadb-server mariadb-client
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
d=$NC_TMP/mariadb; mkdir -p "$d/data"
log mariadb-install-db --no-defaults --datadir="$d/data" --user=root --auth-root-authentication-method=socket >"$NC_TMP/install-db.out" 2>&1 ||
	{ tail "$NC_TMP/install-db.out" >&2; fail "mariadb-install-db failed"; }
spawn_in_ns A mariadbd /usr/sbin/mariadbd --no-defaults --datadir="$d/data" --user=root \
	--socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --port="$P" --bind-address=0.0.0.0 \
	--skip-name-resolve --log-error="$d/error.log" --innodb-buffer-pool-size=64M
wait_port B "$COMPAT_NET.1" "$P"
# The grant over the Unix socket (a kernel socket: the intercept leaves AF_UNIX alone).
log mariadb --no-defaults -S "$d/mysqld.sock" -u root -e \
	"CREATE USER 'compat'@'%' IDENTIFIED BY 'pw'; GRANT ALL ON compat.* TO 'compat'@'%'; CREATE DATABASE compat;"
M=(mariadb --no-defaults -h "$COMPAT_NET.1" -P "$P" -u compat -ppw compat)
log under B "${M[@]}" -e "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64), n BIGINT)"
{
	echo "BEGIN;"
	for i in $(seq 1 10000); do
		[ $((i % 500)) = 1 ] && printf 'INSERT INTO t VALUES '
		printf "(%d,'row-%d-%s',%d)" "$i" "$i" "$(printf '%05d' $((i * 7919 % 100000)))" "$((i * i))"
		if [ $((i % 500)) = 0 ]; then echo ";"; else printf ','; fi
	done
	echo "COMMIT;"
} >"$NC_TMP/insert.sql"
NC_TIMEOUT=120 log under B "${M[@]}" <"$NC_TMP/insert.sql"
for i in $(seq 1 10000); do printf "%d\trow-%d-%05d\t%d\n" "$i" "$i" $((i * 7919 % 100000)) $((i * i)); done >"$NC_TMP/want.tsv"
NC_TIMEOUT=60 log under B "${M[@]}" -N -B -e "SELECT id, v, n FROM t ORDER BY id" >"$NC_TMP/got.tsv"
assert_files_equal "$NC_TMP/want.tsv" "$NC_TMP/got.tsv"
assert_eq "10000	$(awk -F'\t' '{ s += $3 } END { printf "%d", s }' "$NC_TMP/want.tsv")" \
	"$(log under B "${M[@]}" -N -B -e "SELECT COUNT(*), SUM(n) FROM t")" "COUNT, SUM"
compat_note "$(/usr/sbin/mariadbd --version | sed 's/ *for .*//')"
note PASS
