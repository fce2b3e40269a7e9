/*
 * wgnoise.c — WireGuard's Noise_IKpsk2 handshake, cookies and transport data, on
 * OpenSSL 3 and libsodium.
 *
 * Every primitive but one is OpenSSL's: X25519 (EVP_PKEY), BLAKE2s-256 (EVP_MD), keyed
 * BLAKE2s with a 16-byte output (EVP_MAC "BLAKE2SMAC", the protocol's MAC), HMAC-BLAKE2s
 * (EVP_MAC "HMAC", the KDF's), ChaCha20-Poly1305 (EVP_CIPHER). The cookie reply's
 * XChaCha20-Poly1305 is libsodium's (crypto_aead_xchacha20poly1305_ietf_*): OpenSSL 3.0
 * has no XChaCha20 (nor HChaCha20 to build it from). Nothing cryptographic is
 * written here: this file only strings the primitives together in the order the
 * protocol (the WireGuard whitepaper, section 5.4) says, with its constants:
 *
 *   Construction "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s",
 *   Identifier   "WireGuard v1 zx2c4 Jason@zx2c4.com",
 *   Label-MAC1   "mac1----",  Label-Cookie "cookie--".
 *
 * Message layouts (little-endian integers):
 *   initiation 148: type 1, 3 reserved, sender, ephemeral 32, static 32+16,
 *                   timestamp 12+16, mac1 16, mac2 16
 *   response    92: type 2, 3 reserved, sender, receiver, ephemeral 32, empty 0+16,
 *                   mac1 16, mac2 16
 *   cookie      64: type 3, 3 reserved, receiver, nonce 24, XChaCha20-Poly1305 of the
 *                   16-byte cookie (associated data: the MAC1 of the message answered)
 *   data     16+n : type 4, 3 reserved, receiver, counter 8, ChaCha20-Poly1305 of the
 *                   IP packet padded with zeros to a multiple of 16
 *
 * The handshake's chaining key and hash start from the constants (computed once), mix
 * in the responder's static key, then each step's keys and ciphertexts. A failed step
 * leaves the caller's state unchanged (work is done on a copy) and says -EBADMSG. DH
 * results of all zeros (low-order points) are refused by OpenSSL's X25519 and so here.
 *
 * The OpenSSL objects are created once (nc_wg_crypto_init) and reused: the service is
 * single-threaded, and fetching an algorithm per packet would cost more than the packet.
 * Secrets on the stack are wiped with OPENSSL_cleanse.
 */
#include "link/wgnoise.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

