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
#include <stdlib.h>
#include <string.h>

#include "hello_rec.h"
#include "tls_hello.h"

/* ---- Node-API ---- */

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, "E_TLS_HELLO", "tls_hello: " #call " failed"); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

/* n as a JavaScript number, or NULL with an exception pending. */
static napi_value th_int(napi_env env, int32_t n) {
  napi_value v;
  CHECK(napi_create_int32(env, n, &v));
  return v;
}

/* helloMeta's result for the parsed hello h with the JA4 of `proto`. */
static napi_value th_summary(napi_env env, const tls_hello_t *h, char proto, napi_value out) {
  hello_rec_t *r = hello_rec_new(h, proto);
  if (r == NULL) {
    napi_throw_error(env, "E_TLS_HELLO", "tls_hello: out of memory");
    return NULL;
  }
  napi_value n = hello_rec_js(env, r, r->highest, out);
  free(r);
  return n;
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

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(napi_create_function(env, "helloMeta", NAPI_AUTO_LENGTH, hello_meta, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "helloMeta", fn));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
