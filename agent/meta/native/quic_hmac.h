/*
 * HMAC-SHA256 (RFC 2104) with a key's padded states kept, for the HKDF of QUIC's Initial
 * keys (quic_crypto.c). SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but still
 * exported by node; they are what lets the padded states be copied as plain structs, where
 * EVP's digests would fetch and allocate per call.
 */
#ifndef ETA_QUIC_HMAC_H
#define ETA_QUIC_HMAC_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

/* A key's inner and outer padded states, hashed once: every label expanded from the same
 * secret (key, iv, hp) starts from them. */
typedef struct {
  SHA256_CTX inner;
  SHA256_CTX outer;
} hmac_key;

void quic_hmac_init(hmac_key *k, const uint8_t *key, size_t len);
void quic_hmac(const hmac_key *k, const uint8_t *msg, size_t len, uint8_t out[SHA256_DIGEST_LENGTH]);

#endif
