/*
 * Live capture through libpcap, polled on Node's event loop.
 *
 * Why not `cap`: its poll callback asserts that libuv reported no error, and libuv reports one
 * (UV_EBADF) whenever the socket signals POLLERR, which an AF_PACKET socket does as soon as its
 * interface goes down or away (`ip link set eth1 down`, a PPP link dropping). The assertion
 * aborted the whole agent, every interface with it. Here that error is handed to JavaScript,
 * which closes that one interface, counts it and tries to reopen it later. Owning the binding
 * also gives the kernel's timestamp and the packet's length on the wire (cap gave neither), and
 * honours promiscuous off (cap always asked for promiscuous mode).
 *
 * JavaScript API (see live-capture.ts):
 *   open(device, filter, snaplen, promisc, bufferBytes, buffer, onPacket, onError)
 *     -> { handle, linkType (a DLT_ value), fd, warning }
 *     onPacket(capLength, wireLength, tsMicros): the packet's first capLength bytes are in `buffer`
 *     onError(message): the capture stopped (interface down or gone, read error); close() it
 *   close(handle)
 *   checkFilter(filter, linkType, snaplen) -> libpcap's message, or undefined
 * Opening libpcap is pcap_setup.c, the polling of an open capture capture_poll.c.
 * Plain Node-API and libuv; no C++.
 */
#include <node_api.h>
#include <uv.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_poll.h"
#include "pcap_setup.h"

static void throw_msg(napi_env env, const char *a, const char *b) {
  char msg[PCAP_ERRBUF_SIZE + 160];
  snprintf(msg, sizeof msg, "%s%s", a, b ? b : "");
  napi_throw_error(env, NULL, msg);
}

/* The whole string or nothing: too long, or holding a NUL that would cut it short in C, is refused. */
static int get_string(napi_env env, napi_value v, char *out, size_t size) {
  size_t full, len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &full) != napi_ok || full >= size) return -1;
  if (napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok || len != full) return -1;
  return memchr(out, 0, len) == NULL ? 0 : -1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Capture *c = (Capture *)data;
  c->finalized = 1;
  if (c->closed) free(c);
  else if (!c->closing) {
    /* Dropped without close(): close now; on_closed frees. */
    c->closing = 1;
    if (!c->in_poll) capture_finish_close(c);
  }
}

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "open(device, filter, snaplen, promisc, bufferBytes, buffer, onPacket, onError)");
    return NULL;
  }
  char device[256], filter[8192];
  int32_t snaplen, bufsize;
  bool promisc;
  void *data;
  size_t length;
  if (get_string(env, argv[0], device, sizeof device) != 0 || get_string(env, argv[1], filter, sizeof filter) != 0
      || napi_get_value_int32(env, argv[2], &snaplen) != napi_ok || napi_get_value_bool(env, argv[3], &promisc) != napi_ok
      || napi_get_value_int32(env, argv[4], &bufsize) != napi_ok || napi_get_buffer_info(env, argv[5], &data, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(): bad arguments (device and filter must be strings without NUL, at most 255 and 8191 bytes)");
    return NULL;
  }
  char msg[PCAP_ERRBUF_SIZE + 160];
  const char *warning = "";
  pcap_t *p = pcap_setup_open(device, filter, snaplen, promisc, bufsize, &warning, msg, sizeof msg);
  if (!p) {
    throw_msg(env, msg, NULL);
    return NULL;
  }
  int fd = pcap_get_selectable_fd(p);
  uv_loop_t *loop;
  if (fd < 0 || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    pcap_close(p);
    throw_msg(env, "no pollable descriptor for ", device);
    return NULL;
  }

  Capture *c = calloc(1, sizeof *c);
  if (!c) {
    pcap_close(p);
    throw_msg(env, "out of memory", NULL);
    return NULL;
  }
  c->env = env;
  c->pcap = p;
  c->data = data;
  c->length = length;
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "eta-sensor:capture", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &c->async);
  napi_create_reference(env, resource, 1, &c->resource);
  napi_create_reference(env, argv[5], 1, &c->buffer);
  napi_create_reference(env, argv[6], 1, &c->on_packet);
  napi_create_reference(env, argv[7], 1, &c->on_error);
  int uvrc = uv_poll_init(loop, &c->poll, fd);
  c->poll.data = c;
  if (uvrc != 0) {
    /* Never initialised, so never closed by libuv: release here. */
    c->finalized = 1;
    capture_on_closed((uv_handle_t *)&c->poll);
    throw_msg(env, "cannot poll the capture: ", uv_strerror(uvrc));
    return NULL;
  }
  uvrc = uv_poll_start(&c->poll, UV_READABLE, capture_on_poll);
  if (uvrc != 0) {
    c->closing = 1;
    c->finalized = 1; /* no handle is handed out */
    capture_finish_close(c);  /* on_closed releases and frees */
    throw_msg(env, "cannot poll the capture: ", uv_strerror(uvrc));
    return NULL;
  }
  c->polling = 1;

  napi_value out, handle, v;
  napi_create_object(env, &out);
  napi_create_external(env, c, finalize, NULL, &handle);
  napi_set_named_property(env, out, "handle", handle);
  napi_create_int32(env, pcap_datalink(p), &v);
  napi_set_named_property(env, out, "linkType", v);
  napi_create_int32(env, fd, &v);
  napi_set_named_property(env, out, "fd", v);
  napi_create_string_utf8(env, warning, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "warning", v);
  return out;
}

/* close(handle): stops polling and releases the capture once libuv let go of the descriptor. Twice is a no-op. */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Capture *c;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&c) != napi_ok || !c) {
    napi_throw_type_error(env, NULL, "close(handle)");
    return NULL;
  }
  if (c->closing) return NULL;
  c->closing = 1;
  if (c->in_poll) pcap_breakloop(c->pcap); /* on_poll finishes the close when it returns */
  else capture_finish_close(c);
  return NULL;
}

/*
 * checkFilter(filter, linkType, snaplen): libpcap's message for a filter it cannot compile for
 * that link type, or undefined. For check-config, which opens no capture: compiled against a
 * dead handle, the way tcpdump -d does.
 */
static napi_value CheckFilter(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  char filter[8192]; /* as open() */
  int32_t link, snaplen;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_int32(env, argv[1], &link) != napi_ok || napi_get_value_int32(env, argv[2], &snaplen) != napi_ok) {
    napi_throw_type_error(env, NULL, "checkFilter(filter, linkType, snaplen)");
    return NULL;
  }
  if (get_string(env, argv[0], filter, sizeof filter) != 0) {
    /* The same refusal as open(): a filter open() would not take is not valid here either. */
    napi_create_string_utf8(env, "the filter must be at most 8,191 bytes without NUL characters", NAPI_AUTO_LENGTH, &out);
    return out;
  }
  char msg[PCAP_ERRBUF_SIZE + 160];
  int r = pcap_setup_check_filter(filter, link, snaplen, msg, sizeof msg);
  if (r < 0) {
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  if (r > 0) napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &out);
  else napi_get_undefined(env, &out);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, Open, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, Close, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  napi_create_function(env, "checkFilter", NAPI_AUTO_LENGTH, CheckFilter, NULL, &fn);
  napi_set_named_property(env, exports, "checkFilter", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
