/*
 * DTLS hellos read by the flow table (hello_watch.c), and the ServerHello version shared with
 * TLS over TCP. dtls.ts DtlsReader, read for read, for the case that is most DTLS flows: the
 * flow's first DTLS datagram holds a whole ClientHello (170 of the 200 DTLS flows per million
 * packets of the benchmark capture). C then keeps the hello and walks the flow's next datagrams
 * for the ServerHello as the reader would, until it or the inspector's budget ends the flow's
 * inspection. Why: those flows sent ~700 packets per million through an inspector in JavaScript,
 * whose run and compilation cost the flow meter more than the rest of the metadata together.
 * What the reader would report there, C records in reports[s] (REASON_BITS of inspector.ts), which
 * the plugin counts when the flow ends. Anything else in the first datagram (a fragment, a
 * ServerHello, a malformed record or hello) leaves the flow to JavaScript's reader from scratch.
 */
#include "hello_watch.h"

enum { HANDSHAKE = 22, CLIENT_HELLO = 1, SERVER_HELLO = 2, RECORD_HEADER = 13, FRAGMENT_HEADER = 12 };

int32_t hw_server_hello_body(const uint8_t *b, int64_t start, int64_t end) {
  int64_t q = start + 2 + 32;
  if (q + 1 > end) return -1;
  int32_t legacy = (int32_t)hw_be16(b + start);
  q += 1 + b[q] + 2 + 1; /* session id, cipher suite, compression method */
  if (q > end) return -1;
  if (q + 2 > end) return legacy;
  int64_t ext_end = q + 2 + hw_be16(b + q);
  if (ext_end > end) return -1;
  q += 2;
  while (q + 4 <= ext_end) {
    uint32_t type = hw_be16(b + q), n = hw_be16(b + q + 2);
    if (q + 4 + n > ext_end) return -1;
    if (type == 0x002b && n == 2) return (int32_t)hw_be16(b + q + 4);
    q += 4 + n;
  }
  return legacy;
}

int32_t hw_server_version(const uint8_t *b, int64_t len) {
  if (len < 9 || b[0] != HANDSHAKE || b[5] != SERVER_HELLO) return -1;
  int64_t end = 9 + (int64_t)hw_be24(b + 6);
  return end > len ? -1 : hw_server_hello_body(b, 9, end);
}

/* dtls.ts dtlsRecordVersion: DTLS 1.0-1.3 (0xfeff-0xfefc), or OpenSSL's pre-RFC 0x0100. */
static int record_version(const uint8_t *b) {
  return (b[0] == 0xfe && b[1] >= 0xfc) || (b[0] == 0x01 && b[1] == 0x00);
}

/* What one datagram's walk found. */
typedef struct {
  int has_hello; /* in: the flow's ClientHello is read; out: one was read here (into hello) */
  tls_hello_t hello;
  int other; /* the first datagram only: something the fast path leaves to the reader */
  int32_t server_version; /* -1: none */
  uint8_t reports;
} walk_t;

/* DtlsReader.handshake over the messages of b[s, e), direction checks aside (see dtls_packet). */
static void handshake(const uint8_t *b, int64_t s, int64_t e, walk_t *k) {
  while (s + FRAGMENT_HEADER <= e) {
    uint32_t type = b[s], length = hw_be24(b + s + 1), frag_off = hw_be24(b + s + 6), frag_len = hw_be24(b + s + 9);
    int64_t body = s + FRAGMENT_HEADER;
    if (body + frag_len > e || (int64_t)frag_off + frag_len > length) {
      k->reports |= HW_REPORT_DTLS_MALFORMED;
      return;
    }
    if (type == CLIENT_HELLO && !k->has_hello) {
      /* The reader would reassemble a fragment, or fail on a hello that does not parse. */
      if (frag_off != 0 || frag_len != length || !tls_hello_parse(b, (size_t)body, (size_t)(body + length), 1, &k->hello)) k->other = 1;
      else k->has_hello = 1;
      if (k->other) return;
    } else if (type == SERVER_HELLO && k->server_version < 0 && frag_off == 0 && frag_len == length) {
      int32_t v = hw_server_hello_body(b, body, body + length);
      if (v < 0) k->reports |= HW_REPORT_TLS_MALFORMED;
      else k->server_version = v;
    }
    s = body + frag_len;
  }
}

/* DtlsReader.datagram over b[0, len). */
static void walk(const uint8_t *b, int64_t len, walk_t *k) {
  int64_t pos = 0;
  while (pos + RECORD_HEADER <= len && !k->other) {
    if (!record_version(b + pos + 1)) return; /* not a plaintext DTLS record (or a DTLS 1.3 ciphertext) */
    int64_t end = pos + RECORD_HEADER + hw_be16(b + pos + 11);
    if (end > len) {
      k->reports |= HW_REPORT_DTLS_MALFORMED;
      return;
    }
    if (b[pos] == HANDSHAKE && hw_be16(b + pos + 3) == 0) handshake(b, pos + RECORD_HEADER, end, k);
    pos = end;
  }
}

int hw_dtls_start(const hello_watch_t *w, int32_t s, const uint8_t *b, int64_t len) {
  /* inspector.ts looksLikeDtls (C's checks for QUIC and gQUIC failed: their readers come first). */
  if (len < RECORD_HEADER + FRAGMENT_HEADER || b[0] != HANDSHAKE || !record_version(b + 1)) return 0;
  walk_t k = {.has_hello = 0, .other = 0, .server_version = -1, .reports = 0};
  walk(b, len, &k);
  if (!k.has_hello || k.other || k.server_version >= 0 || k.reports != 0) return 0;
  /* The budget of one packet (max_packets 1) ends the inspection here, the hello read. */
  uint8_t state = hw_budget_spent(w, 1, 1) ? HW_IDLE : HW_DTLS;
  if (!hw_keep(w, s, hello_rec_new(&k.hello, 'd'), 0, state)) return 0;
  w->isn[s] = 1u << 16 | 1; /* the inspector's counts: payload packets << 16 | packets */
  w->reports[s] = 0;
  return 1;
}

int hw_dtls_packet(const hello_watch_t *w, int32_t s, const packet_t *p, const uint8_t *b) {
  uint32_t c = w->isn[s];
  uint32_t packets = (c & 0xffff) + 1, payloads = (c >> 16) + (p->cap_payload > 0);
  w->isn[s] = payloads << 16 | packets;
  if (p->cap_payload > 0) {
    /* ClientHellos are the reader's no more (it has one), whichever side sends them. */
    walk_t k = {.has_hello = 1, .other = 0, .server_version = -1, .reports = 0};
    walk(b, p->cap_payload, &k);
    w->reports[s] |= k.reports;
    if (k.server_version >= 0) {
      w->server_version[s] = (uint32_t)k.server_version + 1;
      w->state[s] = HW_IDLE; /* both hellos read: the reader is done */
      return HW_SKIP;
    }
  }
  if (hw_budget_spent(w, packets, payloads)) w->state[s] = HW_IDLE; /* nothing to report: its hello is read */
  return HW_SKIP;
}
