/* See hello_watch.h. Each branch mirrors MetaPlugin.onPacket before this moved here. */
#include "hello_watch.h"

#include "gquic_chlo.h"

#include <stdlib.h>

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TLS_HANDSHAKE 0x16
/* gQUIC public header: the message hash follows the 13 bytes read (gquic-packet.ts). */
#define GQUIC_MIN 25

/* Protocols that upgrade to TLS after plaintext (SMTP, submission, POP3, IMAP, FTP, XMPP, LDAP, MySQL, PostgreSQL). */
static int starttls_port(uint32_t port) {
  switch (port) {
    case 25: case 587: case 110: case 143: case 21: case 5222: case 5269: case 389: case 3306: case 5432: return 1;
    default: return 0;
  }
}

/* A QUIC version whose Initial this flow core can read: one of those quic-keys.ts handed over
 * (inPlaceQuicVersions: every version it can decrypt), so the list is written once, there. */
static int hello_quic_version_known(const hello_watch_t *w, uint32_t v) {
  return hw_quic_version(w, v) != NULL;
}

/* "Q0nn" at b: nn, else -1 (gquic-packet.ts gquicVersionAt). */
static int gquic_version_at(const uint8_t *b) {
  if (b[0] != 0x51 || b[1] != 0x30) return -1;
  int d1 = b[2] - 0x30, d2 = b[3] - 0x30;
  return d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 ? d1 * 10 + d2 : -1;
}

/* gquic-packet.ts looksLikeGquic: a Q024-Q043 public header, or a Q046 Initial long header. */
static int looks_like_gquic(const uint8_t *b, int64_t len) {
  if (len < GQUIC_MIN) return 0;
  if ((b[0] & 0x8b) == 0x09) {
    int v = gquic_version_at(b + 9);
    return v >= 24 && v <= 43;
  }
  return (b[0] & 0xf0) == 0xc0 && gquic_version_at(b + 1) == 46;
}

/* Whether a flow's first payload can begin a hello, read in place (flow-plugin.ts says why each test). */
static int may_start_handshake(const hello_watch_t *w, const packet_t *p, const uint8_t *buf) {
  const uint8_t *b = buf + p->payload_off;
  if (p->proto == 6) return b[0] == TLS_HANDSHAKE || starttls_port(p->dport) || starttls_port(p->sport);
  if (p->cap_payload < 7) return 0;
  if ((b[0] & 0x80) && hello_quic_version_known(w, qi_be32(b + 1))) return 1;
  if (looks_like_gquic(b, p->cap_payload)) return 1;
  return b[0] == TLS_HANDSHAKE && (b[1] == 0xfe || b[1] == 0x01);
}

/* tls-tcp.ts opensHello(b, CLIENT_HELLO) || opensHello(b, SERVER_HELLO): 16 03 0x LL LL 01|02. */

int hw_whole_server_hello(const uint8_t *b, int64_t len) {
  if (len < 9 || !hw_opens_hello_record(b, len) || b[5] != 2) return 0;
  int64_t msg_end = 9 + (int64_t)hw_be24(b + 6);
  return msg_end <= 5 + (int64_t)hw_be16(b + 3) && msg_end <= len;
}

/*
 * SCANNING: a TCP flow whose first payload that may start a hello does not open a hello record:
 * plaintext on a STARTTLS port, or a first byte 0x16 that is not a ClientHello or ServerHello
 * record (another protocol, a Certificate flight seen first, a few bytes). The inspector's TLS
 * reader, not anchored yet, would wait for a segment that opens a hello record, its state
 * unchanged by every packet before (no SYN, none opens one): those packets are only counted here,
 * against the inspector's budget, and the reader starts at the first one that may change it
 * (HW_RESUME), with the counts of the packets before. Why: such flows (XMPP, mail, databases; and
 * binary protocols whose first byte is 0x16, 11 packets each on average) sent ~13,000 and ~1,300
 * packets per million of the benchmark capture through the inspector, for nothing in most of them.
 */
static int scan_count(const hello_watch_t *w, int32_t s, uint32_t packets, uint32_t payloads) {
  if (hw_budget_spent(w, packets, payloads)) {
    w->state[s] = HW_IDLE; /* the budget is spent: the inspector would stop here, having found nothing */
  } else {
    w->state[s] = HW_SCANNING;
    w->isn[s] = payloads << 16 | packets;
  }
  return HW_SKIP;
}

static int scan(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  if ((p->tcp_flags & TCP_SYN) || hw_opens_hello_record(b, p->cap_payload)) {
    if (hw_resume_in_place(w, s, dir, p, b)) return HW_SKIP;
    w->state[s] = HW_INSPECTING;
    return HW_RESUME;
  }
  uint32_t c = w->isn[s];
  return scan_count(w, s, (c & 0xffff) + 1, (c >> 16) + (p->cap_payload > 0));
}

