/*
 * QUIC Initial packet protection (RFC 9001 5): the Initial key derivation (HKDF-SHA256)
 * and the opening of one protected packet (AES-ECB header protection, AES-128-GCM), for
 * agent/meta/quic-keys.ts and quic-packet.ts. Why C: done through node:crypto and a
 * JavaScript SHA-256, set-up on both sides of the native boundary cost more than the
 * cryptography; here a packet is one N-API call. The libcrypto is the one the node binary
 * exports (OpenSSL 3.0 in node 20): nothing else is linked.
 *
 * Nothing here throws on packet data: offsets and lengths that do not fit the buffer give
 * null, as a packet that does not authenticate does. Only arguments of the wrong type (a
 * programming error) throw.
 */
#include <limits.h>
#include <math.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quic_hmac.h"

/* RFC 9001 5.3-5.4 with AES-128-GCM: sizes, and where quic-keys.ts's packed keys put each part. */
#define QC_KEY 16
#define QC_IV 12
#define QC_TAG 16
#define QC_SAMPLE 16
#define QC_SECRET 32
#define QC_KEY_AT 0
#define QC_IV_AT (QC_KEY_AT + QC_KEY)
#define QC_HP_AT (QC_IV_AT + QC_IV)
#define QC_PACKED (QC_HP_AT + QC_KEY)

/* Per Node-API environment (the main thread and each worker load their own): the two
 * cipher contexts every packet reuses, with the keys they hold. Re-keying a context costs
 * an AES key schedule (and GCM's hash table) but no allocation; a flow's Initials use the
 * same keys, so consecutive packets usually skip even that. */
typedef struct {
  EVP_CIPHER_CTX *ecb;
  EVP_CIPHER_CTX *gcm;
  uint8_t hp[QC_KEY];
  uint8_t key[QC_KEY];
  int hp_set;
  int key_set;
  double *pn; /* the exported `pn` Float64Array's one element: where openProtected puts the packet number */
} state_t;

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *s = data;
  EVP_CIPHER_CTX_free(s->ecb);
  EVP_CIPHER_CTX_free(s->gcm);
  free(s);
}

/* ---- argument helpers ---- */

/* The bytes of a Uint8Array (Buffers are ones), or NULL with a TypeError pending. */
static const uint8_t *bytes(napi_env env, napi_value v, const char *name, size_t *len) {
  bool is;
  napi_typedarray_type type;
  void *data;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "E_QUIC_CRYPTO", name);
    return NULL;
  }
  /* An empty view may have no data pointer; callers index only within *len. */
  static const uint8_t none[1];
  return data != NULL ? data : none;
}

/* A number argument, or 0 with a TypeError pending. */
static int number(napi_env env, napi_value v, const char *name, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "E_QUIC_CRYPTO", name);
    return 0;
  }
  return 1;
}

/* An integral offset in [0, limit]: NaN, infinities, fractions and negatives are not. */
static int offset_in(double v, double limit) {
  return v >= 0 && v <= limit && v == floor(v);
}

/* A failed allocation is an error, never a silent undefined (callers test for null); the
 * inspector's catch counts it as internal-error. A pending exception is left as it is. */
static napi_value out_of_memory(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "E_QUIC_CRYPTO", "quic crypto: out of memory");
  return NULL;
}

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

/*
 * initialKeys(salt, dcid, inInfo, keyInfo, ivInfo, hpInfo): a Buffer holding the initial
 * secret of one direction, then its key, iv and hp (QC_SECRET + QC_PACKED bytes).
 *
 *   prk = HMAC(salt, dcid); secret = HMAC(prk, inInfo); key|iv|hp = HMAC(secret, info)...
 *
 * Every info is an HkdfLabel already followed by Expand's counter byte 0x01, so each
 * HKDF-Expand output (at most 32 bytes) is that one HMAC, truncated.
 */
static napi_value initial_keys(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  static const char *const names[6] = {
    "quic crypto: salt must be a Uint8Array", "quic crypto: dcid must be a Uint8Array",
    "quic crypto: inInfo must be a Uint8Array", "quic crypto: keyInfo must be a Uint8Array",
    "quic crypto: ivInfo must be a Uint8Array", "quic crypto: hpInfo must be a Uint8Array",
  };
  const uint8_t *in[6];
  size_t len[6];
  for (size_t i = 0; i < 6; i++) {
    if (i >= argc) {
      napi_throw_type_error(env, "E_QUIC_CRYPTO", names[i]);
      return NULL;
    }
    if (!(in[i] = bytes(env, argv[i], names[i], &len[i]))) return NULL;
  }
  napi_value result;
  void *data;
  if (napi_create_buffer(env, QC_SECRET + QC_PACKED, &data, &result) != napi_ok) return out_of_memory(env);
  uint8_t *out = data;
  uint8_t prk[SHA256_DIGEST_LENGTH], block[SHA256_DIGEST_LENGTH];
  hmac_key k;
  quic_hmac_init(&k, in[0], len[0]);
  quic_hmac(&k, in[1], len[1], prk);
  quic_hmac_init(&k, prk, sizeof prk);
  quic_hmac(&k, in[2], len[2], out); /* the secret is exactly one block */
  quic_hmac_init(&k, out, QC_SECRET);
  quic_hmac(&k, in[3], len[3], block);
  memcpy(out + QC_SECRET + QC_KEY_AT, block, QC_KEY);
  quic_hmac(&k, in[4], len[4], block);
  memcpy(out + QC_SECRET + QC_IV_AT, block, QC_IV);
  quic_hmac(&k, in[5], len[5], block);
  memcpy(out + QC_SECRET + QC_HP_AT, block, QC_KEY);
  return result;
}

