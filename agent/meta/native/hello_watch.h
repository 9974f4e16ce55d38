/*
 * The handshake inspector's first-packets policy, run by the C flow table on every packet of a
 * flow the inspector watches (agent/meta/flow-plugin.ts holds the rest of it). Why in C: most
 * flows carry no handshake, and handing each of their first packets to JavaScript only to be
 * told "not a hello" cost more than the hellos themselves (about 290,000 packets per million on
 * the benchmark capture, of which ~10,000 lead to a hello). Only the packets below reach
 * JavaScript; the state arrays are JavaScript's typed arrays, which both sides read and write.
 */
#ifndef ETA_HELLO_WATCH_H
#define ETA_HELLO_WATCH_H

#include <stdint.h>
#include "../../flows/native/packet.h"
#include "hello_rec.h"
#include "quic_initial.h"
#include "tls_split.h"

/* Payload packets a flow may carry before one starts a hello (flow-plugin.ts says why more than one). */
enum { HW_MAX_WAIT = 8 };
/* Per-slot state; the values are flow-plugin.ts's (IDLE, INSPECTING, AWAIT_SERVER + dir, WAITING + k,
 * SCANNING). */
enum { HW_IDLE = 0, HW_INSPECTING = 1, HW_AWAIT_SERVER = 2, HW_WAITING = 4, HW_SCANNING = HW_WAITING + HW_MAX_WAIT,
       HW_SPLIT = HW_SCANNING + 1, HW_SPLIT_SERVER = HW_SPLIT + 1, HW_DTLS = HW_SPLIT_SERVER + 1,
       HW_RESUMED_SERVER = HW_DTLS + 1 /* + the client's direction */, HW_QUIC_SPLIT = HW_RESUMED_SERVER + 2 };

/* What JavaScript must do with a packet hello_watch() hands it (none: HW_SKIP); table.ts's WATCH_*. */
enum { HW_SKIP = -1, HW_INSPECT = 0, HW_BEGIN = 1, HW_OUT_OF_ORDER = 2, HW_RESUME = 3, HW_SPLIT_BACK = 4, HW_QUIC_BACK = 5 };

/* A QUIC flow's first datagram, kept while its ClientHello goes on in the next (quic_split.c). */
typedef struct {
  uint32_t len;
  uint32_t wire;
  uint8_t dir;
  uint8_t data[];
} hw_first_t;

typedef struct {
  /* The ClientHello read in place here (read_in_place, read_quic_in_place), until the flow ends. */
  hello_rec_t *rec;
  /* A ClientHello being reassembled here (HW_SPLIT, tls_split.c). */
  tls_split_t *split;
  /* HW_QUIC_SPLIT: the flow's first datagram (quic_split.c). */
  hw_first_t *first;
} hw_slot_t;

typedef struct {
  qi_version_t v;
  qc_bytes_t info[4]; /* salt, key, iv and hp label infos */
  uint8_t bytes[4][64];
} hw_quic_t;

typedef struct {
  uint8_t *state;    /* per slot, see above */
  /* The client's initial sequence number, when its SYN was seen; while SCANNING, the inspector's
   * counts instead (payload packets << 16 | packets), and while AWAIT_SERVER + d its payload
   * packets: a flow that began needs no ISN. */
  uint32_t *isn;
  uint8_t *syn_seen; /* 1 while the flow's client SYN is known and no data followed yet */
  /* After a ClientHello read in place: 1 + the version its ServerHello selected, 0 none. With
   * HW_HELD_SERVER: 1 + the first ServerHello's version | its direction << HW_SERVER_DIR_SHIFT. */
  uint32_t *server_version;
  /* JavaScript's per-slot flag (flow-plugin.ts's `held`): HW_HELD_IN_C while C answers for the flow
   * (slot[s].rec holds its hello, or none when C found only reports: tls_resume.c hw_malformed_hello),
   * HW_HELD_SERVER while server_version[s] holds a first ServerHello's. */
  uint8_t *held;
  /* What JavaScript's reader would have reported for a flow C reads (dtls_watch.c, tls_resume.c), as
   * inspector.ts's REASON_BITS: the plugin counts them when the flow ends. */
  uint8_t *reports;
  /* Per slot, what C holds for the flow, owned by C (one cache line; owned[s] says whether any is there). */
  hw_slot_t *slot;
  /* Per slot, 1 while slot[s] holds a record, a reassembly or a kept datagram: a flow's end reads
   * this byte, not slot[s] (a cache miss at most flows' ends: ~1% of the flow meter's time, perf). */
  uint8_t *owned;
  int32_t capacity; /* entries of slot */
  /* The QUIC versions whose first Initial C reads in place (quic-keys.ts inPlaceQuicVersions), their
   * salts and label infos (bind_watch copies them: info[0..3] point into `bytes`), meta.max_buffer,
   * and the scratch to decrypt in (made with slot). */
  hw_quic_t *quic;
  size_t n_quic;
  /* Bit b set when a version in `quic` has b as its first byte on the wire (hw_quic_version). */
  uint32_t quic_first[8];
  double max_buffer;
  /* Reassemblies (tls_split.c) and kept datagrams (quic_split.c) held at once, and the most
   * (meta.max_reassembling): each holds up to max_buffer bytes; beyond, the reader has the flow
   * (whose inspectors are bounded the same way), so memory stays bounded whatever the flows. */
  uint32_t *kept;
  uint32_t max_kept;
  qi_state_t *qi;
  int enabled;
  int max_packets; /* the inspector's packet budget (meta.max_packets) */
} hello_watch_t;

