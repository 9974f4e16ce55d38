/*
 * QUIC Initial packet protection (RFC 9001 5) as plain C, shared by the two addons that open
 * Initials: quic_crypto.c (the readers' per-packet calls from JavaScript) and quic_initial.c
 * (a flow's first client Initial read whole in C). The libcrypto is the one the node binary
 * exports (OpenSSL 3.0 in node 20): nothing else is linked.
 */
#ifndef ETA_QUIC_OPEN_H
#define ETA_QUIC_OPEN_H

/* First: it asks OpenSSL's headers, before any other includes them, to allow the SHA256_* calls. */
#include "quic_hmac.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 9001 5.3-5.4 with AES-128-GCM: sizes, and where the packed keys put each part. */
#define QC_KEY 16
#define QC_IV 12
#define QC_TAG 16
#define QC_SAMPLE 16
#define QC_SECRET 32
#define QC_KEY_AT 0
#define QC_IV_AT (QC_KEY_AT + QC_KEY)
#define QC_HP_AT (QC_IV_AT + QC_IV)
#define QC_PACKED (QC_HP_AT + QC_KEY)

/* The two cipher contexts every packet reuses, with the keys they hold. Re-keying a context
 * costs an AES key schedule (and GCM's hash table) but no allocation; a flow's Initials use
 * the same keys, so consecutive packets usually skip even that. */
typedef struct {
  EVP_CIPHER_CTX *ecb;
  EVP_CIPHER_CTX *gcm;
  uint8_t hp[QC_KEY];
  uint8_t key[QC_KEY];
  int hp_set;
  int key_set;
} quic_open_t;

/* 1 when both contexts were made; quic_open_free releases them either way. */
int quic_open_init(quic_open_t *s);
void quic_open_free(quic_open_t *s);

/* A byte string (an HkdfLabel followed by HKDF-Expand's counter byte, for the infos). */
typedef struct {
  const uint8_t *b;
  size_t len;
} qc_bytes_t;

/*
 * The initial secret of one direction, then its key, iv and hp (QC_SECRET + QC_PACKED bytes):
 *   prk = HMAC(salt, dcid); secret = HMAC(prk, in); key|iv|hp = HMAC(secret, info)...
 * Every info already ends with Expand's counter byte 0x01, so each HKDF-Expand output (at
 * most 32 bytes) is that one HMAC, truncated.
 */
void quic_initial_keys(qc_bytes_t salt, qc_bytes_t dcid, qc_bytes_t in, qc_bytes_t key_info, qc_bytes_t iv_info,
                       qc_bytes_t hp_info, uint8_t out[QC_SECRET + QC_PACKED]);
/* The same from the salt's padded states (quic_hmac_init of the salt), which a version's reader
 * hashes once: each derivation is then 14 SHA-256 blocks instead of 16. */
void quic_initial_keys_salted(const hmac_key *salt, qc_bytes_t dcid, qc_bytes_t in, qc_bytes_t key_info,
                              qc_bytes_t iv_info, qc_bytes_t hp_info, uint8_t out[QC_SECRET + QC_PACKED]);

/* A packet's header with protection removed: the unmasked first byte and packet number. */
typedef struct {
  uint8_t first;
  uint8_t pn_bytes[4];
  size_t pn_len;
  /* Where the ciphertext starts (after the packet number). */
  size_t hdr_end;
  /* The full packet number, decoded against the largest one opened before (RFC 9000 A.3). */
  double pn;
} quic_header_t;

/*
 * Removes header protection from the packet p[off, end) whose packet number starts at pn_off,
 * with keys = key|iv|hp: 1 and *h filled, or 0 when the sample or the tag would not fit. The
 * caller has checked off < pn_off, pn_off + 4 + QC_SAMPLE <= end, end <= INT_MAX and that p
 * holds end bytes; `largest` is an integer in [-1, 2^63). p is never written.
 */
int quic_unprotect(quic_open_t *s, const uint8_t *p, size_t off, size_t pn_off, size_t end, const uint8_t *keys,
                   double largest, quic_header_t *h);

/* The plaintext after quic_unprotect, end - QC_TAG - h->hdr_end bytes into out: 1, or 0 when the
 * packet does not authenticate (out then holds garbage). */
int quic_decrypt(quic_open_t *s, const uint8_t *p, size_t off, size_t pn_off, size_t end, const uint8_t *keys,
                 const quic_header_t *h, uint8_t *out);

#endif
