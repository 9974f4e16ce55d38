/*
 * A QUIC flow's first datagram read whole in C in the common case: a client Initial whose CRYPTO
 * frames hold the entire ClientHello (in one frame, or in several in any order, as Chrome sends
 * them), or start it for the next Initial to end (quic_split.c). It does what quic.ts's
 * QuicReader does with such a datagram (header walk, Initial keys from the packet's own DCID,
 * header protection, AES-GCM, frames, ClientHello and JA4) in one call. Why: in JavaScript it
 * cost ~60 us per QUIC flow, mostly V8 running and compiling code that a few thousand flows make
 * warm but never hot; here a few microseconds. Anything else answers 0 and leaves nothing
 * behind: the JavaScript reader then reads the datagram from scratch and reports what went wrong
 * (test/meta/quic-in-place.test.ts holds the two to the same results).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quic_initial.h"

#define QI_MAX_CID 20
#define QI_CLIENT_HELLO 1
#define QI_FRAME_CRYPTO 0x06
/* crypto_frames: every frame read, the hello not all there yet. */
#define QI_MORE 2
/* The largest plaintext read here: a UDP datagram's payload. */
#define QI_PLAIN_MAX 65536

/* HKDF-Expand-Label("client in", 32) followed by Expand's counter byte, as quic-keys.ts's CLIENT_IN. */
static const uint8_t CLIENT_IN[] = {0x00, 0x20, 15, 't', 'l', 's', '1', '3', ' ', 'c', 'l', 'i', 'e', 'n', 't', ' ', 'i', 'n', 0x00, 0x01};

struct qi_state {
  quic_open_t open;
  uint8_t plain[QI_PLAIN_MAX];
  uint8_t stream[QI_PLAIN_MAX]; /* the client's CRYPTO stream from offset 0 */
};

qi_state_t *qi_state_new(void) {
  qi_state_t *s = calloc(1, sizeof *s);
  if (s != NULL && !quic_open_init(&s->open)) {
    qi_state_free(s);
    return NULL;
  }
  return s;
}

void qi_state_free(qi_state_t *s) {
  if (s == NULL) return;
  quic_open_free(&s->open);
  free(s);
}

static size_t vlen(uint8_t first) {
  return (size_t)1 << (first >> 6);
}

/* The varint at b[i] (the caller checked it fits); values reach 2^62, so no sum of two wraps. */
static uint64_t varint(const uint8_t *b, size_t i) {
  size_t n = vlen(b[i]);
  uint64_t v = b[i] & 0x3f;
  for (size_t k = 1; k < n; k++) v = v << 8 | b[i + k];
  return v;
}

uint32_t qi_be32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* quic-packet.ts's readLongHeader results, and OTHER: a version other than the first packet's. */
enum { QI_OK, QI_STOP, QI_MALFORMED, QI_OTHER };


typedef struct {
  int initial;
  size_t pn_off;
  size_t end;
} qi_header_t;

/* readLongHeader for packets of version v (another version answers QI_OTHER). */
static int long_header(const uint8_t *p, size_t n, size_t off, const qi_version_t *v, qi_header_t *h) {
  if (off + 7 > n) return QI_MALFORMED;
  if (qi_be32(p + off + 1) != v->wire) return QI_OTHER;
  size_t dcid_len = p[off + 5];
  uint64_t pos = off + 6 + dcid_len;
  if (dcid_len > QI_MAX_CID || pos >= n || p[pos] > QI_MAX_CID) return QI_MALFORMED;
  pos += 1 + p[pos];
  int type = (p[off] >> 4) & 3;
  if (type == v->retry_type) return QI_STOP;
  h->initial = type == v->initial_type;
  if (h->initial) {
    if (pos >= n || pos + vlen(p[pos]) > n) return QI_MALFORMED;
    pos += vlen(p[pos]) + varint(p, pos); /* the token */
  }
  if (pos >= n || pos + vlen(p[pos]) > n) return QI_MALFORMED;
  uint64_t end = pos + vlen(p[pos]) + varint(p, pos);
  if (end > n) return QI_MALFORMED;
  h->pn_off = pos + vlen(p[pos]);
  h->end = end;
  return QI_OK;
}

