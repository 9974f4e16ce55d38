/*
 * gQUIC's null-encryption message hash (Q024-Q046 packets before the handshake): FNV-1a 128
 * over the packet with the 12 hash bytes left out, and from Q036 the sender's perspective
 * ("Client") appended; the packet carries the hash's low 96 bits, least significant byte first.
 */
#ifndef ETA_GQUIC_HASH_H
#define ETA_GQUIC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define GQUIC_HASH_LEN 12

/* Whether p[hash_off, hash_off + 12) is the client's hash of p[0, len) (0 when it does not fit). */
int gquic_client_hash_matches(const uint8_t *p, size_t len, size_t hash_off, int with_perspective);

#endif
