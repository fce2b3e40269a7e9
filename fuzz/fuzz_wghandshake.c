/*
 * fuzz_wghandshake.c — libFuzzer harness for the WireGuard link's receive path
 * (wireguard.c's rx_datagram() through nc_link_wireguard_rx(): initiation, response,
 * cookie and data messages; wgnoise.c's Noise_IKpsk2, MACs, AEAD and replay window),
 * with fixed static keys (fuzz_wg.h). One link for the run; its peer is made anew
 * (replace_peers) after every input, so each starts with no session.
 *
 * Input: records of [kind][length, 2 bytes little-endian][bytes]:
 *   kind % 4 == 0  the bytes as one datagram from the peer's address;
 *   kind % 4 == 1  a valid initiation from the peer (its timestamp from the first 12
 *                  bytes, so stale and repeated ones happen), the bytes XORed over it
 *                  from offset 0 when there are more than 12 (a bad MAC1, a bad
 *                  static...); the link's response, if any, is consumed as the peer
 *                  would, which gives the harness transport keys;
 *   kind % 4 == 2  with those keys, a data message: its counter from the first 8 bytes,
 *                  the rest as the inner packet (a keepalive when empty);
 *   kind % 4 == 3  the bytes sent as an IP packet by the service (the send path: routes,
 *                  the queue, a handshake of the link's own, the batch).
 * At most MAX_RECORDS records and MAX_INITS initiations per input count.
 * Checked by the sanitizers and by the deliver callback (fuzz_wg.c): only well-formed
 * packets of at most the MTU come out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "fuzz_wg.h"

/* Bounds per input: each initiation costs four X25519 operations. */
#define MAX_RECORDS 256
#define MAX_INITS   4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nc_wg_static peer;
	static uint8_t link_pub[32], zero_psk[32];
	static uint8_t buf[2200];
	struct nc_wg_handshake hs;
	struct nc_wg_keys keys;
	static struct nc_link *l;
	uint32_t remote = 0;
	int have_keys = 0, inits = 0, records = 0;
	size_t off = 0;

	if (!l)
		l = fuzz_wg_open();   /* first: it loads the algorithms */
	if (!link_pub[0] && !link_pub[31]) {
		if (nc_wg_static_init(&peer, fuzz_wg_peer_priv) < 0 ||
		    nc_wg_pubkey(link_pub, fuzz_wg_priv) < 0)
			abort();
	}
	memset(&keys, 0, sizeof(keys));
	while (off + 3 <= size && records++ < MAX_RECORDS) {
		unsigned kind = data[off] % 4;
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		const uint8_t *b = data + off + 3;

		off += 3;
		if (len > size - off)
			len = size - off;
		off += len;
		if (len > 2000)
			len = 2000;
		if (kind == 0) {
			memcpy(buf, b, len);
			nc_link_wireguard_rx(l, buf, len, &fuzz_wg_sink_addr);
		} else if (kind == 1 && inits++ < MAX_INITS) {
			uint8_t ts[12] = { 0 }, resp[NC_WG_RESP_LEN + 1];
			ssize_t n;

			memcpy(ts, b, len < 12 ? len : 12);
			if (nc_wg_init_create(&peer, &hs, link_pub, zero_psk, 0x1234, ts, buf) < 0 ||
			    nc_wg_macs_add(buf, NC_WG_INIT_LEN, link_pub, NULL) < 0)
				abort();
			for (size_t i = 12; i < len && i - 12 < NC_WG_INIT_LEN; i++)
				buf[i - 12] ^= b[i];
			nc_link_wireguard_rx(l, buf, NC_WG_INIT_LEN, &fuzz_wg_sink_addr);
			while ((n = recv(fuzz_wg_sink_fd, resp, sizeof(resp), MSG_DONTWAIT)) >= 0) {
				if (n != NC_WG_RESP_LEN || resp[0] != NC_WG_MSG_RESP ||
				    nc_wg_resp_consume(&peer, &hs, resp) < 0)
					continue;
				if (have_keys)
					nc_wg_keys_free(&keys);
				have_keys = nc_wg_keys_derive(&keys, &hs, 1) == 0;
				remote = nc_wg_le32(resp + 4);
			}
		} else if (kind == 2 && have_keys) {
			uint64_t ctr = len >= 8 ? nc_wg_le64(b) : 0;
			struct iovec iov = { (void *)(b + (len >= 8 ? 8 : len)), len >= 8 ? len - 8 : 0 };
			int n = nc_wg_data_seal(&keys, remote, ctr, &iov, 1, iov.iov_len, buf);

			if (n > 0)
				nc_link_wireguard_rx(l, buf, (size_t)n, &fuzz_wg_sink_addr);
		} else if (kind == 3) {
			struct iovec iov = { (void *)b, len };

			l->ops->send(l, &iov, 1);
		}
	}
	l->ops->poll(l);
	l->ops->flush(l);
	if (have_keys)
		nc_wg_keys_free(&keys);
	/* What this input made is freed in this input: libFuzzer's leak check (a memory
	 * scan) runs only when mallocs and frees of an input do not match. */
	fuzz_wg_reset(l);
	fuzz_wg_drain();
	return 0;
}