/*
 * A whole ServerHello as a TCP flow's first hello record (the capture began after the
 * ClientHello, or lost it): the inspector's TLS reader would take the other side for the client,
 * keep the version selected, then wait for a ClientHello record from the client, no packet
 * before one (or a SYN) changing it. So C keeps the version (metaOf reads it: HW_HELD_SERVER)
 * and scans the flow from here as SCANNING does; a packet that may change the reader resumes it
 * in JavaScript, told of this ServerHello. Why: such flows (~80 per million packets of the
 * benchmark capture) each sent ~9 packets through an inspector to learn one version. Read as
 * tls-tcp.ts serverData reads it; 0 (JavaScript's reader takes the packet) when it would not
 * keep a version: data on a SYN, a ServerHello not all here, or malformed (it reports that).
 */
static int read_server_first(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b) {
  if ((p->tcp_flags & TCP_SYN) || !hw_whole_server_hello(b, p->cap_payload)) return 0;
  int32_t v = hw_server_version(b, p->cap_payload);
  if (v < 0) return 0;
  w->server_version[s] = ((uint32_t)v + 1) | (uint32_t)dir << HW_SERVER_DIR_SHIFT;
  w->held[s] = HW_HELD_SERVER;
  scan_count(w, s, 1, 1);
  return 1;
}

int hw_keep(const hello_watch_t *w, int32_t s, hello_rec_t *r, uint32_t quic_wire, uint8_t state) {
  if (r == NULL) return 0;
  r->quic_wire = quic_wire;
  free(w->slot[s].rec);
  w->slot[s].rec = r;
  w->owned[s] = 1;
  w->held[s] = HW_HELD_IN_C;
  w->state[s] = state;
  return 1;
}

/*
 * fast-tls.ts helloMetaInPlace, in C: a whole ClientHello in the flow's first TCP payload is
 * parsed here and kept until the flow ends (hello_rec.h); the flow then awaits only the
 * ServerHello. Why not in JavaScript: a callback, the strings and a frozen object per hello,
 * held in a Map until the flow ended, cost the extraction more than the parse (issue 3's
 * budget). 0 when the hello is not all here, is malformed, or memory ran out: JavaScript's
 * reader then takes the packet, as before.
 */
static int read_in_place(const hello_watch_t *w, int32_t s, int dir, const uint8_t *b, int64_t len, uint32_t payloads) {
  if (len < 9 || b[0] != TLS_HANDSHAKE || b[5] != 1) return 0;
  int64_t rec_len = hw_be16(b + 3), hs_len = hw_be24(b + 6);
  if (hs_len + 4 > rec_len || 5 + rec_len > len) return 0;
  tls_hello_t h;
  if (!tls_hello_parse(b, 9, (size_t)(9 + hs_len), 0, &h)) return 0;
  if (!hw_keep(w, s, hello_rec_new(&h, 't'), 0, (uint8_t)(HW_AWAIT_SERVER + dir))) return 0;
  w->isn[s] = payloads; /* the ISN is of no more use: await_server counts on from the payloads so far */
  return 1;
}

/*
 * AWAIT_SERVER + d: a ClientHello was read in place; only the server's payload is of interest.
 * Its first one that opens a handshake record is read for the ServerHello's version (one that
 * does not hold a whole ServerHello leaves the offered version, as tls-tcp.ts serverData would),
 * and the flow is done. A server payload that opens no handshake record is passed over, as
 * serverData passes it over, under the inspector's budget (isn[s] counts the payload packets so
 * far, client payloads after the hello aside). Why: bytes that are no TLS record can come first
 * (nDPI's heuristic_tcp_ack_payload.pcap: six zero bytes on an ACK, Ethernet padding counted in
 * the IP length, then a TLS 1.2 ServerHello at the same sequence number); taking them for the
 * server's answer reported the client's highest offer, 1.3, for a connection that negotiated 1.2.
 * The common flow pays nothing more: its server's first payload is the ServerHello's record.
 */
static int await_server(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b, uint8_t st) {
  if (p->cap_payload <= 0 || dir == st - HW_AWAIT_SERVER) return HW_SKIP;
  if (b[0] != TLS_HANDSHAKE) {
    if (!hw_budget_spent(w, 0, ++w->isn[s])) return HW_SKIP;
    w->state[s] = HW_IDLE; /* the budget is spent: the reader would stop here, its hello read */
    return HW_SKIP;
  }
  int32_t v = hw_server_version(b, p->cap_payload);
  if (v >= 0) w->server_version[s] = (uint32_t)v + 1;
  /* A whole ServerHello that does not parse: the reader reports it (found by review: C did not). */
  else if (hw_whole_server_hello(b, p->cap_payload)) w->reports[s] |= HW_REPORT_TLS_MALFORMED;
  w->state[s] = HW_IDLE;
  return HW_SKIP;
}

