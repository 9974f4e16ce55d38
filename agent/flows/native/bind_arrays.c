/* See bind_arrays.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind_arrays.h"

/* The data of a typed array of the given type with exactly `length` elements, or NULL (and a TypeError). */
void *bind_typed(napi_env env, napi_value v, const char *name, napi_typedarray_type want, size_t length) {
  bool is;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok || type != want || len != length) {
    char msg[160];
    snprintf(msg, sizeof msg, "flow core: %s is not a typed array of the expected type and length %zu", name, length);
    napi_throw_type_error(env, "E_FLOW_CORE", msg);
    return NULL;
  }
  return data;
}

static void *column(napi_env env, napi_value cols, const char *name, napi_typedarray_type want, size_t length) {
  napi_value v;
  if (napi_get_named_property(env, cols, name, &v) != napi_ok) return NULL;
  return bind_typed(env, v, name, want, length);
}

/* One bytes field of a QUIC version: copied into `into` (at most 64 bytes), described by *out. */
static int quic_bytes(napi_env env, napi_value ver, const char *name, uint8_t *into, qc_bytes_t *out) {
  napi_value v;
  bool is;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_get_named_property(env, ver, name, &v) != napi_ok || napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array || len > 64) return 0;
  if (len > 0) memcpy(into, data, len);
  *out = (qc_bytes_t){into, len};
  return 1;
}

/* watch.quic: [{ wire, types (initial | retry << 4 | google frames << 8 | chlo << 9), salt, keyInfo, ivInfo, hpInfo }] (quic-keys.ts inPlaceQuicVersions). */
static int bind_quic(napi_env env, napi_value w, hello_watch_t *hw) {
  static const char *const names[4] = {"salt", "keyInfo", "ivInfo", "hpInfo"};
  napi_value list, ver, v;
  uint32_t n = 0;
  bool is_array = false;
  if (napi_get_named_property(env, w, "quic", &list) != napi_ok || napi_is_array(env, list, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, list, &n) != napi_ok || n > 256) goto bad;
  hw->quic = n == 0 ? NULL : calloc(n, sizeof *hw->quic);
  if (n > 0 && hw->quic == NULL) goto bad;
  hw->n_quic = n;
  for (uint32_t i = 0; i < n; i++) {
    hw_quic_t *q = &hw->quic[i];
    int32_t types;
    if (napi_get_element(env, list, i, &ver) != napi_ok || napi_get_named_property(env, ver, "wire", &v) != napi_ok ||
        napi_get_value_uint32(env, v, &q->v.wire) != napi_ok || napi_get_named_property(env, ver, "types", &v) != napi_ok ||
        napi_get_value_int32(env, v, &types) != napi_ok) goto bad;
    q->v.initial_type = types & 0xf;
    q->v.retry_type = (types >> 4) & 0xf;
    q->v.google = (types >> 8) & 1;
    q->v.chlo = (types >> 9) & 1;
    for (int k = 0; k < 4; k++) {
      if (!quic_bytes(env, ver, names[k], q->bytes[k], &q->info[k])) goto bad;
    }
  }
  hw_quic_ready(hw);
  return 0;
bad:
  free(hw->quic);
  hw->quic = NULL;
  hw->n_quic = 0;
  napi_throw_type_error(env, "E_FLOW_CORE", "flow core: watch.quic must list { wire, types, salt, keyInfo, ivInfo, hpInfo } (bytes: Uint8Array of at most 64)");
  return -1;
}

