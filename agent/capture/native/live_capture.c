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
 * Plain Node-API and libuv; no C++.
 */
#include <node_api.h>
#include <uv.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  napi_env env;
  pcap_t *pcap;
  uv_poll_t poll;
  napi_ref buffer;
  napi_ref on_packet;
  napi_ref on_error;
  napi_ref resource;
  napi_async_context async;
  uint8_t *data;
  size_t length;
  int polling;
  int in_poll;       /* inside on_poll: a close() asked for from JavaScript is finished there */
  int closing;       /* close() was asked for */
  int close_started; /* uv_close called (once only) */
  int closed;        /* on_closed ran: pcap and references released */
  int finalized;     /* the JavaScript handle was collected: the struct may go once closed too */
} Capture;

/* Packets handled per wake-up at most: libuv's poll is level-triggered, so the rest is read on
 * the next turn of the loop, after timers, signals, other interfaces and the MQTT socket. */
#define MAX_PACKETS_PER_WAKEUP 1024

static void throw_msg(napi_env env, const char *a, const char *b) {
  char msg[PCAP_ERRBUF_SIZE + 160];
  snprintf(msg, sizeof msg, "%s%s", a, b ? b : "");
  napi_throw_error(env, NULL, msg);
}

/* The struct lives while JavaScript holds its handle (a close() after the close is then harmless)
 * and until libuv let go of the poll handle, whichever is later. */
static void on_closed(uv_handle_t *h) {
  Capture *c = (Capture *)h->data;
  pcap_close(c->pcap); /* after the poll handle is closed: libuv must not watch a closed fd */
  napi_delete_reference(c->env, c->buffer);
  napi_delete_reference(c->env, c->on_packet);
  napi_delete_reference(c->env, c->on_error);
  napi_delete_reference(c->env, c->resource);
  napi_async_destroy(c->env, c->async);
  c->closed = 1;
  if (c->finalized) free(c);
}

static void finish_close(Capture *c) {
  if (c->close_started) return;
  c->close_started = 1;
  if (c->polling) uv_poll_stop(&c->poll);
  c->polling = 0;
  uv_close((uv_handle_t *)&c->poll, on_closed);
}

/*
 * Calls one of the JavaScript callbacks. A throw there is the program's error, not the capture's:
 * it is reported as uncaught. Returns 0, or -1 when the callback threw.
 */
static int call_js(Capture *c, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = c->env;
  napi_value fn, recv;
  napi_get_reference_value(env, ref, &fn);
  napi_get_reference_value(env, c->resource, &recv);
  if (napi_call_function(env, recv, fn, argc, argv, NULL) != napi_pending_exception) return 0;
  napi_value exc;
  napi_get_and_clear_last_exception(env, &exc);
  napi_fatal_exception(env, exc);
  return -1;
}

/* Called for each packet inside pcap_dispatch, within the callback scope opened in on_poll. */
static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes) {
  Capture *c = (Capture *)user;
  if (c->closing) return;
  napi_env env = c->env;
  napi_handle_scope hs; /* per packet: a wake-up's packets must not pile up their handles */
  napi_open_handle_scope(env, &hs);
  size_t n = hdr->caplen < c->length ? hdr->caplen : c->length;
  memcpy(c->data, bytes, n);
  napi_value argv[3];
  napi_create_uint32(env, (uint32_t)n, &argv[0]);
  napi_create_uint32(env, hdr->len, &argv[1]);
  napi_create_double(env, (double)hdr->ts.tv_sec * 1e6 + (double)hdr->ts.tv_usec, &argv[2]);
  if (call_js(c, c->on_packet, 3, argv) != 0) pcap_breakloop(c->pcap);
  napi_close_handle_scope(env, hs);
}

