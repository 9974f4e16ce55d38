/*
 * Minimal stand-ins for the Node-API calls reached by hello_watch_hello_of, hello_watch_take_split and
 * hello_rec_*: enough to drive those functions from a libFuzzer harness. napi_value carries either a small
 * integer (cast to a pointer) or a pointer to a stub_typed_t; callback info is a stub_info_t.
 * Strings and buffers handed back are read through fully (so ASan checks every byte) and then dropped.
 */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#include "napi_stub.h"

volatile unsigned stub_sink;

static void touch(const void *p, size_t n) {
  const unsigned char *b = p;
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s += b[i];
  stub_sink += s;
}

napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data) {
  (void)env;
  const stub_info_t *i = (const stub_info_t *)info;
  size_t n = *argc < i->argc ? *argc : i->argc;
  for (size_t k = 0; k < n; k++) argv[k] = i->argv[k];
  *argc = i->argc;
  if (this_arg) *this_arg = NULL;
  if (data) *data = i->data;
  return napi_ok;
}

napi_status napi_get_value_uint32(napi_env env, napi_value v, uint32_t *out) {
  (void)env;
  *out = (uint32_t)(uintptr_t)v;
  return napi_ok;
}

napi_status napi_is_typedarray(napi_env env, napi_value v, bool *out) {
  (void)env;
  *out = v != NULL && ((stub_typed_t *)v)->magic == STUB_TYPED_MAGIC;
  return napi_ok;
}

napi_status napi_get_typedarray_info(napi_env env, napi_value v, napi_typedarray_type *type, size_t *len, void **data, napi_value *ab, size_t *off) {
  (void)env;
  stub_typed_t *t = (stub_typed_t *)v;
  if (type) *type = t->type;
  if (len) *len = t->len;
  if (data) *data = t->data;
  if (ab) *ab = NULL;
  if (off) *off = 0;
  return napi_ok;
}

static int dummy_value;

napi_status napi_create_buffer_copy(napi_env env, size_t length, const void *data, void **result_data, napi_value *result) {
  (void)env;
  touch(data, length);
  if (result_data) *result_data = NULL;
  *result = (napi_value)&dummy_value;
  stub_last_len = length;
  return napi_ok;
}

napi_status napi_create_string_latin1(napi_env env, const char *str, size_t length, napi_value *result) {
  (void)env;
  touch(str, length);
  *result = (napi_value)&dummy_value;
  stub_last_len = length;
  return napi_ok;
}

size_t stub_last_len;

napi_status napi_get_null(napi_env env, napi_value *result) { (void)env; *result = NULL; return napi_ok; }
napi_status napi_create_int32(napi_env env, int32_t v, napi_value *result) { (void)env; *result = (napi_value)(uintptr_t)(uint32_t)v; return napi_ok; }
napi_status napi_create_uint32(napi_env env, uint32_t v, napi_value *result) { (void)env; *result = (napi_value)(uintptr_t)v; return napi_ok; }
napi_status napi_set_element(napi_env env, napi_value o, uint32_t i, napi_value v) { (void)env; (void)o; (void)i; (void)v; return napi_ok; }
napi_status napi_throw_error(napi_env env, const char *c, const char *m) { (void)env; (void)c; (void)m; stub_thrown++; return napi_ok; }
napi_status napi_throw_range_error(napi_env env, const char *c, const char *m) { (void)env; (void)c; (void)m; stub_thrown++; return napi_ok; }
napi_status napi_throw_type_error(napi_env env, const char *c, const char *m) { (void)env; (void)c; (void)m; stub_thrown++; return napi_ok; }
int stub_thrown;
