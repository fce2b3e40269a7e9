/*
 * wgnoise.h — WireGuard's cryptography for the wireguard link: the primitives (from
 * OpenSSL 3: X25519, BLAKE2s-256, keyed BLAKE2s, HMAC-BLAKE2s, ChaCha20-Poly1305; from
 * libsodium: XChaCha20-Poly1305, which OpenSSL 3.0 lacks), the Noise_IKpsk2 handshake's
 * three steps, the cookie replies and MAC2, the transport keys the handshake yields, and
 * the replay window of the transport data. Pure code: no sockets and no clock (the caller passes
 * the TAI64N timestamp), so unit_wgnoise drives both sides of a handshake in one process.
 * wireguard.c, the link, owns peers, indices, timers and the wire.
 */
#ifndef NETCON_WGNOISE_H
#define NETCON_WGNOISE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define NC_WG_MSG_INIT      1
#define NC_WG_MSG_RESP      2
#define NC_WG_MSG_COOKIE    3
#define NC_WG_MSG_DATA      4
#define NC_WG_INIT_LEN      148
#define NC_WG_RESP_LEN      92
#define NC_WG_COOKIE_LEN    64
#define NC_WG_DATA_HLEN     16      /* type, reserved, receiver index, counter */
#define NC_WG_TAG_LEN       16
#define NC_WG_DATA_MIN      (NC_WG_DATA_HLEN + NC_WG_TAG_LEN)   /* a keepalive */
#define NC_WG_OVERHEAD      (NC_WG_DATA_HLEN + NC_WG_TAG_LEN)   /* + padding to 16 */

/* The protocol's limits (the whitepaper's section 6). */
#define NC_WG_REKEY_AFTER_MESSAGES  (1ull << 60)
#define NC_WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))
#define NC_WG_REKEY_AFTER_TIME_MS   120000
#define NC_WG_REJECT_AFTER_TIME_MS  180000
#define NC_WG_REKEY_ATTEMPT_TIME_MS 90000
#define NC_WG_REKEY_TIMEOUT_MS      5000
#define NC_WG_KEEPALIVE_TIMEOUT_MS  10000
#define NC_WG_COOKIE_REFRESH_MS     120000   /* a cookie secret's and a cookie's life */

/* Replay window: a ring of 2048 bits, as RFC 6479 lays it out; counters more than
 * NC_WG_REPLAY_WINDOW below the greatest one seen are too old. */
#define NC_WG_REPLAY_WORDS  32
#define NC_WG_REPLAY_WINDOW (NC_WG_REPLAY_WORDS * 64 - 64)

struct nc_wg_replay {
	uint64_t greatest;           /* the greatest counter accepted + 1; 0 = none yet */
	uint64_t bits[NC_WG_REPLAY_WORDS];
};

/* Our static identity and what follows from it. */
struct nc_wg_static {
	uint8_t priv[32], pub[32];
	uint8_t mac1_key[32];        /* HASH("mac1----" || our public key): checks MAC1 */
	uint8_t cookie_key[32];      /* HASH("cookie--" || our public key): cookie replies */
};

/* One handshake in progress, from either side. */
struct nc_wg_handshake {
	uint8_t hash[32], ck[32];
	uint8_t e_priv[32], e_pub[32];   /* our ephemeral key */
	uint8_t remote_e[32];            /* the peer's ephemeral key */
	uint8_t remote_pub[32];          /* the peer's static key */
	uint8_t psk[32];                 /* zeros when there is none */
	uint32_t remote_index;
};

/* A transport key pair for one session: ChaCha20-Poly1305 contexts keyed once. */
struct nc_wg_keys {
	void *send_ctx, *recv_ctx;       /* EVP_CIPHER_CTX */
};

/* Load the algorithms once (0, or -ENOSYS naming what OpenSSL lacks in why). */
int nc_wg_crypto_init(char *why, size_t whylen);

/* The primitives. HASH(a || b), both optional (len 0). */
void nc_wg_hash(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen);
/* MAC: keyed BLAKE2s with a 16-byte output (MAC1, MAC2, cookies). */
int nc_wg_mac(uint8_t out[16], const uint8_t *key, size_t keylen, const void *data, size_t len);
int nc_wg_hmac(uint8_t out[32], const uint8_t key[32], const void *data, size_t len);
/* KDF_n(key, input): n (1..3) outputs of 32 bytes. */
int nc_wg_kdf(int n, uint8_t out[][32], const uint8_t key[32], const void *in, size_t inlen);
/* X25519: a new private key and its public key; the public key of a private one; the
 * shared secret (-EINVAL for a low-order public key: all-zero output). */
int nc_wg_keygen(uint8_t priv[32], uint8_t pub[32]);
int nc_wg_pubkey(uint8_t pub[32], const uint8_t priv[32]);
int nc_wg_dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32]);
/* AEAD with the 96-bit nonce 0^32 || counter (little-endian). seal writes len + 16
 * bytes; open reads len (≥ 16) and writes len − 16, or fails with -EBADMSG. */
int nc_wg_aead_seal(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *in,
		    size_t len, const void *ad, size_t adlen);
int nc_wg_aead_open(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *in,
		    size_t len, const void *ad, size_t adlen);

/* Our identity from a private key: 0 or a negative errno. */
int nc_wg_static_init(struct nc_wg_static *s, const uint8_t priv[32]);
/* TAI64N of a wall-clock time (seconds, nanoseconds). */
void nc_wg_tai64n(uint8_t out[12], uint64_t sec, uint32_t nsec);