/* inspector.ts's CONTROL_PACKET_FACTOR: packets without payload count towards this multiple of max_packets. */
enum { HW_CONTROL_PACKET_FACTOR = 4 };

/* Whether the inspector's packet budget (inspector.ts settle) is spent after these counts. */
static inline int hw_budget_spent(const hello_watch_t *w, uint32_t packets, uint32_t payloads) {
  return payloads >= (uint32_t)w->max_packets || packets >= (uint32_t)w->max_packets * HW_CONTROL_PACKET_FACTOR;
}

/* Big-endian fields of TLS records and handshake messages (the caller checked they fit). */
/* 16 03 0x LL LL 01|02: a handshake record opening with a ClientHello or a ServerHello. */
static inline int hw_opens_hello_record(const uint8_t *b, int64_t len) {
  return len >= 6 && b[0] == 0x16 && b[1] == 3 && b[2] <= 4 && (b[5] == 1 || b[5] == 2);
}

/* Under 6 bytes that such a record's header may begin with: a stack writing the header apart, or a DPI evader's split. */
static inline int hw_hello_record_prefix(const uint8_t *b, int64_t len) {
  return len > 0 && len < 6 && b[0] == 0x16 && (len < 2 || b[1] == 3) && (len < 3 || b[2] <= 4);
}

