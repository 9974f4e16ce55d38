/*
 * A QUIC flow's first datagram read whole in C (quic_initial.c), by the flow core
 * (hello_watch.c read_quic_in_place).
 */
#ifndef ETA_QUIC_INITIAL_H
#define ETA_QUIC_INITIAL_H

#include <stdint.h>

#include "gquic_chlo.h"
#include "quic_open.h"
#include "tls_hello.h"

/* A version (quic-keys.ts), its long-header types of Initial and Retry packets, and what its
 * Initials carry: IETF frames or Google's encoding (Q050, T050, T051), a TLS hello or a CHLO (Q050). */
typedef struct {
  uint32_t wire;
  int initial_type;
  int retry_type;
  int google;
  int chlo;
  /* The padded states of the version's salt (info[0] below), hashed once when the version is set
   * up (hw_quic_ready; the fuzz harness likewise) instead of in every derivation: 2 of its 16
   * SHA-256 blocks (callgrind, 1M packets: 1,440 derivations, 35,700 instructions each before,
   * 31,400 after). */
  hmac_key salt;
} qi_version_t;

/* Scratch for reading datagrams: the AES contexts and two 64 KiB buffers. */
typedef struct qi_state qi_state_t;

/* NULL when out of memory or when OpenSSL cannot make the contexts. */
qi_state_t *qi_state_new(void);
void qi_state_free(qi_state_t *s);

/*
 * The datagram p[0, n), a client Initial of version v, with v's salt and HKDF label infos
 * (info: salt, key, iv, hp): 1 with *hello parsed (with v->chlo, *chlo; their bytes in s, valid
 * until the next call) when its CRYPTO frames hold the whole ClientHello (CHLO) and JavaScript's
 * QuicReader would read it without a report; QI_HELLO_GOES_ON (below); else 0, and the reader
 * must read the datagram.
 */
int qi_read_datagram(qi_state_t *s, const uint8_t *p, size_t n, const qi_version_t *v, const qc_bytes_t info[4],
                     double max_buffer, tls_hello_t *hello, gquic_chlo_t *chlo);
/* qi_read_datagram's answer for an IETF Initial whose ClientHello goes on in a later Initial, the
 * rest read as the reader would, with nothing to report. */
#define QI_HELLO_GOES_ON 2

/*
 * The client's first Initial p1 (qi_read_datagram answered QI_HELLO_GOES_ON) and its next
 * datagram p2, read as the reader reads the two: 1 with *hello when p2 is an Initial of the same
 * DCID and version whose CRYPTO frames complete the ClientHello; else 0.
 */
int qi_read_two(qi_state_t *s, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2, const qi_version_t *v,
                const qc_bytes_t info[4], double max_buffer, tls_hello_t *hello);

uint32_t qi_be32(const uint8_t *b);

#endif
