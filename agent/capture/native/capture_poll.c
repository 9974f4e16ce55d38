/* See capture_poll.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_poll.h"

/* Packets handled per wake-up at most: libuv's poll is level-triggered, so the rest is read on
 * the next turn of the loop, after timers, signals, other interfaces and the MQTT socket. */
#define MAX_PACKETS_PER_WAKEUP 1024

/* The struct lives while JavaScript holds its handle (a close() after the close is then harmless)
 * and until libuv let go of the poll handle, whichever is later. */
void capture_on_closed(uv_handle_t *h) {
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

void capture_finish_close(Capture *c) {
  if (c->close_started) return;
  c->close_started = 1;
  if (c->polling) uv_poll_stop(&c->poll);
  c->polling = 0;
  uv_close((uv_handle_t *)&c->poll, capture_on_closed);
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

void capture_on_poll(uv_poll_t *h, int status, int events) {
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
    /* libuv's word for it is "bad file descriptor", which told an operator nothing (found by review). */
    char why[96];
    snprintf(why, sizeof why, "the interface went down or away (poll: %s)", uv_strerror(status));
    report_error(c, "capture stopped", why);
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
  if (c->closing) capture_finish_close(c);
}
