/*
 * fuzz_wguapi.c — libFuzzer harness for WireGuard's UAPI: a set=1 request parsed
 * (nc_wg_uapi_parse_set(), src/link/wguapi.c) and, when it parses, applied to a real
 * link (nc_link_wireguard_set(), wireguard.c), whose get=1 answer is then made.
 *
 * Input: the lines of the request after "set=1". Checked: a refusal names what was wrong;
 * a parsed request's peers and AllowedIPs slices are inside their tables; the link's
 * snapshot after applying has at most NC_WG_MAX_PEERS peers, distinct, none with the
 * link's own key, and its get text ends with errno=0 and a blank line. So that nothing
 * leaves the machine, every endpoint becomes the harness's sink and
 * a listen_port other than 0 becomes 0 (a new random port: the rebind is exercised,
 * no port of another program is taken).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_wg.h"
#include "link/wguapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nc_wg_uapi_set set;
	struct nc_wg_state st;
	struct nc_link *l;
	char err[256], *text;
	size_t tlen;
	int r = nc_wg_uapi_parse_set(&set, (const char *)data, size, err, sizeof(err));

	if (r < 0) {
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		nc_wg_uapi_set_free(&set);
		return 0;
	}
	if (set.n_peers > NC_WG_MAX_PEERS || set.n_allowed > NC_WG_MAX_ALLOWED)
		abort();
	for (int i = 0; i < set.n_peers; i++) {
		struct nc_wg_uapi_peer *p = &set.peers[i];

		if (p->first_allowed < 0 || p->n_allowed < 0 ||
		    p->first_allowed + p->n_allowed > set.n_allowed)
			abort();
		if (p->set & NC_WG_SET_ENDPOINT)
			p->ep = fuzz_wg_sink_addr;
	}
	if (set.listen_port > 0)
		set.listen_port = 0;
	l = fuzz_wg_open();
	(void)nc_link_wireguard_set(l, &set, err, sizeof(err));
	if (l->ops->flush)
		l->ops->flush(l);
	if (nc_link_wireguard_state(l, &st) < 0)
		abort();
	if (st.n_peers > NC_WG_MAX_PEERS)
		abort();
	for (int i = 0; i < st.n_peers; i++) {
		if (!memcmp(st.peers[i].pub, st.pub, 32))
			abort();
		for (int k = 0; k < i; k++)
			if (!memcmp(st.peers[i].pub, st.peers[k].pub, 32))
				abort();
	}
	if (nc_wg_uapi_get_text(&st, &text, &tlen) == 0) {
		if (tlen < 9 || memcmp(text + tlen - 9, "errno=0\n\n", 9))
			abort();
		free(text);
	}
	nc_wg_state_free(&st);
	nc_wg_uapi_set_free(&set);
	l->ops->close(l);
	fuzz_wg_drain();
	return 0;
}
