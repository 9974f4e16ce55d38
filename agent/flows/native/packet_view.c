/* See packet_view.h. */
#include <string.h>

#include "bind_arrays.h"
#include "packet_view.h"
#include "table.h"

void packet_view_copy(const packet_t *p, double *v) {
  v[PV_IP_VERSION] = p->ip_version;
  for (int i = 0; i < 4; i++) {
    v[PV_S0 + i] = p->s[i];
    v[PV_D0 + i] = p->d[i];
  }
  v[PV_PROTO] = p->proto; v[PV_SPORT] = p->sport; v[PV_DPORT] = p->dport;
  v[PV_VLAN] = p->vlan; v[PV_VLAN_INNER] = p->vlan_inner;
  v[PV_IP_BYTES] = p->ip_bytes; v[PV_PAYLOAD_LEN] = (double)p->payload_len;
  v[PV_PAYLOAD_OFF] = (double)p->payload_off; v[PV_CAP_PAYLOAD] = (double)p->cap_payload;
  v[PV_TCP_FLAGS] = p->tcp_flags; v[PV_TCP_WINDOW] = p->tcp_window; v[PV_TCP_SEQ] = p->tcp_seq;
  v[PV_FRAG] = p->frag; v[PV_FRAG_ID] = p->frag_id; v[PV_TUNNELS] = p->tunnels;
}

/* decode(buf, linkType, offset, capLength, gtp, view): decode one frame into the view; returns its skip code. */
napi_value packet_view_decode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t len;
  uint32_t link, off, cap;
  bool gtp;
  double *view;
  if (argc < 6 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok || napi_get_value_uint32(env, argv[1], &link) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &off) != napi_ok || napi_get_value_uint32(env, argv[3], &cap) != napi_ok ||
      napi_get_value_bool(env, argv[4], &gtp) != napi_ok) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: decode(buf, linkType, offset, capLength, gtp, view)");
    return NULL;
  }
  if (!(view = bind_typed(env, argv[5], "view", napi_float64_array, PV_COUNT))) return NULL;
  if ((size_t)off + cap > len) {
    napi_throw_range_error(env, "E_FLOW_CORE", "flow core: frame lies outside the buffer");
    return NULL;
  }
  packet_t p;
  memset(&p, 0, sizeof p);
  int r = decode_frame(link, data, off, cap, &p, gtp);
  packet_view_copy(&p, view);
  CHECK(napi_create_uint32(env, (uint32_t)r, &out));
  return out;
}

/* Counter indexes and sizes, so JavaScript reads them from here rather than repeating them. */
napi_value packet_view_layout(napi_env env) {
  napi_value o, v;
  if (napi_create_object(env, &o) != napi_ok) return NULL;
  const struct { const char *name; double value; } f[] = {
    {"frames", ST_FRAMES}, {"packets", ST_PACKETS}, {"created", ST_CREATED}, {"live", ST_LIVE},
    {"clockJumps", ST_CLOCK_JUMPS}, {"clockHeld", ST_CLOCK_HELD}, {"fragmentOrphans", ST_FRAG_ORPHANS}, {"ended", ST_ENDED},
    {"skips", ST_SKIPS}, {"clock", ST_CLOCK}, {"ioPos", ST_IO_POS}, {"ioFrames", ST_IO_FRAMES}, {"ioBytes", ST_IO_BYTES}, {"statsLength", ST_COUNT}, {"viewLength", PV_COUNT},
    {"pluginPacket", PLUGIN_PACKET}, {"viewSlot", PV_SLOT},
  };
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (napi_create_double(env, f[i].value, &v) != napi_ok || napi_set_named_property(env, o, f[i].name, v) != napi_ok) return NULL;
  }
  /* The view's fields in order, named as the JavaScript Packet's (a test checks fillPacket against it). */
  static const char *fields[PV_COUNT] = {
    "ipVersion", "s0", "s1", "s2", "s3", "d0", "d1", "d2", "d3", "proto", "sport", "dport", "vlan", "vlanInner",
    "ipBytes", "payloadLen", "payloadOff", "capPayload", "tcpFlags", "tcpWindow", "tcpSeq", "frag", "fragId", "tunnels", "slot",
  };
  napi_value names, name;
  if (napi_create_array_with_length(env, PV_COUNT, &names) != napi_ok) return NULL;
  for (uint32_t i = 0; i < PV_COUNT; i++) {
    if (napi_create_string_utf8(env, fields[i], NAPI_AUTO_LENGTH, &name) != napi_ok || napi_set_element(env, names, i, name) != napi_ok) return NULL;
  }
  if (napi_set_named_property(env, o, "viewFields", names) != napi_ok) return NULL;
  return o;
}
