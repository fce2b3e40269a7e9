/*
 * unit_hosts.c — the name table (src/common/hosts.c): name syntax, --host NAME=ADDR,
 * the hosts(5) parser with its error messages (line numbers), lookups by name and by
 * address; and nc_rpc_check() on NC_MSG_RESOLVE requests and replies (src/common/rpc.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rpc.h"
#include "hosts.h"

#include "check.h"

static void test_name_ok(void)
{
	static const struct {
		const char *s;
		int ok;
	} t[] = {
		{ "web", 1 }, { "web.netcon", 1 }, { "web.netcon.", 1 }, { "a-b_c.d9", 1 },
		{ "WEB.NetCon", 1 }, { "", 0 }, { ".", 0 }, { "a..b", 0 }, { ".a", 0 },
		{ "a.b..", 0 }, { "a b", 0 }, { "a!b", 0 }, { "caf\xc3\xa9", 0 }, { "a/b", 0 },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1 }, /* 63 */
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0 }, /* 64 */
	};
	char big[300];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(nc_hosts_name_ok(t[i].s) == t[i].ok, "'%s'", t[i].s);
	/* 253 characters pass, 254 do not */
	memset(big, 'a', sizeof(big));
	for (int i = 50; i < 253; i += 51)
		big[i] = '.';
	big[253] = '\0';
	CHECK(nc_hosts_name_ok(big) == 1, "253 characters");
	big[253] = 'a';
	big[254] = '\0';
	CHECK(nc_hosts_name_ok(big) == 0, "254 characters");
}

struct collect {
	char out[1024];
};

static void collect_addr(const struct nc_host *e, void *arg)
{
	struct collect *c = arg;
	char a[INET6_ADDRSTRLEN];

	inet_ntop(e->family, e->addr, a, sizeof(a));
	snprintf(c->out + strlen(c->out), sizeof(c->out) - strlen(c->out), "%s%s/%s",
		 c->out[0] ? " " : "", a, e->canon);
}

static void collect_name(const struct nc_host *e, void *arg)
{
	struct collect *c = arg;

	snprintf(c->out + strlen(c->out), sizeof(c->out) - strlen(c->out), "%s%s",
		 c->out[0] ? " " : "", e->name);
}

static const char *by_name(const struct nc_hosts *h, const char *name, int family)
{
	static struct collect c;
	char key[NC_HOSTS_NAME_MAX + 1];

	memset(&c, 0, sizeof(c));
	if (nc_hosts_canon_key(name, key) == 0)
		nc_hosts_by_name(h, key, family, collect_addr, &c);
	return c.out;
}

static const char *by_addr(const struct nc_hosts *h, const char *text)
{
	static struct collect c;
	uint8_t a[16] = { 0 };
	int fam = strchr(text, ':') ? AF_INET6 : AF_INET;

	memset(&c, 0, sizeof(c));
	inet_pton(fam, text, a);
	nc_hosts_by_addr(h, fam, a, collect_name, &c);
	return c.out;
}

static void test_parse(void)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"10.88.0.1\tweb.netcon  www.netcon WWW   # trailing comment\n"
		"   10.88.0.7 db.netcon db\r\n"
		"fd00::7 db.netcon\n"
		"10.88.0.8 db.netcon\n"
		"10.88.0.1 web.netcon\n"            /* a duplicate pair: kept once */
		"::ffff:10.1.2.3 mapped";           /* no final newline */
	struct nc_hosts h = { 0 };
	char err[256] = "";

	CHECK(nc_hosts_parse(&h, text, strlen(text), "t", err, sizeof(err)) == 0, "%s", err);
	CHECK(h.n == 8, "entries: %zu", h.n);
	CHECK(!strcmp(by_name(&h, "web.netcon", 0), "10.88.0.1/web.netcon"), "%s",
	      by_name(&h, "web.netcon", 0));
	CHECK(!strcmp(by_name(&h, "WWW.Netcon.", 0), "10.88.0.1/web.netcon"), "%s",
	      by_name(&h, "WWW.Netcon.", 0));
	CHECK(!strcmp(by_name(&h, "www", 0), "10.88.0.1/web.netcon"), "alias in capitals");
	CHECK(!strcmp(by_name(&h, "db.netcon", 0),
		      "10.88.0.7/db.netcon fd00::7/db.netcon 10.88.0.8/db.netcon"), "%s",
	      by_name(&h, "db.netcon", 0));
	CHECK(!strcmp(by_name(&h, "db.netcon", AF_INET6), "fd00::7/db.netcon"), "%s",
	      by_name(&h, "db.netcon", AF_INET6));
	CHECK(!strcmp(by_name(&h, "db", 0), "10.88.0.7/db.netcon"), "%s", by_name(&h, "db", 0));
	CHECK(!strcmp(by_name(&h, "nosuch", 0), ""), "unknown");
	CHECK(!strcmp(by_addr(&h, "10.88.0.1"), "web.netcon www.netcon www"), "%s",
	      by_addr(&h, "10.88.0.1"));
	CHECK(!strcmp(by_addr(&h, "fd00::7"), "db.netcon"), "%s", by_addr(&h, "fd00::7"));
	CHECK(!strcmp(by_addr(&h, "::ffff:10.1.2.3"), "mapped"), "mapped");
	CHECK(!strcmp(by_addr(&h, "10.1.2.3"), ""), "v4 is not v4-mapped v6");
	CHECK(nc_hosts_is_parent(&h, "netcon") == 1, "parent");
	CHECK(nc_hosts_is_parent(&h, "etcon") == 0, "not a label boundary");
	CHECK(nc_hosts_is_parent(&h, "web.netcon") == 0, "a name is not its own parent");
	nc_hosts_free(&h);
	CHECK(h.n == 0 && h.e == NULL, "freed");
}