/* Pieces of the CRYPTO stream ahead of its contiguous prefix, as reassembly.ts's Reassembly
 * keeps them: sorted, disjoint, non-adjacent [start, end) pairs, at most QI_MAX_RANGES. */
#define QI_MAX_RANGES 16
typedef struct {
  uint64_t filled; /* bytes [0, filled) are all present */
  size_t n;
  uint64_t start[QI_MAX_RANGES + 1], end[QI_MAX_RANGES + 1];
} qi_stream_t;

/* Reassembly.insert of data[0, len) at `offset` into stream (limit: max_buffer): 1, or 0 where
 * the reader would give up (too many holes) or this buffer is too small. The last copy wins. */
static int insert(qi_stream_t *st, uint8_t *stream, uint64_t offset, const uint8_t *data, size_t len, uint64_t limit) {
  if (offset >= limit || len == 0) return 1;
  uint64_t end = offset + len < limit ? offset + len : limit;
  if (end > QI_PLAIN_MAX) return 0;
  memcpy(stream + offset, data, (size_t)(end - offset));
  if (offset <= st->filled) {
    if (end <= st->filled) return 1;
    st->filled = end;
    size_t i = 0; /* absorb the ranges the grown prefix reaches */
    for (; i < st->n && st->start[i] <= st->filled; i++) {
      if (st->end[i] > st->filled) st->filled = st->end[i];
    }
    memmove(st->start, st->start + i, (st->n - i) * sizeof st->start[0]);
    memmove(st->end, st->end + i, (st->n - i) * sizeof st->end[0]);
    st->n -= i;
    return 1;
  }
  size_t i = 0, j;
  while (i < st->n && st->end[i] < offset) i++;
  uint64_t s = offset, e = end;
  for (j = i; j < st->n && st->start[j] <= e; j++) {
    if (st->start[j] < s) s = st->start[j];
    if (st->end[j] > e) e = st->end[j];
  }
  if (st->n - (j - i) + 1 > QI_MAX_RANGES) return 0;
  memmove(st->start + i + 1, st->start + j, (st->n - j) * sizeof st->start[0]);
  memmove(st->end + i + 1, st->end + j, (st->n - j) * sizeof st->end[0]);
  st->start[i] = s;
  st->end[i] = e;
  st->n = st->n - (j - i) + 1;
  return 1;
}

/* A CRYPTO frame's body after its type byte, at b[*i]: its stream offset and data length, *i moved
 * to the data; 0 when its varints or data run past m (the reader reports those). */
static int crypto_frame(const uint8_t *b, size_t m, size_t *i, uint64_t *offset, uint64_t *len) {
  size_t k = *i;
  if (k >= m || k + vlen(b[k]) > m) return 0;
  *offset = varint(b, k);
  k += vlen(b[k]);
  if (k >= m || k + vlen(b[k]) > m) return 0;
  *len = varint(b, k);
  k += vlen(b[k]);
  *i = k;
  return *len <= m - k;
}

/* The ClientHello at the CRYPTO stream's contiguous start (quic.ts helloAt): 1 parsed into *hello,
 * 0 more bytes needed, -1 what the reader gives up on (not a hello, past limit, malformed). */
static int stream_hello(const qi_stream_t *st, const uint8_t *stream, uint64_t limit, tls_hello_t *hello) {
  if (st->filled < 4) return 0;
  if (stream[0] != QI_CLIENT_HELLO) return -1;
  uint64_t need = 4 + ((uint64_t)stream[1] << 16 | (uint64_t)stream[2] << 8 | stream[3]);
  if (need > limit) return -1;
  if (st->filled < need) return 0;
  return tls_hello_parse(stream, 4, (size_t)need, 0, hello) ? 1 : -1;
}

/*
 * Where the run of zero bytes (PADDING frames) from b[i] ends, at most m: eight at a time while
 * they last. Why: clients pad their Initials to 1,200 bytes and more, and Chrome puts PADDING
 * between the pieces of its ClientHello, so a byte-at-a-time walk was most of crypto_frames'
 * cost (callgrind, 1M packets: ~4.8M of its 6M instructions, 1,400 Initials).
 */
