#!/usr/bin/env bash
# c_postgresql.sh — PostgreSQL (a fresh cluster in the temp dir, run as the postgres user)
# under A (namespace with no network); psql and pgbench under B.
# program: postgresql + psql, pgbench
# packages: postgresql
# checks: psql over TCP: a table, 10,000 rows via generate_series, aggregates read back; pgbench -i, then pgbench -c 8 -j 2 -t 500: 4000/4000 transactions, 0 failed
# timeout: 300
. "$(dirname "$0")/lib.sh"
require_built
require_root "postgres runs as the postgres user"
compat_pkgs postgresql postgresql-contrib
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
# postgres runs as its own user: its control socket must be open to it.
start_pair "$COMPAT_NET" --socket-mode 0666
P=$(free_tcp_port)
d=$NC_TMP/pg; mkdir -p "$d/sock"
chown -R postgres:postgres "$d"
AS_PG=(setpriv --reuid postgres --regid postgres --init-groups --)
log "${AS_PG[@]}" "$bin/initdb" -D "$d/data" -U postgres --auth=trust >"$NC_TMP/initdb.out" 2>&1 ||
	{ tail "$NC_TMP/initdb.out" >&2; fail "initdb failed"; }
echo "host all all 0.0.0.0/0 trust" >>"$d/data/pg_hba.conf"
spawn_in_ns A postgres "${AS_PG[@]}" "$bin/postgres" -D "$d/data" -p "$P" \
	-c listen_addresses=0.0.0.0 -c unix_socket_directories="$d/sock" -c max_connections=40 -c fsync=off
wait_port B "$COMPAT_NET.1" "$P"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$COMPAT_NET.1" -p "$P" -U postgres -d postgres)
log under B "${PSQL[@]}" -c "CREATE TABLE t (id int PRIMARY KEY, v text)" \
	-c "INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 10000) i"
got=$(log under B "${PSQL[@]}" -At -c "SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM t")
want="10000|$(for i in $(seq 1 10000); do printf '%s' "$i" | md5sum | cut -d' ' -f1; done | paste -sd, - | tr -d '\n' | md5sum | cut -d' ' -f1)"
assert_eq "$want" "$got" "count and md5 of the 10,000 rows"
NC_TIMEOUT=120 log under B pgbench -q -i -h "$COMPAT_NET.1" -p "$P" -U postgres postgres >"$NC_TMP/pgbench-init.out" 2>&1 ||
	{ tail "$NC_TMP/pgbench-init.out" >&2; fail "pgbench -i failed"; }
out=$(NC_TIMEOUT=240 log under B pgbench -c 8 -j 2 -t 500 -h "$COMPAT_NET.1" -p "$P" -U postgres postgres 2>&1) || fail "pgbench exited $?: $(tail -n 15 <<<"$out")"
grep -E 'processed|failed|tps|latency average' <<<"$out" | sed 's/^/    /' >&2
assert_contains "$out" "number of transactions actually processed: 4000/4000" pgbench
assert_contains "$out" "number of failed transactions: 0 (0.000%)" pgbench
compat_note "pgbench: $(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n 1) tps"
note PASS
