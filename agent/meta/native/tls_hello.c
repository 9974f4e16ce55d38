/*
 * ClientHello parsing and JA4 in C (Node-API addon "tls_hello"), producing
 * exactly what agent/meta/hello.ts and ja4.ts produce. Why C: parsing and the
 * fingerprint in JavaScript, with V8 compiling them and collecting the arrays
 * and strings they made, were a large part of the metadata's cost; here a
 * hello costs one call and the few strings the metadata keeps.
 *
 * The bytes are untrusted: every read is checked against [start, end), and
 * start/end against the array, whatever the caller passes.
 */
#include <node_api.h>
#include <math.h>
#include <string.h>

#include "ja4.h"
#include "quic_initial.h"
#include "tls_hello.h"

#define EXT_SNI 0x0000
#define EXT_SIG_ALGS 0x000d
#define EXT_ALPN 0x0010
#define EXT_SUPPORTED_VERSIONS 0x002b

/* readSni: the first host_name entry decides; null when it is not printable ASCII (asciiName). */
static void read_sni(const uint8_t *b, size_t s, size_t e, tls_hello_t *h) {
  if (s + 2 > e) return;
  size_t list_end = s + 2 + th_u16(b, s);
  if (list_end > e) list_end = e;
  for (size_t p = s + 2; p + 3 <= list_end;) {
    size_t name_end = p + 3 + th_u16(b, p + 1);
    if (name_end > list_end) return;
    if (b[p] == 0) {
      size_t n = name_end - (p + 3);
      if (n == 0 || n > TLS_HELLO_MAX_SNI) return;
      for (size_t i = p + 3; i < name_end; i++) if (b[i] < 0x21 || b[i] > 0x7e) return;
      h->has_sni = 1;
      h->sni.off = p + 3;
      h->sni.len = n;
      return;
    }
    p = name_end;
  }
}

/* readAlpn: values until one overruns the list; only the first extension that yields a value counts. */
static void read_alpn(const uint8_t *b, size_t s, size_t e, tls_hello_t *h) {
  if (s + 2 > e || h->has_alpn_first) return;
  size_t list_end = s + 2 + th_u16(b, s);
  if (list_end > e) list_end = e;
  for (size_t p = s + 2; p < list_end;) {
    size_t v_end = p + 1 + b[p];
    if (v_end > list_end) return;
    th_span_t v = {p + 1, v_end - (p + 1)};
    if (!h->has_alpn_first) {
      h->has_alpn_first = 1;
      h->alpn_first = v;
    }
    if (h->alpn_count < TLS_HELLO_MAX_ALPN) h->alpn[h->alpn_count++] = v;
    p = v_end;
  }
}

int tls_hello_parse(const uint8_t *b, size_t start, size_t end, int dtls, tls_hello_t *h) {
  memset(h, 0, sizeof *h);
  h->b = b;
  size_t p = start + 2 + 32;
  if (start > end || p + 1 > end) return 0;
  h->legacy_version = th_u16(b, start);
  p += 1 + (size_t)b[p]; /* session id */
  if (dtls) {
    if (p + 1 > end) return 0;
    p += 1 + (size_t)b[p]; /* cookie */
  }
  if (p + 2 > end) return 0;
  size_t cipher_len = th_u16(b, p);
  p += 2;
  if (cipher_len % 2 != 0 || p + cipher_len > end) return 0;
  h->ciphers.off = p;
  h->ciphers.len = cipher_len;
  p += cipher_len;
  if (p + 1 > end) return 0;
  p += 1 + (size_t)b[p]; /* compression methods */
  if (p > end) return 0;
  if (p == end) return 1; /* SSL 3.0 / early TLS: no extensions block */
  if (p + 2 > end) return 0;
  size_t ext_end = p + 2 + th_u16(b, p);
  p += 2;
  if (ext_end > end) return 0;
  h->exts.off = p;
  h->exts.len = ext_end - p;
  while (p < ext_end) {
    if (p + 4 > ext_end) return 0;
    uint16_t type = th_u16(b, p);
    size_t len = th_u16(b, p + 2);
    size_t s = p + 4, e = s + len;
    if (e > ext_end) return 0;
    h->n_exts++;
    if (type == EXT_SNI) {
      if (!h->has_sni) read_sni(b, s, e, h);
    } else if (type == EXT_ALPN) {
      read_alpn(b, s, e, h);
    } else if (type == EXT_SUPPORTED_VERSIONS && len >= 1 && s + 1 + b[s] <= e) {
      h->versions.off = s + 1;
      h->versions.len = b[s];
    } else if (type == EXT_SIG_ALGS && len >= 2 && s + 2 + th_u16(b, s) <= e) {
      h->sig_algs.off = s + 2;
      h->sig_algs.len = th_u16(b, s);
    }
    p = e;
  }
  return 1;
}

/* hello.ts's versionRank times 256, so that TLS 1.3 drafts (0x7fXX) rank in integers between 1.2 and 1.3. */
static uint32_t version_rank(uint16_t v) {
  if (v >= 0xfe00) return (0x10000u + (0xffffu - v)) << 8;
  if ((v >> 8) == 0x7f) return (0x0303u << 8) + (v & 0xffu);
  return (uint32_t)v << 8;
}

