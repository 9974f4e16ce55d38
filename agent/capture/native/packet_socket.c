/*
 * The kernel's drop counter of a live capture's AF_PACKET socket
 * (getsockopt PACKET_STATISTICS: packets the ring buffer had no room for),
 * read on the descriptor live_capture.c reports. Small and dependency-free:
 * plain Node-API, no C++.
 */
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif

static napi_value throw_errno(napi_env env, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int arg_int(napi_env env, napi_callback_info info, size_t n, int32_t *out) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc <= n) return -1;
  return napi_get_value_int32(env, argv[n], out) == napi_ok ? 0 : -1;
}

/* stats(fd) -> [packets, drops] since the previous call (the kernel resets them on read). */
static napi_value Stats(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (arg_int(env, info, 0, &fd) != 0) {
    napi_throw_type_error(env, NULL, "stats(fd): fd must be an integer");
    return NULL;
  }
  /* tpacket_stats_v3 starts with the same two counters as tpacket_stats; a v3 socket fills the larger struct. */
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  memset(&st, 0, sizeof st);
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return throw_errno(env, "getsockopt(PACKET_STATISTICS)");
  napi_value arr, a, b;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_double(env, (double)st.tp_packets, &a);
  napi_create_double(env, (double)st.tp_drops, &b);
  napi_set_element(env, arr, 0, a);
  napi_set_element(env, arr, 1, b);
  return arr;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