/* The handshake. The sender/receiver indices are the caller's; MAC1 and MAC2 are added
 * and checked by nc_wg_macs_add() / nc_wg_mac1_ok(). */
int nc_wg_init_create(const struct nc_wg_static *me, struct nc_wg_handshake *hs,
		      const uint8_t peer_pub[32], const uint8_t psk[32], uint32_t sender,
		      const uint8_t tai64n[12], uint8_t msg[NC_WG_INIT_LEN]);
/* The responder: decrypts the initiator's static key and timestamp (the caller finds
 * the peer by *remote_pub, checks the timestamp and sets hs->psk). 0 or -EBADMSG. */
int nc_wg_init_consume(const struct nc_wg_static *me, struct nc_wg_handshake *hs,
		       const uint8_t msg[NC_WG_INIT_LEN], uint8_t tai64n[12]);
int nc_wg_resp_create(struct nc_wg_handshake *hs, uint32_t sender,
		      uint8_t msg[NC_WG_RESP_LEN]);
/* The initiator: 0 or -EBADMSG (hs unchanged then). */
int nc_wg_resp_consume(const struct nc_wg_static *me, struct nc_wg_handshake *hs,
		       const uint8_t msg[NC_WG_RESP_LEN]);
/* The transport keys of a finished handshake (the handshake's secrets are wiped). */
int nc_wg_keys_derive(struct nc_wg_keys *k, struct nc_wg_handshake *hs, int initiator);
void nc_wg_keys_free(struct nc_wg_keys *k);
/* Transport keys given directly (for tests): 0 or -ENOMEM. */
int nc_wg_keys_set(struct nc_wg_keys *k, const uint8_t send[32], const uint8_t recv[32]);

/* MAC1 with the receiver's public key, MAC2 with a cookie (NULL: zeros). */
int nc_wg_macs_add(uint8_t *msg, size_t len, const uint8_t peer_pub[32],
		   const uint8_t *cookie);
int nc_wg_mac1_ok(const struct nc_wg_static *me, const uint8_t *msg, size_t len);

/* Cookies (the whitepaper's section 5.4.7). The responder's cookie for a source address
 * (its bytes, any length) under its current 32-byte secret: MAC(secret, src). */
int nc_wg_cookie_make(uint8_t cookie[16], const uint8_t secret[32], const void *src,
		      size_t srclen);
/* Whether msg's MAC2 is MAC(cookie, msg up to MAC2). */
int nc_wg_mac2_ok(const uint8_t cookie[16], const uint8_t *msg, size_t len);
/* The responder's cookie reply to a message (msg, len: its MAC1 is the reply's
 * associated data) whose sender index was receiver: a random nonce and the cookie sealed
 * with XChaCha20-Poly1305 under HASH("cookie--" || our public key). 0 or -EIO. */
int nc_wg_cookie_reply_create(const struct nc_wg_static *me, uint32_t receiver,
			      const uint8_t cookie[16], const uint8_t *msg, size_t len,
			      uint8_t out[NC_WG_COOKIE_LEN]);
/* The initiator: the cookie from a reply of the peer peer_pub to the message whose MAC1
 * was mac1. 0 or -EBADMSG. */
int nc_wg_cookie_reply_consume(const uint8_t peer_pub[32], const uint8_t mac1[16],
			       const uint8_t msg[NC_WG_COOKIE_LEN], uint8_t cookie[16]);
/* XChaCha20-Poly1305 (libsodium), 24-byte nonce: seal writes len + 16 bytes; open reads
 * len (≥ 16) and writes len − 16, or fails with -EBADMSG. */
int nc_wg_xaead_seal(uint8_t *out, const uint8_t key[32], const uint8_t nonce[24],
		     const void *in, size_t len, const void *ad, size_t adlen);
int nc_wg_xaead_open(uint8_t *out, const uint8_t key[32], const uint8_t nonce[24],
		     const void *in, size_t len, const void *ad, size_t adlen);

/* Transport data. Seal the packet given as iov (len bytes in all) into out: header,
 * ciphertext padded to 16, tag; returns the datagram's length. Open a datagram in place:
 * returns the padded plaintext's length (at buf + NC_WG_DATA_HLEN), or -EBADMSG;
 * nc_wg_data_open_to() writes the plaintext to out instead (len − NC_WG_DATA_MIN bytes;
 * out is buf + NC_WG_DATA_HLEN or does not overlap buf); after a failure out holds
 * unauthenticated bytes, never to be used. */
int nc_wg_data_seal(struct nc_wg_keys *k, uint32_t receiver, uint64_t counter,
		    const struct iovec *iov, int iovcnt, size_t len, uint8_t *out);
int nc_wg_data_open(struct nc_wg_keys *k, uint8_t *buf, size_t len);
int nc_wg_data_open_to(struct nc_wg_keys *k, const uint8_t *buf, size_t len, uint8_t *out);

/* Replay: ok() without marking (before decryption), mark() after it: 0 for a counter
 * never seen and not too old, -1 otherwise. */
int nc_wg_replay_ok(const struct nc_wg_replay *r, uint64_t counter);
int nc_wg_replay_mark(struct nc_wg_replay *r, uint64_t counter);

/* Little-endian helpers for the wire. */
static inline uint32_t nc_wg_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void nc_wg_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint64_t nc_wg_le64(const uint8_t *p)
{
	return (uint64_t)nc_wg_le32(p) | (uint64_t)nc_wg_le32(p + 4) << 32;
}
static inline void nc_wg_put_le64(uint8_t *p, uint64_t v)
{
	nc_wg_put_le32(p, (uint32_t)v);
	nc_wg_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif /* NETCON_WGNOISE_H */
