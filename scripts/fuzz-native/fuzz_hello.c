/*
 * ClientHello parser + JA4 + the hello record and its text (what helloOf hands JavaScript), and the
 * ServerHello version readers of dtls_watch.c, on raw bytes.
 * Input: byte 0 = flags (bit 0 dtls, bits 1-2 proto t/q/d), then the ClientHello body (after the
 * 4-byte handshake header, as tls_hello_parse is called), copied to an exact-size block.
 */
#include <stdlib.h>
#include <string.h>

#include "../../agent/meta/native/hello_rec.h"
#include "../../agent/meta/native/hello_watch.h"
#include "napi_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t flags = data[0];
  size_t n = size - 1;
  uint8_t *b = malloc(n ? n : 1);
  memcpy(b, data + 1, n);
  static const char PROTO[4] = {'t', 'q', 'd', 't'};
  tls_hello_t h;
  if (tls_hello_parse(b, 0, n, flags & 1, &h)) {
    hello_rec_t *r = hello_rec_new(&h, PROTO[(flags >> 1) & 3]);
    if (r != NULL) {
      hello_rec_text(NULL, r, r->highest);
      uint32_t dummy = 0;
      hello_rec_js(NULL, r, r->highest, (napi_value)&dummy);
      free(r);
    }
  }
  /* The same bytes as a ServerHello body, and as a record (hello_watch.c / dtls_watch.c). */
  hw_server_hello_body(b, 0, (int64_t)n);
  hw_server_version(b, (int64_t)n);
  hw_whole_server_hello(b, (int64_t)n);
  if (n > 0) {
    hello_rec_t *c = hello_rec_chlo(b, n > 255 ? 255 : n, flags & 8);
    if (c) {
      hello_rec_text(NULL, c, 0);
      free(c);
    }
  }
  free(b);
  return 0;
}