/*
 * QUIC in place: a QUIC flow's first datagram, a client Initial whose CRYPTO frames hold the
 * whole ClientHello (quic_initial.c), when that hello offers TLS 1.3, after which the reader
 * would want nothing more (QuicReader.finished). Kept as read_in_place keeps a TCP hello; the
 * flow is then done. Why: JavaScript's glue around the same reading (an inspector, a reader, the
 * keys' views, a Map entry) cost about as much as the decryption. A hello that goes on in the next
 * Initial: its datagram kept (quic_split.c). 0: anything else, which JavaScript's reader takes
 * from scratch.
 */
static int read_quic_in_place(const hello_watch_t *w, int32_t s, int dir, const uint8_t *b, int64_t len) {
  if (w->qi == NULL || len < 7 || (b[0] & 0x80) == 0) return 0;
  uint32_t wire = qi_be32(b + 1);
  const hw_quic_t *q = hw_quic_version(w, wire);
  tls_hello_t h;
  gquic_chlo_t c;
  int got = q == NULL ? 0 : qi_read_datagram(w->qi, b, (size_t)len, &q->v, q->info, w->max_buffer, &h, &c);
  if (got == QI_HELLO_GOES_ON) return hw_quic_split_start(w, s, dir, b, len, wire);
  if (got == 0) return 0;
  if (q->v.chlo) { /* Q050: a CHLO, done as gQUIC's (read_gquic_in_place) */
    if (!c.has_sni) w->state[s] = HW_IDLE;
    return c.has_sni ? hw_keep(w, s, hello_rec_chlo(c.sni, c.sni_len, 1), wire, HW_IDLE) : 1;
  }
  if (tls_hello_highest(&h) != 0x0304) return 0;
  return hw_keep(w, s, hello_rec_new(&h, 'q'), wire, HW_IDLE);
}

/*
 * gQUIC in place: a flow's first datagram that is a client's null-encrypted packet holding a
 * whole CHLO (gquic_chlo.c), which is all the reader wants from the flow. Kept as QUIC's hello
 * is; the flow is then done. 0: anything else, which JavaScript's reader takes from scratch.
 * The inspector would pick the QUIC reader first for a datagram looksLikeQuic accepts.
 */
static int read_gquic_in_place(const hello_watch_t *w, int32_t s, const uint8_t *b, int64_t len) {
  if (!looks_like_gquic(b, len) || ((b[0] & 0x80) && hello_quic_version_known(w, qi_be32(b + 1)))) return 0;
  gquic_chlo_t c;
  if (!gquic_chlo_read(b, (size_t)len, w->max_buffer, &c)) return 0;
  if (!c.has_sni) {
    w->state[s] = HW_IDLE; /* the reader is done with nothing to report: the flow has no metadata */
    return 1;
  }
  return hw_keep(w, s, hello_rec_chlo(c.sni, c.sni_len, c.has_sni), c.wire, HW_IDLE);
}

int hello_watch_alloc(hello_watch_t *w, int32_t capacity) {
  w->slot = calloc((size_t)capacity, sizeof *w->slot);
  w->owned = calloc((size_t)capacity, 1);
  w->kept = calloc(1, sizeof *w->kept);
  w->capacity = w->slot == NULL || w->owned == NULL || w->kept == NULL ? 0 : capacity;
  if (w->n_quic > 0) w->qi = qi_state_new();
  return w->capacity == 0 || (w->n_quic > 0 && w->qi == NULL) ? -1 : 0;
}

void hello_watch_end(const hello_watch_t *w, int32_t s) {
  if (w->capacity == 0 || !w->owned[s]) return;
  w->owned[s] = 0;
  hw_slot_t *e = &w->slot[s];
  if (e->split != NULL) hw_split_drop(w, s);
  if (e->first != NULL) hw_quic_split_drop(w, s);
  free(e->rec);
  e->rec = NULL;
}

napi_value hello_watch_hello_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  const hello_watch_t *w;
  uint32_t s;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&w) != napi_ok) return NULL;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &s) != napi_ok || s >= (uint32_t)w->capacity) {
    napi_throw_range_error(env, "E_FLOW_CORE", "flow core: helloOf(slot) takes a slot of the table");
    return NULL;
  }
  if (w->held[s] == HW_HELD_SERVER) return hello_rec_server_text(env, (w->server_version[s] & ((1u << HW_SERVER_DIR_SHIFT) - 1)) - 1);
  const hello_rec_t *r = w->slot == NULL ? NULL : w->slot[s].rec;
  if (r == NULL) return napi_get_null(env, &v) == napi_ok ? v : NULL;
  uint32_t selected = w->server_version[s];
  return hello_rec_text(env, r, selected != 0 ? selected - 1 : r->highest);
}

