/*
 * QUIC Initial packet protection (RFC 9001 5): the Initial key derivation (HKDF-SHA256)
 * and the opening of one protected packet (AES-ECB header protection, AES-128-GCM), for
 * agent/meta/quic-keys.ts and quic-packet.ts: the Node-API side of quic_open.c. Why C: done
 * through node:crypto and a JavaScript SHA-256, set-up on both sides of the native boundary
 * cost more than the cryptography; here a packet is one N-API call.
 *
 * Nothing here throws on packet data: offsets and lengths that do not fit the buffer give
 * null, as a packet that does not authenticate does. Only arguments of the wrong type (a
 * programming error) throw.
 */
#include <limits.h>
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gquic_hash.h"
#include "quic_open.h"

/* Per Node-API environment (the main thread and each worker load their own): the cipher
 * contexts (quic_open.h), and where openProtected puts the packet number. */
typedef struct {
  quic_open_t open;
  double *pn; /* the exported `pn` Float64Array's one element */
} state_t;

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  state_t *s = data;
  quic_open_free(&s->open);
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
 * secret of one direction, then its key, iv and hp, as quic_initial_keys derives them.
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
  qc_bytes_t arg[6];
  for (size_t i = 0; i < 6; i++) arg[i] = (qc_bytes_t){in[i], len[i]};
  quic_initial_keys(arg[0], arg[1], arg[2], arg[3], arg[4], arg[5], data);
  return result;
}

/* ---- packet opening ---- */

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

  quic_header_t h;
  if (!quic_unprotect(&s->open, p, off, pn_off, end, keys, largest, &h)) return null_value(env);
  napi_value result;
  void *data;
  if (napi_create_buffer(env, end - QC_TAG - h.hdr_end, &data, &result) != napi_ok) return out_of_memory(env);
  if (!quic_decrypt(&s->open, p, off, pn_off, end, keys, &h, data)) return null_value(env);
  *s->pn = h.pn;
  return result;
}

/* gquicClientHash(p, hashOff, withPerspective): gquic_hash.h's check of a client packet's hash. */
static napi_value gquic_client_hash(napi_env env, napi_callback_info info) {
  size_t argc = 3, len;
  napi_value argv[3], out;
  double off;
  bool perspective;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  const uint8_t *p = argc < 3 ? NULL : bytes(env, argv[0], "gquicClientHash: p must be a Uint8Array", &len);
  if (p == NULL || !number(env, argv[1], "gquicClientHash: hashOff must be a number", &off)) return NULL;
  if (napi_get_value_bool(env, argv[2], &perspective) != napi_ok) {
    napi_throw_type_error(env, "E_QUIC_CRYPTO", "gquicClientHash: withPerspective must be a boolean");
    return NULL;
  }
  int ok = offset_in(off, (double)len) && gquic_client_hash_matches(p, len, (size_t)off, perspective);
  return napi_get_boolean(env, ok, &out) == napi_ok ? out : NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  state_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, "E_QUIC_CRYPTO", "quic crypto: out of memory");
    return NULL;
  }
  if (!quic_open_init(&s->open)) {
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
      napi_set_named_property(env, exports, "openProtected", fn) != napi_ok ||
      napi_create_function(env, "gquicClientHash", NAPI_AUTO_LENGTH, gquic_client_hash, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "gquicClientHash", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
