/*
 * Where a buffer sits in memory, for the capture reader's read buffers (file-reader.ts). Why:
 * on the AMD EPYC machines this runs on, the kernel's copy from the page cache into a
 * destination 16 bytes past a 32-byte boundary (where glibc puts every large malloc'd block,
 * so every Buffer of a few MiB) ran at ~1.8 GB/s against ~9 GB/s into an aligned one: a 1.4 GB
 * capture cost 0.8 s of CPU on the thread pool instead of 0.15 s. JavaScript cannot see an
 * address, so this says how far to move. Plain Node-API, no dependency.
 */
#include <node_api.h>
#include <stdint.h>

/* misalignment(buf: Uint8Array, align: number): (address of buf[0]) mod align, align a power of two up to 4096. */
static napi_value misalignment(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  bool is = false;
  napi_typedarray_type type;
  size_t len;
  void *data = NULL;
  uint32_t align = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_is_typedarray(env, argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &align) != napi_ok || align == 0 || align > 4096 || (align & (align - 1)) != 0) {
    napi_throw_type_error(env, "E_READ_BUFFER", "misalignment(buf: Uint8Array, align: a power of two <= 4096)");
    return NULL;
  }
  if (napi_create_uint32(env, (uint32_t)((uintptr_t)data & (align - 1)), &result) != napi_ok) return NULL;
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "misalignment", NAPI_AUTO_LENGTH, misalignment, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "misalignment", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
