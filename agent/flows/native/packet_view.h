/*
 * The packet view: a Float64Array through which C hands JavaScript a decoded packet (the
 * packets the handshake inspector sees, and decode() for tests and tools), in
 * agent/flows/native-core.ts's field order; and the layout object that tells JavaScript the
 * view's fields and the table's counter indexes, so they are declared once, here.
 */
#ifndef ETA_PACKET_VIEW_H
#define ETA_PACKET_VIEW_H

#include <node_api.h>

#include "packet.h"

/* Fields of the packet view (a Float64Array), in agent/flows/native-core.ts's order. */
enum {
  PV_IP_VERSION = 0, PV_S0, PV_S1, PV_S2, PV_S3, PV_D0, PV_D1, PV_D2, PV_D3, PV_PROTO, PV_SPORT, PV_DPORT,
  PV_VLAN, PV_VLAN_INNER, PV_IP_BYTES, PV_PAYLOAD_LEN, PV_PAYLOAD_OFF, PV_CAP_PAYLOAD, PV_TCP_FLAGS,
  PV_TCP_WINDOW, PV_TCP_SEQ, PV_FRAG, PV_FRAG_ID, PV_TUNNELS, PV_SLOT, PV_COUNT
};

/* Write p's fields into the view v (PV_COUNT doubles; PV_SLOT is the caller's). */
void packet_view_copy(const packet_t *p, double *v);
/* decode(buf, linkType, offset, capLength, gtp, view): decode one frame into the view; returns its skip code. */
napi_value packet_view_decode(napi_env env, napi_callback_info info);
/* The layout object (counter indexes, view length and field names); NULL with an exception pending on failure. */
napi_value packet_view_layout(napi_env env);

#endif
