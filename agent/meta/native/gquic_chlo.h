/*
 * A gQUIC client's null-encrypted packet whose crypto stream opens with a whole CHLO, read in
 * place (hello_watch.c read_gquic_in_place). Why in C: on the benchmark capture every gQUIC
 * flow's first packet holds its whole CHLO (260 flows per million packets), and each cost an
 * inspector, a reader, a stream and their compiled code in JavaScript for one SNI.
 */
#ifndef ETA_GQUIC_CHLO_H
#define ETA_GQUIC_CHLO_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  /* "Q0nn" as a number: the QUIC version on the wire the metadata shows. */
  uint32_t wire;
  /* The CHLO's SNI (tag "SNI\0") when it is a host name as chlo.ts asciiName reads one; else has_sni 0. */
  const uint8_t *sni;
  size_t sni_len;
  int has_sni;
} gquic_chlo_t;

/*
 * 1 when the datagram p[0, len) is a client's null-encrypted Q024-Q043 (version present) or
 * Q046 Initial packet whose hash matches, whose frames before the crypto stream's are PADDING,
 * PING or other streams', and whose first crypto-stream piece opens with a whole CHLO of at
 * most max_buffer bytes: GquicReader would read exactly that and be done. 0 for anything else
 * (JavaScript's reader takes the packet from scratch, and reports what it finds wrong).
 */
int gquic_chlo_read(const uint8_t *p, size_t len, double max_buffer, gquic_chlo_t *out);

/*
 * A whole CHLO at b[s, e) of at most `limit` bytes, as ChloStream.add reads the first piece that
 * opens one: its SNI into out (wire untouched), 1; else 0 (what ChloStream would buffer or report).
 */
int gquic_chlo_at(const uint8_t *b, size_t s, size_t e, double limit, gquic_chlo_t *out);

#endif
