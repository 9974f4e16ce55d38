/* See quic_hmac.h. */
#include "quic_hmac.h"

#include <string.h>

void quic_hmac_init(hmac_key *k, const uint8_t *key, size_t len) {
  uint8_t block[SHA256_CBLOCK];
  uint8_t digest[SHA256_DIGEST_LENGTH];
  if (len > SHA256_CBLOCK) { /* RFC 2104: longer keys are hashed first (no QUIC salt is) */
    SHA256(key, len, digest);
    key = digest;
    len = sizeof digest;
  }
  memset(block, 0, sizeof block);
  if (len > 0) memcpy(block, key, len);
  for (size_t i = 0; i < sizeof block; i++) block[i] ^= 0x36;
  SHA256_Init(&k->inner);
  SHA256_Update(&k->inner, block, sizeof block);
  for (size_t i = 0; i < sizeof block; i++) block[i] ^= 0x36 ^ 0x5c;
  SHA256_Init(&k->outer);
  SHA256_Update(&k->outer, block, sizeof block);
}

void quic_hmac(const hmac_key *k, const uint8_t *msg, size_t len, uint8_t out[SHA256_DIGEST_LENGTH]) {
  SHA256_CTX c = k->inner;
  SHA256_Update(&c, msg, len);
  SHA256_Final(out, &c);
  c = k->outer;
  SHA256_Update(&c, out, SHA256_DIGEST_LENGTH);
  SHA256_Final(out, &c);
}