static void test_parse_errors(void)
{
	static const struct {
		const char *text, *msg;
	} t[] = {
		{ "10.0.0.1\n", "t:1: an address without a name" },
		{ "# ok\n10.0.0.1 a\n10.0.0 b\n", "t:3: '10.0.0' is not an IPv4 or IPv6 address" },
		{ "\n\n\nweb 10.0.0.1\n", "t:4: 'web' is not an IPv4 or IPv6 address" },
		{ "10.0.0.1 good bad!\n", "t:1: 'bad!': not a valid host name" },
		{ "10.0.0.1 a..b\n", "t:1: 'a..b': not a valid host name" },
		{ "fe80::1%eth0 a\n", "t:1: 'fe80::1%eth0' is not an IPv4 or IPv6 address" },
		{ "010.0.0.1 a\n", "t:1: '010.0.0.1' is not" },
		{ "10.0.0.1 a\0b\n", "t:1: NUL byte" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nc_hosts h = { 0 };
		char err[256] = "";
		size_t len = strlen(t[i].text);

		if (i == 7)
			len = 13;
		CHECK(nc_hosts_parse(&h, t[i].text, len, "t", err, sizeof(err)) == -EINVAL,
		      "case %zu accepted", i);
		CHECK(!strncmp(err, t[i].msg, strlen(t[i].msg)), "case %zu: '%s'", i, err);
		nc_hosts_free(&h);
	}
	{
		/* a line longer than 4095 bytes */
		char *big = malloc(5000);
		struct nc_hosts h = { 0 };
		char err[256] = "";

		memset(big, 'a', 5000);
		memcpy(big, "10.0.0.1 ", 9);
		CHECK(nc_hosts_parse(&h, big, 5000, "t", err, sizeof(err)) == -EINVAL, "long line");
		CHECK(strstr(err, "t:1: line too long") != NULL, "'%s'", err);
		free(big);
		nc_hosts_free(&h);
	}
}

static void test_add_arg(void)
{
	static const struct {
		const char *arg;
		int ok;
	} t[] = {
		{ "web.netcon=10.88.0.1", 1 }, { "web6=fd00::1", 1 }, { "Web.=10.88.0.2", 1 },
		{ "=10.0.0.1", 0 }, { "web", 0 }, { "web=", 0 }, { "web=10.0.0", 0 },
		{ "web=10.0.0.1/24", 0 }, { "we b=10.0.0.1", 0 }, { "web=host.example", 0 },
	};
	struct nc_hosts h = { 0 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[256] = "";
		int r = nc_hosts_add_arg(&h, t[i].arg, err, sizeof(err));

		CHECK((r == 0) == t[i].ok, "'%s': %d %s", t[i].arg, r, err);
		if (!t[i].ok)
			CHECK(strstr(err, "--host") != NULL, "message names the option: %s", err);
	}
	CHECK(h.n == 3, "entries %zu", h.n);
	CHECK(!strcmp(by_name(&h, "web", 0), "10.88.0.2/web"), "%s", by_name(&h, "web", 0));
	nc_hosts_free(&h);
}

static void test_load(void)
{
	char path[] = "/tmp/unit_hosts.XXXXXX", err[256] = "";
	struct nc_hosts h = { 0 };
	int fd = mkstemp(path);

	CHECK(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	CHECK(write(fd, "10.1.1.1 one\n10.1.1.2 two # x\n", 30) == 30, "write");
	close(fd);
	CHECK(nc_hosts_load(&h, path, err, sizeof(err)) == 0, "%s", err);
	CHECK(h.n == 2, "entries %zu", h.n);
	unlink(path);
	CHECK(nc_hosts_load(&h, path, err, sizeof(err)) == -ENOENT, "missing file");
	CHECK(strstr(err, path) != NULL, "message names the file: %s", err);
	CHECK(nc_hosts_load(&h, "/tmp", err, sizeof(err)) < 0, "a directory");
	nc_hosts_free(&h);
}

/* nc_rpc_check on RESOLVE: the sizes are the generic rule; the fields are checked too. */
static int check_resolve(const void *payload, size_t plen, int is_reply, int err)
{
	static uint8_t buf[sizeof(struct nc_hdr) + sizeof(struct nc_resolve_rep)];
	struct nc_hdr h = { 0 };
	const char *why;

	h.len = (uint32_t)(sizeof(h) + plen);
	h.type = (uint16_t)(NC_MSG_RESOLVE | (is_reply ? NC_MSG_REPLY : 0));
	h.err = err;
	memcpy(buf, &h, sizeof(h));
	if (plen)
		memcpy(buf + sizeof(h), payload, plen);
	return nc_rpc_check(buf, h.len, 0, is_reply, &why);
}

static void test_rpc_check(void)
{
	struct nc_resolve_req q;
	static struct nc_resolve_rep r;

	CHECK(sizeof(q) == 280 && sizeof(r) == 2376 && sizeof(r.addrs[0]) == 20, "sizes");
	memset(&q, 0, sizeof(q));
	q.op = NC_RESOLVE_NAME;
	strcpy(q.name, "web.netcon");
	CHECK(check_resolve(&q, sizeof(q), 0, 0) == 0, "good name request");
	CHECK(check_resolve(&q, sizeof(q) - 1, 0, 0) < 0, "short request");
	q.family = AF_INET6;
	CHECK(check_resolve(&q, sizeof(q), 0, 0) == 0, "AF_INET6");
	q.family = AF_UNIX;
	CHECK(check_resolve(&q, sizeof(q), 0, 0) < 0, "AF_UNIX");
	q.family = AF_UNSPEC;
	memset(q.name, 'a', sizeof(q.name));
	CHECK(check_resolve(&q, sizeof(q), 0, 0) < 0, "unterminated name");
	memset(q.name, 0, sizeof(q.name));
	CHECK(check_resolve(&q, sizeof(q), 0, 0) < 0, "empty name");
	q.op = NC_RESOLVE_ADDR;
	CHECK(check_resolve(&q, sizeof(q), 0, 0) < 0, "address request with AF_UNSPEC");
	q.family = AF_INET;
	CHECK(check_resolve(&q, sizeof(q), 0, 0) == 0, "address request");
	q.pad = 1;
	CHECK(check_resolve(&q, sizeof(q), 0, 0) < 0, "pad not zero");
	q.pad = 0;
	q.op = 0;
	CHECK(check_resolve(&q, sizeof(q), 0, 0) < 0, "op 0");
	q.op = NC_RESOLVE_OP_COUNT;
	CHECK(check_resolve(&q, sizeof(q), 0, 0) < 0, "op too large");

	memset(&r, 0, sizeof(r));
	r.nnames = 1;
	strcpy(r.names[0], "web.netcon");
	r.naddrs = 1;
	r.addrs[0].family = AF_INET;
	CHECK(check_resolve(&r, sizeof(r), 1, 0) == 0, "good reply");
	CHECK(check_resolve(NULL, 0, 1, ENOENT) == 0, "empty error reply");
	r.naddrs = NC_RESOLVE_MAX_ADDRS + 1;
	CHECK(check_resolve(&r, sizeof(r), 1, 0) < 0, "too many addresses");
	r.naddrs = 2;
	CHECK(check_resolve(&r, sizeof(r), 1, 0) < 0, "address family 0");
	r.naddrs = 1;
	r.nnames = 0;
	CHECK(check_resolve(&r, sizeof(r), 1, 0) < 0, "no name");
	r.nnames = 2;
	CHECK(check_resolve(&r, sizeof(r), 1, 0) < 0, "second name empty");
	strcpy(r.names[1], "www");
	CHECK(check_resolve(&r, sizeof(r), 1, 0) == 0, "two names");
	memset(r.names[1], 'x', sizeof(r.names[1]));
	CHECK(check_resolve(&r, sizeof(r), 1, 0) < 0, "unterminated name");
}

int main(void)
{
	test_name_ok();
	test_parse();
	test_parse_errors();
	test_add_arg();
	test_load();
	test_rpc_check();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
