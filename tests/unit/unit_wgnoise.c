/*
 * unit_wgnoise.c — WireGuard's cryptography (src/link/wgnoise.c) against vectors made
 * elsewhere, then a whole handshake between two identities in one process.
 *
 * Where the vectors come from: X25519 from RFC 7748 section 6.1; a key pair made by
 * Debian's wg (`wg genkey | tee priv | wg pubkey`); BLAKE2s-256, HMAC-BLAKE2s, the KDF
 * and the keyed BLAKE2s MAC from Python's hashlib and hmac modules; ChaCha20-Poly1305
 * from the Python `cryptography` package; XChaCha20-Poly1305 (libsodium's, for cookie
 * replies) from draft-irtf-cfrg-xchacha-03, appendix A.3.1, and the cookie and MAC2 of
 * a known secret and source from Python's hashlib. The handshake, the cookie exchange,
 * the transport data and their failure cases (a wrong pre-shared key, a flipped bit, a
 * replay, a forged or misdirected cookie reply) are checked here; that the bytes are
 * WireGuard's is checked against wireguard-go by tests/t_wireguard.sh and (cookies)
 * tests/t_wg_proto.sh.
 *
 * Prints failures only, then "N passed, N failed"; exit status 1 on failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/wgconf.h"
#include "link/wgnoise.h"

#include "check.h"

static void unhex(uint8_t *out, const char *hex)
{
	for (size_t i = 0; hex[2 * i]; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
}

static int eqhex(const uint8_t *b, const char *hex)
{
	uint8_t want[256];
	size_t n = strlen(hex) / 2;

	unhex(want, hex);
	return memcmp(b, want, n) == 0;
}

static void test_primitives(void)
{
	uint8_t out[32], kdf[3][32], key[32], k2[32], priv[32], pub[32];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	nc_wg_hash(out, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", 37, NULL, 0);
	CHECK(eqhex(out, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36"),
	      "HASH(construction)");
	nc_wg_hash(k2, out, 32, "WireGuard v1 zx2c4 Jason@zx2c4.com", 34);
	CHECK(eqhex(k2, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3"),
	      "HASH(ck || identifier)");
	CHECK(nc_wg_hmac(out, key, "netcon", 6) == 0 &&
	      eqhex(out, "2a7a70d75546c217849e8e6a6113fa0ea3e56a4cf33b824d5bb3ef0cea660fcd"),
	      "HMAC-BLAKE2s");
	CHECK(nc_wg_kdf(3, kdf, key, "input", 5) == 0, "KDF3");
	CHECK(eqhex(kdf[0], "87b7f70b24183c6db5dc4f6d9f4c47cdb203321aa2a0bef714896adb3107a040") &&
	      eqhex(kdf[1], "538a02e1eb2e31b7e4d4b82476d1fe2acf50085d3fb584537279195f5d1f5824") &&
	      eqhex(kdf[2], "9ad858025593be88de0f9442a589cfe84a88dc19e4753d93684d1c5efc4837f9"),
	      "KDF3 outputs");
	CHECK(nc_wg_mac(out, key, 32, "netcon mac", 10) == 0 &&
	      eqhex(out, "8dcfef023e0f36d47432ecf79d05e3f6"), "MAC, 32-byte key");
	CHECK(nc_wg_mac(out, key, 16, "netcon mac", 10) == 0 &&
	      eqhex(out, "9149883c4116a83478048685faf9b3ee"), "MAC, 16-byte key (cookie)");

	/* RFC 7748, 6.1 */
	unhex(priv, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	CHECK(nc_wg_pubkey(pub, priv) == 0 &&
	      eqhex(pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
	      "X25519 public key (RFC 7748)");
	unhex(pub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	CHECK(nc_wg_dh(out, priv, pub) == 0 &&
	      eqhex(out, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
	      "X25519 shared secret (RFC 7748)");
	memset(pub, 0, 32);
	CHECK(nc_wg_dh(out, priv, pub) == -EINVAL, "low-order point refused");

	/* Debian's wg: genkey, pubkey */
	nc_wg_key_from_base64(priv, "cFw8P6QeSg1KQlRRqwDiddd0OvHdodyCwCo+dmy+Dlg=");
	nc_wg_key_from_base64(k2, "xdpek5IjdcyQBSZghUV4FX1MOwQbJeAPf8phieCHUgc=");
	CHECK(nc_wg_pubkey(pub, priv) == 0 && !memcmp(pub, k2, 32), "public key as wg pubkey");
	CHECK(nc_wg_keygen(priv, pub) == 0 && nc_wg_pubkey(k2, priv) == 0 && !memcmp(pub, k2, 32),
	      "keygen");
}

static void test_aead(void)
{
	uint8_t key[32], ct[64], pt[64];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	CHECK(nc_wg_aead_seal(ct, key, 7, "hello wireguard", 15, "ad", 2) == 0 &&
	      eqhex(ct, "996ae8244dc80de0105329469dfa74d21ab73e79f901bc171e483b618ceda9"),
	      "ChaCha20-Poly1305 seal");
	CHECK(nc_wg_aead_open(pt, key, 7, ct, 31, "ad", 2) == 0 && !memcmp(pt, "hello wireguard", 15),
	      "open");
	CHECK(nc_wg_aead_open(pt, key, 8, ct, 31, "ad", 2) == -EBADMSG, "wrong counter");
	CHECK(nc_wg_aead_open(pt, key, 7, ct, 31, "ae", 2) == -EBADMSG, "wrong ad");
	ct[3] ^= 1;
	CHECK(nc_wg_aead_open(pt, key, 7, ct, 31, "ad", 2) == -EBADMSG, "flipped bit");
	CHECK(nc_wg_aead_open(pt, key, 7, ct, 15, "ad", 2) == -EBADMSG, "too short");
}

static void test_data(void)
{
	struct nc_wg_keys a = { 0 }, b = { 0 };
	uint8_t key[32], other[32], pkt[32] = { 0x45 }, out[128];
	struct iovec iov[2] = { { pkt, 20 }, { pkt + 20, 12 } };
	int n;

	for (int i = 0; i < 32; i++) {
		key[i] = (uint8_t)i;
		other[i] = (uint8_t)(100 + i);
	}
	pkt[31] = 1;
	CHECK(nc_wg_keys_set(&a, key, other) == 0 && nc_wg_keys_set(&b, other, key) == 0, "keys");
	n = nc_wg_data_seal(&a, 0x11223344, 0x0102030405ull, iov, 2, 32, out);
	CHECK(n == 16 + 32 + 16, "sealed length %d", n);
	CHECK(eqhex(out, "0400000044332211050403020100000074830ad0d3cbb3ccd31d0c29cc02a746a6d2fe47e79f0aa6cd4cd25aa27c1aa417d9823300c560c46cfa1acb13cf0eac"),
	      "data message bytes");
	CHECK(nc_wg_data_open(&b, out, (size_t)n) == 32 && !memcmp(out + 16, pkt, 32),
	      "opened by the other side");
	/* A 17-byte packet pads to 32; a keepalive is 32 bytes on the wire. */
	iov[0].iov_len = 17;
	n = nc_wg_data_seal(&a, 1, 2, iov, 1, 17, out);
	CHECK(n == 64, "padded to 16: %d", n);
	CHECK(nc_wg_data_open(&b, out, (size_t)n) == 32 && !memcmp(out + 16, pkt, 17) &&
	      out[16 + 17] == 0 && out[16 + 31] == 0, "padding is zeros");
	n = nc_wg_data_seal(&a, 1, 3, NULL, 0, 0, out);
	CHECK(n == NC_WG_DATA_MIN && nc_wg_data_open(&b, out, (size_t)n) == 0, "keepalive");
	n = nc_wg_data_seal(&a, 1, 4, iov, 1, 17, out);
	out[20] ^= 0x80;
	CHECK(nc_wg_data_open(&b, out, (size_t)n) == -EBADMSG, "forged data refused");
	n = nc_wg_data_seal(&a, 1, 5, iov, 1, 17, out);
	out[8] ^= 1;   /* the counter: the nonce no longer matches */
	CHECK(nc_wg_data_open(&b, out, (size_t)n) == -EBADMSG, "changed counter refused");
	CHECK(nc_wg_data_open(&a, out, 31) == -EBADMSG, "short");
	/* Opened into another buffer (rx_zc): the datagram is left as it was. */
	{
		uint8_t pt[64], copy[sizeof(out)];

		n = nc_wg_data_seal(&a, 1, 6, iov, 1, 17, out);
		memcpy(copy, out, (size_t)n);
		CHECK(nc_wg_data_open_to(&b, out, (size_t)n, pt) == 32 && !memcmp(pt, pkt, 17) &&
		      pt[17] == 0 && !memcmp(out, copy, (size_t)n), "opened out of place");
		out[n - 1] ^= 1;
		CHECK(nc_wg_data_open_to(&b, out, (size_t)n, pt) == -EBADMSG, "bad tag, out of place");
	}
	nc_wg_keys_free(&a);
	nc_wg_keys_free(&b);
}

static void test_handshake(void)
{
	struct nc_wg_static si, sr;
	struct nc_wg_handshake hi, hr, hbad;
	struct nc_wg_keys ki, kr;
	uint8_t priv[32], pub[32], psk[32], ts[12], ts_got[12], init[NC_WG_INIT_LEN],
		resp[NC_WG_RESP_LEN], buf[128], pkt[40];
	struct iovec iov = { pkt, sizeof(pkt) };
	int n;

	memset(psk, 0x5a, 32);
	memset(pkt, 0x77, sizeof(pkt));
	nc_wg_keygen(priv, pub);
	CHECK(nc_wg_static_init(&si, priv) == 0, "initiator identity");
	nc_wg_keygen(priv, pub);
	CHECK(nc_wg_static_init(&sr, priv) == 0, "responder identity");
	nc_wg_tai64n(ts, 1700000000, 123456789);
	CHECK(eqhex(ts, "400000006553f10a075bcd15"), "TAI64N");

	CHECK(nc_wg_init_create(&si, &hi, sr.pub, psk, 0xaabbccdd, ts, init) == 0, "initiation");
	CHECK(nc_wg_macs_add(init, sizeof(init), sr.pub, NULL) == 0, "macs");
	CHECK(init[0] == 1 && nc_wg_le32(init + 4) == 0xaabbccdd, "initiation header");
	CHECK(nc_wg_mac1_ok(&sr, init, sizeof(init)), "mac1 checks at the responder");
	CHECK(!nc_wg_mac1_ok(&si, init, sizeof(init)), "mac1 is for the responder only");
	CHECK(nc_wg_init_consume(&sr, &hr, init, ts_got) == 0, "responder consumes");
	CHECK(!memcmp(hr.remote_pub, si.pub, 32), "initiator's static key learned");
	CHECK(!memcmp(ts_got, ts, 12), "timestamp carried");
	CHECK(hr.remote_index == 0xaabbccdd, "sender index");
	{
		uint8_t t[NC_WG_INIT_LEN];
		memcpy(t, init, sizeof(t));
		t[60] ^= 4;
		CHECK(nc_wg_init_consume(&sr, &hbad, t, ts_got) == -EBADMSG, "forged static");
		memcpy(t, init, sizeof(t));
		t[100] ^= 4;
		CHECK(nc_wg_init_consume(&sr, &hbad, t, ts_got) == -EBADMSG, "forged timestamp");
		CHECK(nc_wg_init_consume(&si, &hbad, init, ts_got) == -EBADMSG, "wrong responder");
	}
	memcpy(hr.psk, psk, 32);
	CHECK(nc_wg_resp_create(&hr, 0x01020304, resp) == 0, "response");
	CHECK(nc_wg_macs_add(resp, sizeof(resp), si.pub, NULL) == 0 &&
	      nc_wg_mac1_ok(&si, resp, sizeof(resp)), "response mac1");
	CHECK(resp[0] == 2 && nc_wg_le32(resp + 8) == 0xaabbccdd, "response header");
	{
		struct nc_wg_handshake t = hi;
		memset(t.psk, 0x5b, 32);
		CHECK(nc_wg_resp_consume(&si, &t, resp) == -EBADMSG, "another psk fails");
	}
	CHECK(nc_wg_resp_consume(&si, &hi, resp) == 0, "initiator consumes");
	CHECK(hi.remote_index == 0x01020304, "responder's index");
	CHECK(!memcmp(hi.hash, hr.hash, 32), "same transcript hash");
	CHECK(nc_wg_keys_derive(&ki, &hi, 1) == 0 && nc_wg_keys_derive(&kr, &hr, 0) == 0, "keys");
	n = nc_wg_data_seal(&ki, 0x01020304, 0, &iov, 1, sizeof(pkt), buf);
	CHECK(n == 16 + 48 + 16 && nc_wg_data_open(&kr, buf, (size_t)n) == 48 &&
	      !memcmp(buf + 16, pkt, sizeof(pkt)), "initiator → responder");
	n = nc_wg_data_seal(&kr, 0xaabbccdd, 0, &iov, 1, sizeof(pkt), buf);
	CHECK(nc_wg_data_open(&ki, buf, (size_t)n) == 48 && !memcmp(buf + 16, pkt, sizeof(pkt)),
	      "responder → initiator");
	n = nc_wg_data_seal(&ki, 0x01020304, 1, &iov, 1, sizeof(pkt), buf);
	CHECK(nc_wg_data_open(&ki, buf, (size_t)n) == -EBADMSG, "own key does not open");
	nc_wg_keys_free(&ki);
	nc_wg_keys_free(&kr);
}

static void test_cookie(void)
{
	static const char lad[] = "Ladies and Gentlemen of the class of '99: If I could "
				  "offer you only one tip for the future, sunscreen would be it.";
	const uint8_t src[6] = { 127, 0, 0, 1, 0xca, 0x6c }, src2[6] = { 127, 0, 0, 2, 0xca, 0x6c };
	uint8_t key[32], nonce[24], ad[12], ct[160], pt[160], secret[32], cookie[16], got[16];
	uint8_t msg[116], priv[32], pub[32], init[NC_WG_INIT_LEN], reply[NC_WG_COOKIE_LEN];
	uint8_t mac1[16], ts[12];
	struct nc_wg_static si, sr;
	struct nc_wg_handshake hi;
	size_t n = strlen(lad);

	/* draft-irtf-cfrg-xchacha-03, A.3.1 */
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x40 + i);
	unhex(ad, "50515253c0c1c2c3c4c5c6c7");
	CHECK(nc_wg_xaead_seal(ct, key, nonce, lad, n, ad, 12) == 0 &&
	      eqhex(ct, "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
			"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452") &&
	      eqhex(ct + 64, "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
			     "21f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49"),
	      "XChaCha20-Poly1305 seal (draft A.3.1)");
	CHECK(nc_wg_xaead_open(pt, key, nonce, ct, n + 16, ad, 12) == 0 && !memcmp(pt, lad, n),
	      "XChaCha20-Poly1305 open");
	ct[5] ^= 1;
	CHECK(nc_wg_xaead_open(pt, key, nonce, ct, n + 16, ad, 12) == -EBADMSG, "flipped bit");
	CHECK(nc_wg_xaead_open(pt, key, nonce, ct, 15, ad, 12) == -EBADMSG, "too short");

	/* The cookie of a source under a secret, and a MAC2 with it (hashlib). */
	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
	CHECK(nc_wg_cookie_make(cookie, secret, src, sizeof(src)) == 0 &&
	      eqhex(cookie, "3326e6ae633cf026d61149ce067a8c35"), "cookie = MAC(secret, source)");
	for (int i = 0; i < 100; i++)
		msg[i] = (uint8_t)i;
	memset(msg + 100, 0, 16);
	CHECK(!nc_wg_mac2_ok(cookie, msg, sizeof(msg)), "no MAC2");
	unhex(msg + 100, "d0a14867af1af70743a2d1895581bc93");
	CHECK(nc_wg_mac2_ok(cookie, msg, sizeof(msg)), "MAC2 (hashlib)");

	/* A round trip: an initiation without MAC2, the responder's cookie reply, the
	 * initiator's next initiation with MAC2 from the cookie. */
	nc_wg_keygen(priv, pub);
	nc_wg_static_init(&si, priv);
	nc_wg_keygen(priv, pub);
	nc_wg_static_init(&sr, priv);
	memset(key, 0, 32);
	nc_wg_tai64n(ts, 1700000000, 1);
	CHECK(nc_wg_init_create(&si, &hi, sr.pub, key, 0x11223344, ts, init) == 0 &&
	      nc_wg_macs_add(init, sizeof(init), sr.pub, NULL) == 0, "initiation");
	memcpy(mac1, init + NC_WG_INIT_LEN - 32, 16);
	CHECK(!nc_wg_mac2_ok(cookie, init, sizeof(init)), "no MAC2 yet");
	CHECK(nc_wg_cookie_reply_create(&sr, 0x11223344, cookie, init, sizeof(init), reply) == 0 &&
	      reply[0] == NC_WG_MSG_COOKIE && nc_wg_le32(reply + 4) == 0x11223344,
	      "cookie reply");
	CHECK(nc_wg_cookie_reply_consume(sr.pub, mac1, reply, got) == 0 && !memcmp(got, cookie, 16),
	      "initiator opens the cookie");
	CHECK(nc_wg_cookie_reply_consume(si.pub, mac1, reply, got) == -EBADMSG,
	      "another responder's key fails");
	mac1[0] ^= 1;
	CHECK(nc_wg_cookie_reply_consume(sr.pub, mac1, reply, got) == -EBADMSG,
	      "a reply to another message fails");
	mac1[0] ^= 1;
	reply[40] ^= 1;
	CHECK(nc_wg_cookie_reply_consume(sr.pub, mac1, reply, got) == -EBADMSG, "forged reply");
	CHECK(nc_wg_init_create(&si, &hi, sr.pub, key, 0x55667788, ts, init) == 0 &&
	      nc_wg_macs_add(init, sizeof(init), sr.pub, cookie) == 0, "initiation with MAC2");
	CHECK(nc_wg_mac1_ok(&sr, init, sizeof(init)), "MAC1 still checks");
	CHECK(nc_wg_cookie_make(got, secret, src, sizeof(src)) == 0 &&
	      nc_wg_mac2_ok(got, init, sizeof(init)), "responder checks MAC2");
	CHECK(nc_wg_cookie_make(got, secret, src2, sizeof(src2)) == 0 &&
	      !nc_wg_mac2_ok(got, init, sizeof(init)), "MAC2 from another source fails");
	secret[0] ^= 1;
	CHECK(nc_wg_cookie_make(got, secret, src, sizeof(src)) == 0 &&
	      !nc_wg_mac2_ok(got, init, sizeof(init)), "MAC2 under a new secret fails");
}

static void test_replay(void)
{
	struct nc_wg_replay r;

	memset(&r, 0, sizeof(r));
	CHECK(nc_wg_replay_mark(&r, 0) == 0, "first");
	CHECK(nc_wg_replay_mark(&r, 0) < 0, "replayed");
	CHECK(nc_wg_replay_mark(&r, 2) == 0 && nc_wg_replay_mark(&r, 1) == 0, "out of order");
	CHECK(nc_wg_replay_ok(&r, 1) < 0 && nc_wg_replay_ok(&r, 3) == 0, "ok() agrees");
	CHECK(nc_wg_replay_mark(&r, 5000) == 0, "jump ahead");
	CHECK(nc_wg_replay_mark(&r, 5000 - NC_WG_REPLAY_WINDOW) < 0, "just too old");
	CHECK(nc_wg_replay_mark(&r, 5000 - NC_WG_REPLAY_WINDOW + 1) == 0, "oldest in window");
	CHECK(nc_wg_replay_mark(&r, 4999) == 0 && nc_wg_replay_mark(&r, 4999) < 0, "below top");
	CHECK(nc_wg_replay_mark(&r, 3) < 0, "far too old");
	/* Bits of counters once in the ring are forgotten when the window moves past. */
	uint64_t last = 0;
	for (uint64_t c = 5001; c < 5001 + 3 * 2048; c += 7) {
		CHECK(nc_wg_replay_mark(&r, c) == 0, "sweep %llu", (unsigned long long)c);
		last = c;
	}
	CHECK(nc_wg_replay_mark(&r, last - 64) == 0, "unseen in window");
	CHECK(nc_wg_replay_mark(&r, last - 70) < 0, "seen in window");
	CHECK(nc_wg_replay_mark(&r, NC_WG_REJECT_AFTER_MESSAGES) < 0, "reject after messages");
	CHECK(nc_wg_replay_mark(&r, NC_WG_REJECT_AFTER_MESSAGES - 1) == 0, "last counter");
}

int main(void)
{
	char why[128];

	if (nc_wg_crypto_init(why, sizeof(why)) < 0) {
		printf("unit_wgnoise: %s\n", why);
		return 1;
	}
	test_primitives();
	test_aead();
	test_data();
	test_handshake();
	test_cookie();
	test_replay();
	printf("unit_wgnoise: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