uint16_t tls_hello_highest(const tls_hello_t *h) {
  int found = 0;
  uint16_t best = 0;
  for (size_t i = 0; i + 1 < h->versions.len; i += 2) {
    uint16_t v = th_u16(h->b, h->versions.off + i);
    if (!th_is_grease(v) && (!found || version_rank(v) > version_rank(best))) {
      best = v;
      found = 1;
    }
  }
  return found ? best : h->legacy_version;
}

/* ---- Node-API ---- */

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, "E_TLS_HELLO", "tls_hello: " #call " failed"); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

/* alpnText: printable values as text, others (and the empty value) as "0x<hex>". */
static napi_status alpn_string(napi_env env, const uint8_t *v, size_t n, napi_value *out) {
  int printable = n > 0;
  for (size_t i = 0; i < n && printable; i++) printable = v[i] >= 0x20 && v[i] <= 0x7e;
  if (printable) return napi_create_string_latin1(env, (const char *)v, n, out);
  static const char hex[] = "0123456789abcdef";
  char text[2 + 2 * 255];
  text[0] = '0';
  text[1] = 'x';
  for (size_t i = 0; i < n; i++) {
    text[2 + 2 * i] = hex[v[i] >> 4];
    text[3 + 2 * i] = hex[v[i] & 0xf];
  }
  return napi_create_string_latin1(env, text, 2 + 2 * n, out);
}

/* An integer argument in [0, max], else -1. */
static double index_arg(napi_env env, napi_value v, size_t max) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > (double)max || d != floor(d)) return -1;
  return d;
}

/*
 * helloMeta(b: Uint8Array, start, end, dtls: boolean, proto: char code of 't' | 'q' | 'd', out: unknown[]):
 * -1 exactly when parseClientHello returns null; else the number n of ALPN values, with
 * out[0] = sni (string | null), out[1] = highest offered version, out[2] = JA4 and
 * out[3 .. 3 + n) = the ALPN values, each as hello.ts shows them.
 * Why an out array and not a result object: an object built through Node-API gets its
 * properties one by one, each a key lookup and a map transition, which cost more than the
 * parse and the fingerprint together; storing elements into an array that lives on does not.
 * Throws a RangeError for start/end outside b, a TypeError for arguments of the wrong type.
 */
static napi_value hello_meta(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  bool is_typed = false, is_array = false;
  if (argc < 6 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
      napi_is_array(env, argv[5], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, "E_TLS_HELLO", "helloMeta(b: Uint8Array, start, end, dtls, proto, out: unknown[])");
    return NULL;
  }
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, "E_TLS_HELLO", "helloMeta: b must be a Uint8Array");
    return NULL;
  }
  double start = index_arg(env, argv[1], length), end = index_arg(env, argv[2], length);
  if (start < 0 || end < 0) {
    napi_throw_range_error(env, "E_TLS_HELLO", "helloMeta: start and end must be integers within b");
    return NULL;
  }
  bool dtls;
  int32_t proto;
  if (napi_get_value_bool(env, argv[3], &dtls) != napi_ok || napi_get_value_int32(env, argv[4], &proto) != napi_ok ||
      (proto != 't' && proto != 'q' && proto != 'd')) {
    napi_throw_type_error(env, "E_TLS_HELLO", "helloMeta: dtls must be a boolean and proto the code of 't', 'q' or 'd'");
    return NULL;
  }

  tls_hello_t h;
  if (data == NULL || !tls_hello_parse(data, (size_t)start, (size_t)end, dtls, &h)) return th_int(env, -1);
  return th_summary(env, &h, (char)proto, argv[5]);
}

napi_value th_int(napi_env env, int32_t n) {
  napi_value v;
  CHECK(napi_create_int32(env, n, &v));
  return v;
}

napi_value th_summary(napi_env env, const tls_hello_t *h, char proto, napi_value out) {
  char ja4[JA4_LEN];
  if (!ja4_write(proto, h, ja4)) {
    napi_throw_error(env, "E_TLS_HELLO", "tls_hello: out of memory");
    return NULL;
  }
  napi_value v;
  if (h->has_sni) CHECK(napi_create_string_latin1(env, (const char *)h->b + h->sni.off, h->sni.len, &v));
  else CHECK(napi_get_null(env, &v));
  CHECK(napi_set_element(env, out, 0, v));
  CHECK(napi_create_uint32(env, tls_hello_highest(h), &v));
  CHECK(napi_set_element(env, out, 1, v));
  CHECK(napi_create_string_latin1(env, ja4, JA4_LEN, &v));
  CHECK(napi_set_element(env, out, 2, v));
  for (unsigned i = 0; i < h->alpn_count; i++) {
    CHECK(alpn_string(env, h->b + h->alpn[i].off, h->alpn[i].len, &v));
    CHECK(napi_set_element(env, out, 3 + i, v));
  }
  return th_int(env, (int32_t)h->alpn_count);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(napi_create_function(env, "helloMeta", NAPI_AUTO_LENGTH, hello_meta, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "helloMeta", fn));
  return quic_initial_export(env, exports) ? exports : NULL;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