void hello_watch_free(hello_watch_t *w, int32_t used) {
  if (used > w->capacity) used = w->capacity;
  qi_state_free(w->qi);
  free(w->quic);
  w->qi = NULL;
  w->quic = NULL;
  w->n_quic = 0;
  if (w->slot != NULL && w->owned != NULL) {
    for (int32_t s = 0; s < used; s++) {
      if (!w->owned[s]) continue;
      hw_split_drop(w, s);
      hw_quic_split_drop(w, s);
      free(w->slot[s].rec);
    }
  }
  free(w->slot);
  free(w->owned);
  free(w->kept);
  w->slot = NULL;
  w->owned = NULL;
  w->kept = NULL;
  w->capacity = 0;
}

/* A packet of a flow in any state but IDLE and WAITING + k (hello_watch). */
static int other_state(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *buf, uint8_t st) {
  if (st == HW_INSPECTING) return HW_INSPECT;
  if (st == HW_SCANNING) return scan(w, s, dir, p, buf + p->payload_off);
  if (st == HW_SPLIT || st == HW_SPLIT_SERVER) return hw_split_packet(w, s, dir, p, buf + p->payload_off);
  if (st == HW_DTLS) return hw_dtls_packet(w, s, p, buf + p->payload_off);
  if (st == HW_QUIC_SPLIT) return hw_quic_split_packet(w, s, dir, p, buf + p->payload_off);
  if (st >= HW_RESUMED_SERVER) return hw_resumed_packet(w, s, dir, p, buf + p->payload_off);
  /* st < HW_WAITING: a ClientHello was read in place. */
  return await_server(w, s, dir, p, buf + p->payload_off, st);
}

int hello_watch(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *buf, int is_new) {
  if (is_new) {
    w->server_version[s] = 0;
    w->state[s] = w->enabled && (p->proto == 6 || p->proto == 17) ? HW_WAITING : HW_IDLE;
    int syn = p->proto == 6 && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    w->syn_seen[s] = (uint8_t)syn;
    if (syn) w->isn[s] = p->tcp_seq;
  }
  uint8_t st = w->state[s];
  if (st == HW_IDLE) return HW_SKIP;
  /* Most calls come here: a new flow, or one still waiting for a packet that may start a hello
   * (WAITING + k), tested first; the other states' chain of tests is other_state's. */
  if ((unsigned)(st - HW_WAITING) >= HW_MAX_WAIT) return other_state(w, s, dir, p, buf, st);
  if (p->cap_payload <= 0) {
    /* A SYN sent again with a new ISN (an unanswered connect retried on the same ports) restarts the stream. */
    if (dir == 0 && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && w->syn_seen[s]) w->isn[s] = p->tcp_seq;
    return HW_SKIP;
  }
  if (dir == 0 && w->syn_seen[s] && !(p->tcp_flags & TCP_SYN) && p->tcp_seq != (uint32_t)(w->isn[s] + 1)) {
    w->syn_seen[s] = 0;
    return HW_OUT_OF_ORDER;
  }
  int anchored = w->syn_seen[s]; /* the stream's start is known: the reader rebuilds it from ISN + 1 */
  w->syn_seen[s] = 0;
  if (may_start_handshake(w, p, buf)) {
    const uint8_t *b = buf + p->payload_off;
    if (p->proto == 6 ? read_in_place(w, s, dir, b, p->cap_payload, (uint32_t)(st - HW_WAITING) + 1) || hw_split_start(w, s, dir, p, b) || read_server_first(w, s, dir, p, b) ||
                        hw_malformed_hello(w, s, p, b)
                      : read_quic_in_place(w, s, dir, b, p->cap_payload) || read_gquic_in_place(w, s, b, p->cap_payload) ||
                        hw_dtls_start(w, s, b, p->cap_payload)) return HW_SKIP;
    /* TCP that C did not read and that opens no hello record (STARTTLS plaintext, another 0x16): the reader would ignore it too.
     * But the first bytes of one, from the stream's start, are the reader's, with the SYN replayed to place them at ISN + 1
     * as for a segment out of order (found by review: a hello whose first segment held 1 to 5 bytes was lost, uncounted). */
    if (p->proto == 6 && !(p->tcp_flags & TCP_SYN) && !hw_opens_hello_record(b, p->cap_payload)) {
      if (anchored && dir == 0 && hw_hello_record_prefix(b, p->cap_payload)) return HW_OUT_OF_ORDER;
      return scan_count(w, s, 1, 1);
    }
    return HW_BEGIN;
  }
  w->state[s] = st - HW_WAITING + 1 >= HW_MAX_WAIT ? HW_IDLE : (uint8_t)(st + 1);
  return HW_SKIP;
}