/* ---- packet opening ---- */

/* RFC 9000 A.3, in doubles like quic-packet.ts's decodePn did, so that even values past
 * 2^53 round identically. */
static double decode_pn(double largest, double truncated, int bits) {
  double expected = largest + 1;
  double win = ldexp(1, bits);
  double half = win / 2;
  double candidate = (expected - fmod(expected, win)) + truncated;
  if (candidate <= expected - half && candidate < ldexp(1, 62) - win) return candidate + win;
  if (candidate > expected + half && candidate >= win) return candidate - win;
  return candidate;
}

static int set_key(EVP_CIPHER_CTX *ctx, uint8_t *held, int *set, const uint8_t *key, int gcm) {
  if (*set && memcmp(held, key, QC_KEY) == 0) return 1;
  *set = 0;
  int ok = gcm ? EVP_DecryptInit_ex(ctx, NULL, NULL, key, NULL) : EVP_EncryptInit_ex(ctx, NULL, NULL, key, NULL);
  if (!ok) return 0;
  memcpy(held, key, QC_KEY);
  *set = 1;
  return 1;
}

/* Feeds additional authenticated data; empty pieces are skipped (no call at all). */
static int aad(EVP_CIPHER_CTX *ctx, const uint8_t *b, size_t len) {
  int outl;
  return len == 0 || EVP_DecryptUpdate(ctx, NULL, &outl, b, (int)len);
}

/*
 * openProtected(p, off, pnOff, end, keys, largestPn): the plaintext of the packet p[off,
 * end) whose packet number starts at pnOff, or null when the offsets do not fit p, the
 * packet is too short or it does not authenticate. On success the full packet number is
 * in the exported pn[0]. `keys` is key|iv|hp (QC_PACKED bytes).
 *
 * p is never written: the unmasked first byte and packet number are fed to GCM as
 * additional data from a copy, around the untouched bytes between them.
 */
