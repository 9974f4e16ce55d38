/*
 * quicHelloInPlace (tls_hello addon): quic_initial.c's reading of a QUIC flow's first datagram,
 * for JavaScript's QuicReader (quic.ts afterClientHello). The flow core calls qi_read_datagram
 * itself (hello_watch.c); this is the same reading behind a Node-API function.
 */
#include <math.h>
#include <stdlib.h>

#include "quic_initial.h"

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  qi_state_free(data);
}

static napi_value fail_args(napi_env env) {
  napi_throw_type_error(env, "E_TLS_HELLO",
                        "quicHelloInPlace(b: Uint8Array, off, len, salt, keyInfo, ivInfo, hpInfo: Uint8Array, types, maxBuffer, out: unknown[])");
  return NULL;
}

static int u8_arg(napi_env env, napi_value v, const uint8_t **b, size_t *len) {
  bool is = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  static const uint8_t none[1];
  *b = data != NULL ? data : none;
  return 1;
}

/*
 * quicHelloInPlace(b, off, len, salt, keyInfo, ivInfo, hpInfo, types, maxBuffer, out): the
 * datagram b[off, off + len) of a version whose Initials carry IETF frames and a TLS hello,
 * with that version's salt and HKDF label infos (quic-keys.ts) and its Initial and Retry
 * long-header types (types = initial | retry << 4). As helloMeta (JA4 'q') when the datagram's
 * ClientHello is read here; -1 when the JavaScript reader must read the datagram.
 */
static napi_value hello_in_place(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  qi_state_t *s;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&s) != napi_ok) return NULL;
  const uint8_t *b;
  size_t blen;
  qc_bytes_t infos[4];
  double off, len, max_buffer;
  int32_t types;
  bool is_array = false;
  if (argc < 10 || !u8_arg(env, argv[0], &b, &blen) || napi_get_value_double(env, argv[1], &off) != napi_ok ||
      napi_get_value_double(env, argv[2], &len) != napi_ok || napi_get_value_int32(env, argv[7], &types) != napi_ok ||
      napi_get_value_double(env, argv[8], &max_buffer) != napi_ok || napi_is_array(env, argv[9], &is_array) != napi_ok ||
      !is_array) return fail_args(env);
  for (int i = 0; i < 4; i++) {
    if (!u8_arg(env, argv[3 + i], &infos[i].b, &infos[i].len)) return fail_args(env);
  }
  if (!(off >= 0 && len >= 0 && off + len <= (double)blen && off == floor(off) && len == floor(len))) {
    napi_throw_range_error(env, "E_TLS_HELLO", "quicHelloInPlace: off and len must be integers within b");
    return NULL;
  }
  const uint8_t *p = b + (size_t)off;
  size_t n = (size_t)len;
  qi_version_t v = {n >= 5 ? qi_be32(p + 1) : 0, types & 0xf, (types >> 4) & 0xf};
  tls_hello_t hello;
  if (!qi_read_datagram(s, p, n, &v, infos, max_buffer, &hello)) return th_int(env, -1);
  return th_summary(env, &hello, 'q', argv[9]);
}

int quic_initial_export(napi_env env, napi_value exports) {
  qi_state_t *s = qi_state_new();
  if (s == NULL || napi_set_instance_data(env, s, finalize_state, NULL) != napi_ok) {
    qi_state_free(s);
    napi_throw_error(env, "E_TLS_HELLO", "tls_hello: out of memory, or AES-128-ECB/GCM contexts could not be made");
    return 0;
  }
  napi_value fn;
  return napi_create_function(env, "quicHelloInPlace", NAPI_AUTO_LENGTH, hello_in_place, s, &fn) == napi_ok &&
         napi_set_named_property(env, exports, "quicHelloInPlace", fn) == napi_ok;
}