static void report_error(Capture *c, const char *what, const char *detail) {
  napi_env env = c->env;
  char msg[PCAP_ERRBUF_SIZE + 160];
  snprintf(msg, sizeof msg, "%s%s%s", what, detail && *detail ? ": " : "", detail ? detail : "");
  napi_value arg;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &arg);
  call_js(c, c->on_error, 1, &arg);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  Capture *c = (Capture *)h->data;
  if (c->closing) return;
  napi_env env = c->env;
  napi_handle_scope hs;
  napi_open_handle_scope(env, &hs);
  napi_value resource;
  napi_get_reference_value(env, c->resource, &resource);
  napi_callback_scope cs;
  /* One callback scope per wake-up, not per packet: promises and nextTicks run once after the batch. */
  napi_open_callback_scope(env, resource, c->async, &cs);
  c->in_poll = 1;
  if (status < 0) {
    /* libuv saw POLLERR: the socket's interface went down or away. Stop watching it. */
    uv_poll_stop(&c->poll);
    c->polling = 0;
    report_error(c, "capture stopped", uv_strerror(status));
  } else if (events & UV_READABLE) {
    int n, total = 0;
    do {
      n = pcap_dispatch(c->pcap, 64, on_packet, (u_char *)c);
      if (n > 0) total += n;
    } while (n > 0 && !c->closing && total < MAX_PACKETS_PER_WAKEUP);
    if (n == PCAP_ERROR && !c->closing) {
      uv_poll_stop(&c->poll);
      c->polling = 0;
      report_error(c, "capture stopped", pcap_geterr(c->pcap));
    }
  }
  /* Closing the callback scope runs queued microtasks and ticks, which may call close(): still "in poll". */
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
  c->in_poll = 0;
  if (c->closing) finish_close(c);
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
    if (!c->in_poll) finish_close(c);
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
  char err[PCAP_ERRBUF_SIZE];
  err[0] = 0;
  pcap_t *p = pcap_create(device, err);
  if (!p) {
    throw_msg(env, err, NULL);
    return NULL;
  }
  pcap_set_snaplen(p, snaplen);
  pcap_set_promisc(p, promisc ? 1 : 0);
  pcap_set_buffer_size(p, bufsize);
  pcap_set_immediate_mode(p, 1);
  int rc = pcap_activate(p);
  if (rc < 0) {
    /* PCAP_ERROR carries its text in pcap_geterr; the specific codes are named by pcap_statustostr. */
    char msg[PCAP_ERRBUF_SIZE + 128];
    const char *status = pcap_statustostr(rc);
    const char *detail = pcap_geterr(p);
    /* Some libpcap versions put the status text itself in the error buffer: say it once. */
    int extra = detail && *detail && strcmp(detail, status) != 0;
    snprintf(msg, sizeof msg, "%s%s%s", status, extra ? ": " : "", extra ? detail : "");
    pcap_close(p);
    throw_msg(env, msg, NULL);
    return NULL;
  }
  const char *warning = rc > 0 ? pcap_statustostr(rc) : "";
  if (filter[0]) {
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
      throw_msg(env, "filter: ", pcap_geterr(p));
      pcap_close(p);
      return NULL;
    }
    int bad = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (bad != 0) {
      throw_msg(env, "filter: ", pcap_geterr(p));
      pcap_close(p);
      return NULL;
    }
  }
  if (pcap_setnonblock(p, 1, err) != 0) {
    throw_msg(env, "nonblocking mode: ", err);
    pcap_close(p);
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
    on_closed((uv_handle_t *)&c->poll);
    throw_msg(env, "cannot poll the capture: ", uv_strerror(uvrc));
    return NULL;
  }
  uvrc = uv_poll_start(&c->poll, UV_READABLE, on_poll);
  if (uvrc != 0) {
    c->closing = 1;
    c->finalized = 1; /* no handle is handed out */
    finish_close(c);  /* on_closed releases and frees */
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
  else finish_close(c);
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
  pcap_t *p = pcap_open_dead(link, snaplen);
  if (!p) {
    napi_throw_error(env, NULL, "pcap_open_dead failed");
    return NULL;
  }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    napi_create_string_utf8(env, pcap_geterr(p), NAPI_AUTO_LENGTH, &out);
  } else {
    pcap_freecode(&prog);
    napi_get_undefined(env, &out);
  }
  pcap_close(p);
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