static napi_value open_protected(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  state_t *s;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&s) != napi_ok) return NULL;
  if (argc < 6) {
    napi_throw_type_error(env, "E_QUIC_CRYPTO", "quic crypto: openProtected takes 6 arguments");
    return NULL;
  }
  size_t len, keys_len;
  double off_d, pn_off_d, end_d, largest;
  const uint8_t *p = bytes(env, argv[0], "quic crypto: the packet must be a Uint8Array", &len);
  if (p == NULL || !number(env, argv[1], "quic crypto: off must be a number", &off_d) ||
      !number(env, argv[2], "quic crypto: pnOff must be a number", &pn_off_d) ||
      !number(env, argv[3], "quic crypto: end must be a number", &end_d)) return NULL;
  const uint8_t *keys = bytes(env, argv[4], "quic crypto: keys must be a Uint8Array", &keys_len);
  if (keys == NULL || !number(env, argv[5], "quic crypto: largestPn must be a number", &largest)) return NULL;
  if (keys_len != QC_PACKED) {
    napi_throw_type_error(env, "E_QUIC_CRYPTO", "quic crypto: keys must be key, iv and hp (44 bytes)");
    return NULL;
  }
  /* Checked as doubles before any conversion: no sum below can wrap. The first byte comes
   * before the packet number, the sample (4 bytes past it) and the tag lie within end, which
   * fits EVP's int lengths. */
  double limit = len < INT_MAX ? (double)len : (double)INT_MAX;
  if (!offset_in(end_d, limit) || !offset_in(off_d, end_d) || !offset_in(pn_off_d, end_d) || off_d >= pn_off_d ||
      pn_off_d + 4 + QC_SAMPLE > end_d) return null_value(env);
  /* Packet numbers are integers from -1 (none yet) up; 2^63 keeps every decoded one a uint64. */
  if (!(largest >= -1 && largest < ldexp(1, 63) && largest == floor(largest))) return null_value(env);
  size_t off = (size_t)off_d, pn_off = (size_t)pn_off_d, end = (size_t)end_d;

  uint8_t mask[16 + 16]; /* one block, plus room EVP may claim for a block of output */
  int outl = 0;
  if (!set_key(s->ecb, s->hp, &s->hp_set, keys + QC_HP_AT, 0) ||
      !EVP_EncryptUpdate(s->ecb, mask, &outl, p + pn_off + 4, QC_SAMPLE) || outl != QC_SAMPLE) return null_value(env);

  uint8_t first = p[off] ^ (mask[0] & 0x0f); /* long header: four bits are protected */
  size_t pn_len = (size_t)(first & 0x03) + 1;
  size_t hdr_end = pn_off + pn_len;
  if (hdr_end + QC_TAG > end) return null_value(env);
  uint8_t pn_bytes[4];
  double truncated = 0;
  for (size_t k = 0; k < pn_len; k++) {
    pn_bytes[k] = p[pn_off + k] ^ mask[1 + k];
    truncated = truncated * 256 + pn_bytes[k];
  }
  double pn = decode_pn(largest, truncated, (int)pn_len * 8);
  uint64_t pn_int = (uint64_t)pn; /* 0 <= pn < 2^64 by the bounds above */
  uint8_t nonce[QC_IV];
  memcpy(nonce, keys + QC_IV_AT, QC_IV);
  for (int k = 0; k < 8; k++) nonce[QC_IV - 1 - k] ^= (uint8_t)(pn_int >> (8 * k));

  size_t ct_len = end - QC_TAG - hdr_end;
  if (!set_key(s->gcm, s->key, &s->key_set, keys + QC_KEY_AT, 1) || !EVP_DecryptInit_ex(s->gcm, NULL, NULL, NULL, nonce) ||
      !aad(s->gcm, &first, 1) || !aad(s->gcm, p + off + 1, pn_off - off - 1) || !aad(s->gcm, pn_bytes, pn_len) ||
      /* SET_TAG copies the tag; the pointer is not const only in the generic ctrl signature */
      !EVP_CIPHER_CTX_ctrl(s->gcm, EVP_CTRL_GCM_SET_TAG, QC_TAG, (void *)(p + end - QC_TAG))) {
    s->key_set = 0; /* whatever state the context is in, key it afresh next time */
    return null_value(env);
  }
  napi_value result;
  void *data;
  if (napi_create_buffer(env, ct_len, &data, &result) != napi_ok) return out_of_memory(env);
  if (ct_len > 0 && (!EVP_DecryptUpdate(s->gcm, data, &outl, p + hdr_end, (int)ct_len) || (size_t)outl != ct_len)) {
    s->key_set = 0;
    return null_value(env);
  }
  uint8_t rest[16];
  if (EVP_DecryptFinal_ex(s->gcm, rest, &outl) <= 0) return null_value(env); /* the tag did not match */
  *s->pn = pn;
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  state_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, "E_QUIC_CRYPTO", "quic crypto: out of memory");
    return NULL;
  }
  s->ecb = EVP_CIPHER_CTX_new();
  s->gcm = EVP_CIPHER_CTX_new();
  if (s->ecb == NULL || s->gcm == NULL || !EVP_EncryptInit_ex(s->ecb, EVP_aes_128_ecb(), NULL, NULL, NULL) ||
      !EVP_CIPHER_CTX_set_padding(s->ecb, 0) || !EVP_DecryptInit_ex(s->gcm, EVP_aes_128_gcm(), NULL, NULL, NULL) ||
      !EVP_CIPHER_CTX_ctrl(s->gcm, EVP_CTRL_GCM_SET_IVLEN, QC_IV, NULL)) {
    finalize_state(env, s, NULL);
    napi_throw_error(env, "E_QUIC_CRYPTO", "quic crypto: AES-128-ECB/GCM contexts could not be made");
    return NULL;
  }
  if (napi_set_instance_data(env, s, finalize_state, NULL) != napi_ok) {
    finalize_state(env, s, NULL);
    return NULL;
  }
  napi_value ab, pn, fn;
  void *pn_data;
  napi_ref keep; /* the exported array must outlive any reassignment of exports.pn: s->pn points into it */
  if (napi_create_arraybuffer(env, sizeof(double), &pn_data, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, 1, ab, 0, &pn) != napi_ok ||
      napi_create_reference(env, ab, 1, &keep) != napi_ok || napi_set_named_property(env, exports, "pn", pn) != napi_ok) return NULL;
  s->pn = pn_data;
  *s->pn = -1;
  if (napi_create_function(env, "initialKeys", NAPI_AUTO_LENGTH, initial_keys, s, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "initialKeys", fn) != napi_ok ||
      napi_create_function(env, "openProtected", NAPI_AUTO_LENGTH, open_protected, s, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "openProtected", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
