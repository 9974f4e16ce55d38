/*
 * keepFreedMemory(mmapThreshold, trimThreshold): glibc's malloc keeps freed memory for reuse
 * instead of handing it back to the kernel at once. Returns true when glibc took both settings,
 * false where there is no glibc (musl) or it refused them.
 *
 * Why: by default glibc returns the top of its heap to the kernel as soon as 128 KiB of it are
 * free, and serves each block of over 128 KiB (until one is freed) with a fresh mmap. The agent
 * frees and allocates such blocks all the time (feature chunks, the sinks' write buffers,
 * onnxruntime's per-batch tensors), so the same memory was handed back and faulted in again,
 * page by page: a replay of 338,480 flows took 45,000 page faults, and on this project's virtual
 * machines a fault costs ~12 µs (11.7 measured by touching fresh pages). Kept, the same replay took 22,600 faults and ran 13-30%
 * faster without models (bench/agent.ts). The peak RSS barely moved: 124 -> 129 MiB there, and
 * 693 -> 704 bytes per flow with 1,000,000 flows open (bench memory).
 * Why native: Node has no binding for mallopt(3), and GLIBC_TUNABLES must be set before the
 * process starts, which a command run by hand (replay, extract) cannot arrange.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value keep_freed_memory(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int64_t mmap_threshold = 0, trim_threshold = 0;
  bool ok = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 2
      && napi_get_value_int64(env, argv[0], &mmap_threshold) == napi_ok
      && napi_get_value_int64(env, argv[1], &trim_threshold) == napi_ok
      && mmap_threshold > 0 && mmap_threshold <= INT32_MAX && trim_threshold > 0 && trim_threshold <= INT32_MAX) {
#if defined(__GLIBC__)
    /* mallopt returns 1 on success; glibc caps M_MMAP_THRESHOLD at 32 MiB on 64-bit systems. */
    ok = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1;
#endif
  }
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "keepFreedMemory", NAPI_AUTO_LENGTH, keep_freed_memory, NULL, &fn);
  napi_set_named_property(env, exports, "keepFreedMemory", fn);
  return exports;
}