static size_t zeros_end(const uint8_t *b, size_t i, size_t m) {
  for (uint64_t w; i + 8 <= m; i += 8) {
    memcpy(&w, b + i, 8);
    if (w != 0) break;
  }
  while (i < m && b[i] == 0x00) i++;
  return i;
}

/*
 * The ClientHello in the CRYPTO frames of the Initial's plaintext b[0, m), as quic.ts's frames()
 * and cryptoData() find it: frames walked in order (PADDING and PING skipped, any other frame
 * left to the reader), each CRYPTO frame stored at its offset in the stream `st` (which may hold
 * an earlier Initial's), and the hello parsed as soon as the stream's contiguous start holds all
 * of it (frames after that are not looked at). 1 with *hello read from `stream`; QI_MORE when
 * every frame was read and the hello needs more; 0 when the reader must decide.
 */
static int crypto_frames(const uint8_t *b, size_t m, double max_buffer, qi_stream_t *st, uint8_t *stream, tls_hello_t *hello) {
  uint64_t limit = max_buffer >= (double)UINT32_MAX ? UINT32_MAX : (uint64_t)max_buffer;
  size_t i = 0;
  while (i < m) {
    if (b[i] == 0x00) { /* PADDING */
      i = zeros_end(b, i, m);
      continue;
    }
    if (b[i] == 0x01) { /* PING */
      i++;
      continue;
    }
    if (b[i] != QI_FRAME_CRYPTO) return 0; /* an ACK, a CONNECTION_CLOSE, a malformed packet */
    i++;
    uint64_t offset, len;
    if (!crypto_frame(b, m, &i, &offset, &len) || !insert(st, stream, offset, b + i, (size_t)len, limit)) return 0;
    i += (size_t)len;
    int got = stream_hello(st, stream, limit, hello);
    if (got != 0) return got > 0;
  }
  return QI_MORE;
}

/*
 * Google's encoding (Q050, T050, T051: quic.ts walks it with gquic-frames.ts walkFrames, to the
 * end of the packet, its CRYPTO frames 0x08 going to cryptoData): PADDING, PING and CRYPTO only,
 * any other frame left to the reader. Q050's stream is a CHLO, read when its first piece holds
 * it whole (chlo.ts ChloStream); T05x's a ClientHello, reassembled as crypto_frames does. 1 when
 * the hello (CHLO) is read and every frame after it walked.
 */
static int google_hello(const uint8_t *b, size_t m, double max_buffer, uint8_t *stream, int chlo, tls_hello_t *hello, gquic_chlo_t *c) {
  qi_stream_t st = {0};
  uint64_t limit = max_buffer >= (double)UINT32_MAX ? UINT32_MAX : (uint64_t)max_buffer;
  int done = 0;
  size_t i = 0;
  while (i < m) {
    if (b[i] == 0x00) { /* PADDING: a run of zeros */
      i = zeros_end(b, i, m);
      continue;
    }
    if (b[i] == 0x07) { /* PING */
      i++;
      continue;
    }
    if (b[i] != 0x08) return 0;
    i++;
    uint64_t offset, len;
    if (!crypto_frame(b, m, &i, &offset, &len)) return 0;
    if (!done && len > 0) {
      if (chlo) {
        if (!gquic_chlo_at(b, i, i + (size_t)len, max_buffer, c)) return 0;
        done = 1;
      } else {
        if (!insert(&st, stream, offset, b + i, (size_t)len, limit)) return 0;
        int got = stream_hello(&st, stream, limit, hello);
        if (got < 0) return 0;
        done = got;
      }
    }
    i += (size_t)len;
  }
  return done;
}

/* Whether p[0, n) opens with an Initial of version v that can be opened (its DCID then fits in p). */
static int initial_header(const uint8_t *p, size_t n, const qi_version_t *v, qi_header_t *h) {
  return n >= 7 && (p[0] & 0x80) != 0 && long_header(p, n, 0, v, h) == QI_OK && h->initial && h->pn_off + 4 + QC_SAMPLE <= h->end &&
         h->end <= INT_MAX;
}