/* The handshake inspector's per-slot arrays (agent/meta/flow-plugin.ts), checked as the columns are. */
int bind_watch(napi_env env, napi_value w, size_t n, hello_watch_t *hw) {
  napi_value v;
  bool enabled;
  if (!(hw->state = column(env, w, "state", napi_uint8_array, n)) || !(hw->isn = column(env, w, "isn", napi_uint32_array, n)) ||
      !(hw->syn_seen = column(env, w, "synSeen", napi_uint8_array, n)) ||
      !(hw->server_version = column(env, w, "serverVersion", napi_uint32_array, n)) ||
      !(hw->held = column(env, w, "held", napi_uint8_array, n)) || !(hw->reports = column(env, w, "reports", napi_uint8_array, n))) return -1;
  if (napi_get_named_property(env, w, "enabled", &v) != napi_ok || napi_get_value_bool(env, v, &enabled) != napi_ok) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: watch.enabled must be a boolean");
    return -1;
  }
  hw->enabled = enabled;
  int32_t max_packets;
  if (napi_get_named_property(env, w, "maxPackets", &v) != napi_ok || napi_get_value_int32(env, v, &max_packets) != napi_ok ||
      max_packets < 1 || max_packets > 0x3fff) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: watch.maxPackets must be an integer in [1, 16383]");
    return -1;
  }
  hw->max_packets = max_packets;
  if (napi_get_named_property(env, w, "maxBuffer", &v) != napi_ok || napi_get_value_double(env, v, &hw->max_buffer) != napi_ok ||
      !(hw->max_buffer >= 0)) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: watch.maxBuffer must be a number >= 0");
    return -1;
  }
  if (napi_get_named_property(env, w, "maxKept", &v) != napi_ok || napi_get_value_uint32(env, v, &hw->max_kept) != napi_ok) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: watch.maxKept must be a number >= 0");
    return -1;
  }
  return bind_quic(env, w, hw);
}

int bind_columns(napi_env env, napi_value cols, size_t n, columns_t *c) {
#define COL(field, type, per)                                                   \
  if (!(c->field = column(env, cols, #field, type, n * (per)))) return -1;
  COL(hash, napi_uint32_array, 1) COL(srcIp, napi_uint32_array, 4) COL(dstIp, napi_uint32_array, 4)
  COL(ports, napi_uint32_array, 1) COL(proto, napi_uint8_array, 1) COL(ipVersion, napi_uint8_array, 1)
  COL(vlan, napi_uint32_array, 1) COL(lruPrev, napi_int32_array, 1) COL(lruNext, napi_int32_array, 1)
  COL(lastTouch, napi_float64_array, 1) COL(closeAt, napi_float64_array, 1) COL(tcpEnd, napi_uint8_array, 1)
  COL(gen, napi_uint32_array, 1) COL(firstTs, napi_float64_array, 1) COL(lastTs, napi_float64_array, 1)
  COL(biIatMin, napi_float32_array, 1) COL(biIatMax, napi_float32_array, 1) COL(biIatSum, napi_float64_array, 1)
  COL(biIatSq, napi_float64_array, 1) COL(activeStart, napi_float64_array, 1)
  COL(actMin, napi_float32_array, 1) COL(actMax, napi_float32_array, 1) COL(actSum, napi_float64_array, 1)
  COL(actSq, napi_float64_array, 1) COL(actN, napi_uint32_array, 1)
  COL(idleMin, napi_float32_array, 1) COL(idleMax, napi_float32_array, 1) COL(idleSum, napi_float64_array, 1)
  COL(idleSq, napi_float64_array, 1) COL(idleN, napi_uint32_array, 1)
  COL(pkts, napi_uint32_array, 2) COL(bytes, napi_float64_array, 2) COL(payBytes, napi_float64_array, 2)
  COL(szMin, napi_uint32_array, 2) COL(szMax, napi_uint32_array, 2) COL(szSq, napi_float64_array, 2)
  COL(iatMin, napi_float32_array, 2) COL(iatMax, napi_float32_array, 2) COL(iatSum, napi_float64_array, 2)
  COL(iatSq, napi_float64_array, 2) COL(dirFirstTs, napi_float64_array, 2) COL(dirLastTs, napi_float64_array, 2)
  COL(lastPayTs, napi_float64_array, 2) COL(initWin, napi_uint16_array, 2)
  COL(flags, napi_uint32_array, 16) COL(histSize, napi_uint32_array, 2 * HIST_BINS) COL(histIat, napi_uint32_array, 2 * HIST_BINS)
  COL(ppiN, napi_uint8_array, 1) COL(ppiDirs, napi_uint32_array, 1) COL(ppiSize, napi_uint16_array, PPI_LEN)
  COL(ppiIat, napi_float32_array, PPI_LEN) COL(ppiLastTs, napi_float64_array, 1)
#undef COL
  return 0;
}