static const char CONSTRUCTION[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char IDENTIFIER[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char LABEL_MAC1[] = "mac1----";
static const char LABEL_COOKIE[] = "cookie--";

static EVP_MD *md_blake2s;
static EVP_MD_CTX *md_ctx;
static EVP_MAC_CTX *hmac_ctx, *kmac_ctx;
static EVP_CIPHER *aead;
static EVP_CIPHER_CTX *aead_ctx;
static uint8_t ck0[32], h0[32];   /* HASH(Construction), HASH(ck0 || Identifier) */

int nc_wg_crypto_init(char *why, size_t whylen)
{
	EVP_MAC *hmac, *kmac;
	OSSL_PARAM p[2];

	if (md_blake2s)
		return 0;
	if (sodium_init() < 0) {
		snprintf(why, whylen, "libsodium failed to initialise");
		return -ENOSYS;
	}
	md_blake2s = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	kmac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	aead = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	if (!md_blake2s || !hmac || !kmac || !aead) {
		snprintf(why, whylen, "OpenSSL lacks %s", !md_blake2s ? "BLAKE2S-256" :
			 !hmac ? "HMAC" : !kmac ? "BLAKE2SMAC" : "ChaCha20-Poly1305");
		EVP_MAC_free(hmac);
		EVP_MAC_free(kmac);
		return -ENOSYS;
	}
	md_ctx = EVP_MD_CTX_new();
	hmac_ctx = EVP_MAC_CTX_new(hmac);
	kmac_ctx = EVP_MAC_CTX_new(kmac);
	aead_ctx = EVP_CIPHER_CTX_new();
	EVP_MAC_free(hmac);   /* the contexts keep their references */
	EVP_MAC_free(kmac);
	if (!md_ctx || !hmac_ctx || !kmac_ctx || !aead_ctx) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"BLAKE2S-256", 0);
	p[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(hmac_ctx, p)) {
		snprintf(why, whylen, "OpenSSL refused HMAC with BLAKE2S-256");
		return -ENOSYS;
	}
	nc_wg_hash(ck0, CONSTRUCTION, strlen(CONSTRUCTION), NULL, 0);
	nc_wg_hash(h0, ck0, 32, IDENTIFIER, strlen(IDENTIFIER));
	return 0;
}

void nc_wg_hash(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned int n = 32;

	EVP_DigestInit_ex(md_ctx, md_blake2s, NULL);
	if (alen)
		EVP_DigestUpdate(md_ctx, a, alen);
	if (blen)
		EVP_DigestUpdate(md_ctx, b, blen);
	EVP_DigestFinal_ex(md_ctx, out, &n);
}

int nc_wg_mac(uint8_t out[16], const uint8_t *key, size_t keylen, const void *data, size_t len)
{
	size_t size = 16, outl = 0;
	OSSL_PARAM p[2];

	p[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
	p[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(kmac_ctx, key, keylen, p) || !EVP_MAC_update(kmac_ctx, data, len) ||
	    !EVP_MAC_final(kmac_ctx, out, &outl, 16) || outl != 16)
		return -EIO;
	return 0;
}

int nc_wg_hmac(uint8_t out[32], const uint8_t key[32], const void *data, size_t len)
{
	size_t outl = 0;

	if (!EVP_MAC_init(hmac_ctx, key, 32, NULL) || !EVP_MAC_update(hmac_ctx, data, len) ||
	    !EVP_MAC_final(hmac_ctx, out, &outl, 32) || outl != 32)
		return -EIO;
	return 0;
}

int nc_wg_kdf(int n, uint8_t out[][32], const uint8_t key[32], const void *in, size_t inlen)
{
	uint8_t t0[32], buf[33];
	int r = nc_wg_hmac(t0, key, in, inlen);

	for (int i = 0; r == 0 && i < n; i++) {
		size_t bl = 0;
		if (i > 0) {
			memcpy(buf, out[i - 1], 32);
			bl = 32;
		}
		buf[bl++] = (uint8_t)(i + 1);
		r = nc_wg_hmac(out[i], t0, buf, bl);
	}
	OPENSSL_cleanse(t0, sizeof(t0));
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

int nc_wg_keygen(uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t l1 = 32, l2 = 32;
	int ok;

	if (!k)
		return -EIO;
	ok = EVP_PKEY_get_raw_private_key(k, priv, &l1) && EVP_PKEY_get_raw_public_key(k, pub, &l2);
	EVP_PKEY_free(k);
	return ok && l1 == 32 && l2 == 32 ? 0 : -EIO;
}

int nc_wg_pubkey(uint8_t pub[32], const uint8_t priv[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t l = 32;
	int ok;

	if (!k)
		return -EINVAL;
	ok = EVP_PKEY_get_raw_public_key(k, pub, &l);
	EVP_PKEY_free(k);
	return ok && l == 32 ? 0 : -EIO;
}

int nc_wg_dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	EVP_PKEY *a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	EVP_PKEY *b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	EVP_PKEY_CTX *c = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
	size_t l = 32;
	int ok = c && b && EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer(c, b) > 0 &&
		 EVP_PKEY_derive(c, out, &l) > 0 && l == 32;

	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return ok ? 0 : -EINVAL;
}

static void nonce_of(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

int nc_wg_aead_seal(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *in,
		    size_t len, const void *ad, size_t adlen)
{
	uint8_t nonce[12];
	int l = 0, ok;

	nonce_of(nonce, counter);
	ok = EVP_EncryptInit_ex(aead_ctx, aead, NULL, key, nonce) &&
	     (!adlen || EVP_EncryptUpdate(aead_ctx, NULL, &l, ad, (int)adlen)) &&
	     (!len || EVP_EncryptUpdate(aead_ctx, out, &l, in, (int)len)) &&
	     EVP_EncryptFinal_ex(aead_ctx, out + len, &l) &&
	     EVP_CIPHER_CTX_ctrl(aead_ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len);
	return ok ? 0 : -EIO;
}

int nc_wg_aead_open(uint8_t *out, const uint8_t key[32], uint64_t counter, const void *in,
		    size_t len, const void *ad, size_t adlen)
{
	uint8_t nonce[12], tag[16];
	int l = 0, ok;

	if (len < 16)
		return -EBADMSG;
	len -= 16;
	memcpy(tag, (const uint8_t *)in + len, 16);
	nonce_of(nonce, counter);
	ok = EVP_DecryptInit_ex(aead_ctx, aead, NULL, key, nonce) &&
	     EVP_CIPHER_CTX_ctrl(aead_ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) &&
	     (!adlen || EVP_DecryptUpdate(aead_ctx, NULL, &l, ad, (int)adlen)) &&
	     (!len || EVP_DecryptUpdate(aead_ctx, out, &l, in, (int)len)) &&
	     EVP_DecryptFinal_ex(aead_ctx, out + len, &l) > 0;
	return ok ? 0 : -EBADMSG;
}

int nc_wg_static_init(struct nc_wg_static *s, const uint8_t priv[32])
{
	int r;

	memcpy(s->priv, priv, 32);
	r = nc_wg_pubkey(s->pub, priv);
	if (r < 0)
		return r;
	nc_wg_hash(s->mac1_key, LABEL_MAC1, 8, s->pub, 32);
	nc_wg_hash(s->cookie_key, LABEL_COOKIE, 8, s->pub, 32);
	return 0;
}

void nc_wg_tai64n(uint8_t out[12], uint64_t sec, uint32_t nsec)
{
	uint64_t label = 0x400000000000000aull + sec;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(label >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

/* h = HASH(h || data) */
static void mix_hash(uint8_t h[32], const void *data, size_t len)
{
	uint8_t t[32];

	nc_wg_hash(t, h, 32, data, len);
	memcpy(h, t, 32);
}

/* ck = KDF1(ck, data) */
static int mix_key1(uint8_t ck[32], const void *data, size_t len)
{
	uint8_t o[1][32];
	int r = nc_wg_kdf(1, o, ck, data, len);

	memcpy(ck, o[0], 32);
	OPENSSL_cleanse(o, sizeof(o));
	return r;
}

/* (ck, k) = KDF2(ck, DH(priv, pub)) */
static int mix_dh2(uint8_t ck[32], uint8_t k[32], const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t ss[32], o[2][32];
	int r = nc_wg_dh(ss, priv, pub);

	if (r == 0)
		r = nc_wg_kdf(2, o, ck, ss, 32);
	if (r == 0) {
		memcpy(ck, o[0], 32);
		memcpy(k, o[1], 32);
	}
	OPENSSL_cleanse(ss, sizeof(ss));
	OPENSSL_cleanse(o, sizeof(o));
	return r;
}

/* ck = KDF1(ck, DH(priv, pub)) */
static int mix_dh1(uint8_t ck[32], const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t ss[32];
	int r = nc_wg_dh(ss, priv, pub);

	if (r == 0)
		r = mix_key1(ck, ss, 32);
	OPENSSL_cleanse(ss, sizeof(ss));
	return r;
}

/* (ck, τ, k) = KDF3(ck, psk); h = HASH(h || τ) */
static int mix_psk(uint8_t ck[32], uint8_t h[32], uint8_t k[32], const uint8_t psk[32])
{
	uint8_t o[3][32];
	int r = nc_wg_kdf(3, o, ck, psk, 32);

	if (r == 0) {
		memcpy(ck, o[0], 32);
		mix_hash(h, o[1], 32);
		memcpy(k, o[2], 32);
	}
	OPENSSL_cleanse(o, sizeof(o));
	return r;
}

int nc_wg_init_create(const struct nc_wg_static *me, struct nc_wg_handshake *hs,
		      const uint8_t peer_pub[32], const uint8_t psk[32], uint32_t sender,
		      const uint8_t tai64n[12], uint8_t msg[NC_WG_INIT_LEN])
{
	struct nc_wg_handshake t;
	uint8_t k[32];
	int r;

	memset(&t, 0, sizeof(t));
	memcpy(t.remote_pub, peer_pub, 32);
	memcpy(t.psk, psk, 32);
	memcpy(t.ck, ck0, 32);
	nc_wg_hash(t.hash, h0, 32, peer_pub, 32);
	memset(msg, 0, NC_WG_INIT_LEN);
	msg[0] = NC_WG_MSG_INIT;
	nc_wg_put_le32(msg + 4, sender);
	r = nc_wg_keygen(t.e_priv, t.e_pub);
	if (r == 0) {
		memcpy(msg + 8, t.e_pub, 32);
		r = mix_key1(t.ck, t.e_pub, 32);
	}
	if (r == 0) {
		mix_hash(t.hash, t.e_pub, 32);
		r = mix_dh2(t.ck, k, t.e_priv, peer_pub);
	}
	if (r == 0)
		r = nc_wg_aead_seal(msg + 40, k, 0, me->pub, 32, t.hash, 32);
	if (r == 0) {
		mix_hash(t.hash, msg + 40, 48);
		r = mix_dh2(t.ck, k, me->priv, peer_pub);
	}
	if (r == 0)
		r = nc_wg_aead_seal(msg + 88, k, 0, tai64n, 12, t.hash, 32);
	if (r == 0) {
		mix_hash(t.hash, msg + 88, 28);
		*hs = t;
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

int nc_wg_init_consume(const struct nc_wg_static *me, struct nc_wg_handshake *hs,
		       const uint8_t msg[NC_WG_INIT_LEN], uint8_t tai64n[12])
{
	struct nc_wg_handshake t;
	uint8_t k[32];
	int r;

	memset(&t, 0, sizeof(t));
	memcpy(t.ck, ck0, 32);
	nc_wg_hash(t.hash, h0, 32, me->pub, 32);
	memcpy(t.remote_e, msg + 8, 32);
	t.remote_index = nc_wg_le32(msg + 4);
	r = mix_key1(t.ck, t.remote_e, 32);
	if (r == 0) {
		mix_hash(t.hash, t.remote_e, 32);
		r = mix_dh2(t.ck, k, me->priv, t.remote_e);
	}
	if (r == 0)
		r = nc_wg_aead_open(t.remote_pub, k, 0, msg + 40, 48, t.hash, 32);
	if (r == 0) {
		mix_hash(t.hash, msg + 40, 48);
		r = mix_dh2(t.ck, k, me->priv, t.remote_pub);
	}
	if (r == 0)
		r = nc_wg_aead_open(tai64n, k, 0, msg + 88, 28, t.hash, 32);
	if (r == 0) {
		mix_hash(t.hash, msg + 88, 28);
		*hs = t;
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(k, sizeof(k));
	return r < 0 ? -EBADMSG : 0;
}

int nc_wg_resp_create(struct nc_wg_handshake *hs, uint32_t sender, uint8_t msg[NC_WG_RESP_LEN])
{
	struct nc_wg_handshake t = *hs;
	uint8_t k[32];
	int r;

	memset(msg, 0, NC_WG_RESP_LEN);
	msg[0] = NC_WG_MSG_RESP;
	nc_wg_put_le32(msg + 4, sender);
	nc_wg_put_le32(msg + 8, t.remote_index);
	r = nc_wg_keygen(t.e_priv, t.e_pub);
	if (r == 0) {
		memcpy(msg + 12, t.e_pub, 32);
		r = mix_key1(t.ck, t.e_pub, 32);
	}
	if (r == 0) {
		mix_hash(t.hash, t.e_pub, 32);
		r = mix_dh1(t.ck, t.e_priv, t.remote_e);
	}
	if (r == 0)
		r = mix_dh1(t.ck, t.e_priv, t.remote_pub);
	if (r == 0)
		r = mix_psk(t.ck, t.hash, k, t.psk);
	if (r == 0)
		r = nc_wg_aead_seal(msg + 44, k, 0, NULL, 0, t.hash, 32);
	if (r == 0) {
		mix_hash(t.hash, msg + 44, 16);
		*hs = t;
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

int nc_wg_resp_consume(const struct nc_wg_static *me, struct nc_wg_handshake *hs,
		       const uint8_t msg[NC_WG_RESP_LEN])
{
	struct nc_wg_handshake t = *hs;
	uint8_t k[32], empty[1];
	int r;

	memcpy(t.remote_e, msg + 12, 32);
	t.remote_index = nc_wg_le32(msg + 4);
	r = mix_key1(t.ck, t.remote_e, 32);
	if (r == 0) {
		mix_hash(t.hash, t.remote_e, 32);
		r = mix_dh1(t.ck, t.e_priv, t.remote_e);
	}
	if (r == 0)
		r = mix_dh1(t.ck, me->priv, t.remote_e);
	if (r == 0)
		r = mix_psk(t.ck, t.hash, k, t.psk);
	if (r == 0)
		r = nc_wg_aead_open(empty, k, 0, msg + 44, 16, t.hash, 32);
	if (r == 0) {
		mix_hash(t.hash, msg + 44, 16);
		*hs = t;
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(k, sizeof(k));
	return r < 0 ? -EBADMSG : 0;
}

static void *keyed_ctx(const uint8_t key[32], int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c && !EVP_CipherInit_ex(c, aead, NULL, key, NULL, enc)) {
		EVP_CIPHER_CTX_free(c);
		c = NULL;
	}
	return c;
}

int nc_wg_keys_derive(struct nc_wg_keys *k, struct nc_wg_handshake *hs, int initiator)
{
	uint8_t o[2][32];
	int r = nc_wg_kdf(2, o, hs->ck, NULL, 0);

	memset(k, 0, sizeof(*k));
	if (r == 0) {
		k->send_ctx = keyed_ctx(o[initiator ? 0 : 1], 1);
		k->recv_ctx = keyed_ctx(o[initiator ? 1 : 0], 0);
		if (!k->send_ctx || !k->recv_ctx) {
			nc_wg_keys_free(k);
			r = -ENOMEM;
		}
	}
	OPENSSL_cleanse(o, sizeof(o));
	OPENSSL_cleanse(hs->ck, sizeof(hs->ck));
	OPENSSL_cleanse(hs->e_priv, sizeof(hs->e_priv));
	return r;
}

int nc_wg_keys_set(struct nc_wg_keys *k, const uint8_t send[32], const uint8_t recv[32])
{
	k->send_ctx = keyed_ctx(send, 1);
	k->recv_ctx = keyed_ctx(recv, 0);
	if (k->send_ctx && k->recv_ctx)
		return 0;
	nc_wg_keys_free(k);
	return -ENOMEM;
}

void nc_wg_keys_free(struct nc_wg_keys *k)
{
	EVP_CIPHER_CTX_free(k->send_ctx);   /* cleanses the key schedule */
	EVP_CIPHER_CTX_free(k->recv_ctx);
	k->send_ctx = k->recv_ctx = NULL;
}

int nc_wg_macs_add(uint8_t *msg, size_t len, const uint8_t peer_pub[32], const uint8_t *cookie)
{
	uint8_t key[32];
	int r;

	nc_wg_hash(key, LABEL_MAC1, 8, peer_pub, 32);
	r = nc_wg_mac(msg + len - 32, key, 32, msg, len - 32);
	if (r == 0 && cookie)
		r = nc_wg_mac(msg + len - 16, cookie, 16, msg, len - 16);
	else if (r == 0)
		memset(msg + len - 16, 0, 16);
	return r;
}

int nc_wg_mac1_ok(const struct nc_wg_static *me, const uint8_t *msg, size_t len)
{
	uint8_t m[16];

	if (nc_wg_mac(m, me->mac1_key, 32, msg, len - 32) < 0)
		return 0;
	return CRYPTO_memcmp(m, msg + len - 32, 16) == 0;
}

int nc_wg_cookie_make(uint8_t cookie[16], const uint8_t secret[32], const void *src,
		      size_t srclen)
{
	return nc_wg_mac(cookie, secret, 32, src, srclen);
}

int nc_wg_mac2_ok(const uint8_t cookie[16], const uint8_t *msg, size_t len)
{
	uint8_t m[16];

	if (nc_wg_mac(m, cookie, 16, msg, len - 16) < 0)
		return 0;
	return CRYPTO_memcmp(m, msg + len - 16, 16) == 0;
}

int nc_wg_xaead_seal(uint8_t *out, const uint8_t key[32], const uint8_t nonce[24],
		     const void *in, size_t len, const void *ad, size_t adlen)
{
	unsigned long long outl = 0;

	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out, &outl, in, len, ad, adlen, NULL,
						       nonce, key) != 0 || outl != len + 16)
		return -EIO;
	return 0;
}

int nc_wg_xaead_open(uint8_t *out, const uint8_t key[32], const uint8_t nonce[24],
		     const void *in, size_t len, const void *ad, size_t adlen)
{
	unsigned long long outl = 0;

	if (len < 16 || crypto_aead_xchacha20poly1305_ietf_decrypt(out, &outl, NULL, in, len,
								   ad, adlen, nonce, key) != 0)
		return -EBADMSG;
	return 0;
}

int nc_wg_cookie_reply_create(const struct nc_wg_static *me, uint32_t receiver,
			      const uint8_t cookie[16], const uint8_t *msg, size_t len,
			      uint8_t out[NC_WG_COOKIE_LEN])
{
	memset(out, 0, NC_WG_COOKIE_LEN);
	out[0] = NC_WG_MSG_COOKIE;
	nc_wg_put_le32(out + 4, receiver);
	randombytes_buf(out + 8, 24);
	return nc_wg_xaead_seal(out + 32, me->cookie_key, out + 8, cookie, 16, msg + len - 32, 16);
}

int nc_wg_cookie_reply_consume(const uint8_t peer_pub[32], const uint8_t mac1[16],
			       const uint8_t msg[NC_WG_COOKIE_LEN], uint8_t cookie[16])
{
	uint8_t key[32];
	int r;

	nc_wg_hash(key, LABEL_COOKIE, 8, peer_pub, 32);
	r = nc_wg_xaead_open(cookie, key, msg + 8, msg + 32, 32, mac1, 16);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

int nc_wg_data_seal(struct nc_wg_keys *k, uint32_t receiver, uint64_t counter,
		    const struct iovec *iov, int iovcnt, size_t len, uint8_t *out)
{
	static const uint8_t zeros[16];
	EVP_CIPHER_CTX *c = k->send_ctx;
	size_t padded = (len + 15) & ~(size_t)15, off = NC_WG_DATA_HLEN;
	uint8_t nonce[12];
	int l = 0;

	out[0] = NC_WG_MSG_DATA;
	out[1] = out[2] = out[3] = 0;
	nc_wg_put_le32(out + 4, receiver);
	nc_wg_put_le64(out + 8, counter);
	nonce_of(nonce, counter);
	if (!EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce))
		return -EIO;
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_len)
			continue;
		if (!EVP_EncryptUpdate(c, out + off, &l, iov[i].iov_base, (int)iov[i].iov_len))
			return -EIO;
		off += (size_t)l;
	}
	if (padded > len) {
		if (!EVP_EncryptUpdate(c, out + off, &l, zeros, (int)(padded - len)))
			return -EIO;
		off += (size_t)l;
	}
	if (off != NC_WG_DATA_HLEN + padded || !EVP_EncryptFinal_ex(c, out + off, &l) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + off))
		return -EIO;
	return (int)(off + NC_WG_TAG_LEN);
}

int nc_wg_data_open_to(struct nc_wg_keys *k, const uint8_t *buf, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = k->recv_ctx;
	size_t clen = len - NC_WG_DATA_MIN;
	uint8_t nonce[12], tag[NC_WG_TAG_LEN];
	int l = 0;

	if (len < NC_WG_DATA_MIN)
		return -EBADMSG;
	memcpy(tag, buf + len - NC_WG_TAG_LEN, sizeof(tag));
	nonce_of(nonce, nc_wg_le64(buf + 8));
	if (!EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, NC_WG_TAG_LEN, tag) ||
	    (clen && !EVP_DecryptUpdate(c, out, &l, buf + NC_WG_DATA_HLEN, (int)clen)) ||
	    EVP_DecryptFinal_ex(c, out + clen, &l) <= 0)
		return -EBADMSG;
	return (int)clen;
}

int nc_wg_data_open(struct nc_wg_keys *k, uint8_t *buf, size_t len)
{
	return nc_wg_data_open_to(k, buf, len, buf + NC_WG_DATA_HLEN);
}

int nc_wg_replay_ok(const struct nc_wg_replay *r, uint64_t c)
{
	if (c >= NC_WG_REJECT_AFTER_MESSAGES)
		return -1;
	if (c + 1 > r->greatest)
		return 0;
	if (r->greatest - 1 - c >= NC_WG_REPLAY_WINDOW)
		return -1;
	return (r->bits[(c / 64) % NC_WG_REPLAY_WORDS] >> (c % 64)) & 1 ? -1 : 0;
}

int nc_wg_replay_mark(struct nc_wg_replay *r, uint64_t c)
{
	if (nc_wg_replay_ok(r, c) < 0)
		return -1;
	if (c + 1 > r->greatest) {
		uint64_t top = r->greatest ? (r->greatest - 1) / 64 : 0, now = c / 64;

		if (!r->greatest || now - top >= NC_WG_REPLAY_WORDS)
			memset(r->bits, 0, sizeof(r->bits));
		else
			for (uint64_t w = top + 1; w <= now; w++)
				r->bits[w % NC_WG_REPLAY_WORDS] = 0;
		r->greatest = c + 1;
	}
	r->bits[(c / 64) % NC_WG_REPLAY_WORDS] |= 1ull << (c % 64);
	return 0;
}