/* That Initial opened with `packed` (its packet number decoded against `largest`) into s->plain:
 * its plaintext's length, or 0 (the reader decides). */
static size_t open_initial(qi_state_t *s, const uint8_t *p, const qi_header_t *h, const uint8_t *packed, double largest, quic_header_t *ph) {
  if (!quic_unprotect(&s->open, p, 0, h->pn_off, h->end, packed, largest, ph)) return 0;
  size_t m = h->end - QC_TAG - ph->hdr_end;
  return m > QI_PLAIN_MAX || !quic_decrypt(&s->open, p, 0, h->pn_off, h->end, packed, ph, s->plain) ? 0 : m;
}

/* The Initial keys of the client's DCID, the one in p's long header (open_initial checks it fits). */
static void client_keys(const uint8_t *p, const qi_version_t *v, const qc_bytes_t info[4], uint8_t keys[QC_SECRET + QC_PACKED]) {
  quic_initial_keys_salted(&v->salt, (qc_bytes_t){p + 6, p[5]}, (qc_bytes_t){CLIENT_IN, sizeof CLIENT_IN}, info[1], info[2], info[3], keys);
}

/* Coalesced packets after the Initial, from off: the reader skips them (once the hello is read;
 * before, it would open another Initial: `initials` says whether that may be one) unless their
 * headers are broken (it reports those) or their version differs (looked up anew there). */
static int rest_skipped(const uint8_t *p, size_t n, size_t off, const qi_version_t *v, int initials) {
  qi_header_t h;
  for (; off + 7 <= n && (p[off] & 0x80) != 0; off = h.end) {
    int st = long_header(p, n, off, v, &h);
    if (st == QI_STOP) break;
    if (st != QI_OK || (h.initial && (!initials || h.pn_off + 4 + QC_SAMPLE > h.end))) return 0;
  }
  return 1;
}

int qi_read_datagram(qi_state_t *s, const uint8_t *p, size_t n, const qi_version_t *v, const qc_bytes_t info[4],
                         double max_buffer, tls_hello_t *hello, gquic_chlo_t *chlo) {
  qi_header_t h;
  quic_header_t ph;
  uint8_t keys[QC_SECRET + QC_PACKED];
  if (!initial_header(p, n, v, &h)) return 0;
  client_keys(p, v, info, keys);
  size_t m = open_initial(s, p, &h, keys + QC_SECRET, -1, &ph);
  if (m == 0) return 0;
  qi_stream_t st = {0};
  int got = v->google ? google_hello(s->plain, m, max_buffer, s->stream, v->chlo, hello, chlo) : crypto_frames(s->plain, m, max_buffer, &st, s->stream, hello);
  if (got == QI_MORE) return rest_skipped(p, n, h.end, v, 0) ? QI_MORE : 0;
  return got == 1 && rest_skipped(p, n, h.end, v, 1);
}

int qi_read_two(qi_state_t *s, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2, const qi_version_t *v,
                const qc_bytes_t info[4], double max_buffer, tls_hello_t *hello) {
  qi_header_t h;
  quic_header_t ph;
  uint8_t keys[QC_SECRET + QC_PACKED];
  if (v->google || !initial_header(p1, n1, v, &h)) return 0;
  client_keys(p1, v, info, keys);
  qi_stream_t st = {0};
  size_t m = open_initial(s, p1, &h, keys + QC_SECRET, -1, &ph);
  if (m == 0 || crypto_frames(s->plain, m, max_buffer, &st, s->stream, hello) != QI_MORE) return 0;
  /* The reader opens the second with the first's keys and packet number (quic.ts initial, Side). */
  double largest = ph.pn;
  if (!initial_header(p2, n2, v, &h) || p2[5] != p1[5] || memcmp(p2 + 6, p1 + 6, p1[5]) != 0) return 0;
  m = open_initial(s, p2, &h, keys + QC_SECRET, largest, &ph);
  return m > 0 && crypto_frames(s->plain, m, max_buffer, &st, s->stream, hello) == 1 && rest_skipped(p2, n2, h.end, v, 1);
}
