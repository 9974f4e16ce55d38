/*
 * Two things the `cap` package does not expose for a live capture on Linux,
 * done on the AF_PACKET socket libpcap opened for it:
 *   - the kernel's drop counter (getsockopt PACKET_STATISTICS: packets the
 *     ring buffer had no room for), which libpcap reads in pcap_stats() but
 *     cap never calls;
 *   - leaving promiscuous mode (cap always asks libpcap for it; libpcap sets it
 *     as a PACKET_MR_PROMISC membership of this socket, which we drop).
 * The socket's file descriptor is found by the caller from /proc (see
 * packet-socket.ts). Small and dependency-free: plain Node-API, no C++.
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

/* leavePromiscuous(fd, ifindex): drop the PACKET_MR_PROMISC membership libpcap added. */
static napi_value LeavePromiscuous(napi_env env, napi_callback_info info) {
  int32_t fd, ifindex;
  if (arg_int(env, info, 0, &fd) != 0 || arg_int(env, info, 1, &ifindex) != 0) {
    napi_throw_type_error(env, NULL, "leavePromiscuous(fd, ifindex): integers expected");
    return NULL;
  }
  struct packet_mreq mr;
  memset(&mr, 0, sizeof mr);
  mr.mr_ifindex = ifindex;
  mr.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(fd, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof mr) != 0) return throw_errno(env, "setsockopt(PACKET_DROP_MEMBERSHIP)");
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
    {"leavePromiscuous", NULL, LeavePromiscuous, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