static inline uint32_t hw_be16(const uint8_t *b) {
  return (uint32_t)b[0] << 8 | b[1];
}
static inline uint32_t hw_be24(const uint8_t *b) {
  return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

/* flow-plugin.ts's HELD_IN_C, and HELD_SERVER: a ServerHello came first, its version (1 + it, with the
 * server's direction << HW_SERVER_DIR_SHIFT) in server_version[s]. */
enum { HW_HELD_IN_C = 2, HW_HELD_SERVER = 3, HW_SERVER_DIR_SHIFT = 24 };

/* The packet p (bytes in buf) was added to the flow in slot s; returns HW_SKIP or an action for JavaScript. */
int hello_watch(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *buf, int is_new);

/* The flow in slot s holds the hello r (NULL: out of memory, and 0) until it ends, in state `state`. */
int hw_keep(const hello_watch_t *w, int32_t s, hello_rec_t *r, uint32_t quic_wire, uint8_t state);

/* dtls_watch.c: the version a ServerHello body b[start, end) selects (hello.ts parseServerHello), or -1 when malformed. */
int32_t hw_server_hello_body(const uint8_t *b, int64_t start, int64_t end);
/* dtls_watch.c: read a flow's first DTLS datagram b[0, len) holding a whole ClientHello (1), or leave it to JavaScript (0). */
int hw_dtls_start(const hello_watch_t *w, int32_t s, const uint8_t *b, int64_t len);
/* tls_resume.c: a scanned flow's segment b (p) holding a whole ClientHello record, read (1), or left to JavaScript (0). */
int hw_resume_in_place(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b);
/* inspector.ts REASON_BITS of the reports C records in reports[s] (dtls_watch.c, tls_resume.c). */
enum { HW_REPORT_TLS_MALFORMED = 1, HW_REPORT_DTLS_MALFORMED = 2 };
/* quic_split.c: after w->quic is filled, what the lookups below use: each version's salt hashed into
 * its HMAC pads (qi_version_t.salt) and the versions' first bytes (quic_first). */
void hw_quic_ready(hello_watch_t *w);
/* quic_split.c: the QUIC version with this wire value that C reads in place, or NULL. */
const hw_quic_t *hw_quic_version(const hello_watch_t *w, uint32_t wire);
/* quic_split.c: keep a QUIC flow's first datagram b[0, len) (of version `wire`), whose ClientHello goes on (1), or not (0). */
int hw_quic_split_start(const hello_watch_t *w, int32_t s, int dir, const uint8_t *b, int64_t len, uint32_t wire);
/* quic_split.c: the next packet of a flow in HW_QUIC_SPLIT: HW_SKIP (the hello read), or HW_QUIC_BACK. */
int hw_quic_split_packet(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b);
/* quic_split.c: drops slot s's kept datagram, if any. */
void hw_quic_split_drop(const hello_watch_t *w, int32_t s);
/* tls_resume.c: a flow's first hello-starting segment b (p), a whole ClientHello record that does not
 * parse: the reader's report recorded and the flow done (1); else 0. */
int hw_malformed_hello(const hello_watch_t *w, int32_t s, const packet_t *p, const uint8_t *b);
/* tls_resume.c: a packet of a flow in HW_RESUMED_SERVER + d (its payload at b): always HW_SKIP. */
int hw_resumed_packet(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b);
/* dtls_watch.c: a packet of a flow in HW_DTLS (its payload at b): always HW_SKIP. */
int hw_dtls_packet(const hello_watch_t *w, int32_t s, const packet_t *p, const uint8_t *b);
/* Whether b[0, len) opens a ServerHello record holding the whole message (tls-tcp.ts serverData's test before it parses one). */
int hw_whole_server_hello(const uint8_t *b, int64_t len);
/* dtls_watch.c: the version a ServerHello wholly in b[0, len) selects (hello.ts parseServerHello), or -1 (none here, malformed). */
int32_t hw_server_version(const uint8_t *b, int64_t len);
/* tls_split.c: start reassembling a ClientHello that the flow's first hello-starting TCP payload
 * b[0, p->cap_payload) opens but does not hold (1), or leave the packet to JavaScript (0). */
int hw_split_start(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b);
/* tls_split.c: a packet of a flow in HW_SPLIT or HW_SPLIT_SERVER: HW_SKIP, or HW_SPLIT_BACK when
 * JavaScript's reader must take over (takeSplit hands it the bytes so far). */
int hw_split_packet(const hello_watch_t *w, int32_t s, int dir, const packet_t *p, const uint8_t *b);
/* The flow core's takeSplit(slot, info: Uint32Array(4)), data the watch: the bytes reassembled so far
 * as a Buffer, with info = [first sequence number, client direction, packets and payload packets
 * before this one]; the reassembly is dropped. */
napi_value hello_watch_take_split(napi_env env, napi_callback_info info);
/* tls_split.c: drops slot s's reassembly, if any. */
void hw_split_drop(const hello_watch_t *w, int32_t s);

/* The per-slot records for `capacity` slots and the QUIC scratch: 0, or -1 when out of memory. */
int hello_watch_alloc(hello_watch_t *w, int32_t capacity);
/* The flow in slot s has ended (JavaScript has read its record): its hello is dropped. */
void hello_watch_end(const hello_watch_t *w, int32_t s);
/*
 * The flow core's helloOf(slot), a Node-API callback whose data is the watch: the hello read in
 * place for the flow in `slot` as hello_rec_text's string, its version being the one its
 * ServerHello selected when C read one; with HW_HELD_SERVER, hello_rec_server_text's string for the
 * first ServerHello; null when C holds none for that slot. Throws a RangeError
 * for a slot outside the table.
 */
napi_value hello_watch_hello_of(napi_env env, napi_callback_info info);
/* Drops every record, the arrays and the QUIC table and scratch (the table is freed). Only slots
 * [0, used) ever held a flow (the table's `fresh`): the rest of the arrays were never touched, and
 * reading them through would fault in every page of them (2 x 8 MB at a million slots). */
void hello_watch_free(hello_watch_t *w, int32_t used);

#endif
