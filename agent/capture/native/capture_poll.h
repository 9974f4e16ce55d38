/*
 * An open live capture on Node's event loop (capture_poll.c): the state live_capture.c's API
 * hands JavaScript as a handle, the libuv poll callback that reads packets and reports a
 * stopped capture, and the close sequence (libuv lets go of the descriptor, then libpcap).
 */
#ifndef ETA_CAPTURE_POLL_H
#define ETA_CAPTURE_POLL_H

#include <node_api.h>
#include <pcap/pcap.h>
#include <uv.h>

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

/* uv_poll callback: reads up to a wake-up's packets into the buffer, calling onPacket for each; onError when the capture stopped. */
void capture_on_poll(uv_poll_t *h, int status, int events);
/* Stop polling and close the poll handle (once); capture_on_closed then releases the rest. */
void capture_finish_close(Capture *c);
/* uv_close callback: closes libpcap, drops the references, frees the struct once JavaScript's handle is gone too. */
void capture_on_closed(uv_handle_t *h);

#endif
