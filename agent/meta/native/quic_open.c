/* See quic_open.h. */
#include "quic_open.h"

#include <math.h>
#include <string.h>

int quic_open_init(quic_open_t *s) {
  memset(s, 0, sizeof *s);
  s->ecb = EVP_CIPHER_CTX_new();
  s->gcm = EVP_CIPHER_CTX_new();
  return s->ecb != NULL && s->gcm != NULL && EVP_EncryptInit_ex(s->ecb, EVP_aes_128_ecb(), NULL, NULL, NULL) &&
         EVP_CIPHER_CTX_set_padding(s->ecb, 0) && EVP_DecryptInit_ex(s->gcm, EVP_aes_128_gcm(), NULL, NULL, NULL) &&
         EVP_CIPHER_CTX_ctrl(s->gcm, EVP_CTRL_GCM_SET_IVLEN, QC_IV, NULL);
}

void quic_open_free(quic_open_t *s) {
  EVP_CIPHER_CTX_free(s->ecb);
  EVP_CIPHER_CTX_free(s->gcm);
  s->ecb = s->gcm = NULL;
}

void quic_initial_keys(qc_bytes_t salt, qc_bytes_t dcid, qc_bytes_t in, qc_bytes_t key_info, qc_bytes_t iv_info,
                       qc_bytes_t hp_info, uint8_t out[QC_SECRET + QC_PACKED]) {
  hmac_key k;
  quic_hmac_init(&k, salt.b, salt.len);
  quic_initial_keys_salted(&k, dcid, in, key_info, iv_info, hp_info, out);
}

void quic_initial_keys_salted(const hmac_key *salt, qc_bytes_t dcid, qc_bytes_t in, qc_bytes_t key_info,
                              qc_bytes_t iv_info, qc_bytes_t hp_info, uint8_t out[QC_SECRET + QC_PACKED]) {
  uint8_t prk[SHA256_DIGEST_LENGTH], block[SHA256_DIGEST_LENGTH];
  hmac_key k;
  quic_hmac(salt, dcid.b, dcid.len, prk);
  quic_hmac_init(&k, prk, sizeof prk);
  quic_hmac(&k, in.b, in.len, out); /* the secret is exactly one block */
  quic_hmac_init(&k, out, QC_SECRET);
  quic_hmac(&k, key_info.b, key_info.len, block);
  memcpy(out + QC_SECRET + QC_KEY_AT, block, QC_KEY);
  quic_hmac(&k, iv_info.b, iv_info.len, block);
  memcpy(out + QC_SECRET + QC_IV_AT, block, QC_IV);
  quic_hmac(&k, hp_info.b, hp_info.len, block);
  memcpy(out + QC_SECRET + QC_HP_AT, block, QC_KEY);
}

/* RFC 9000 A.3, in doubles like quic-packet.ts's decodePn did, so that even values past
 * 2^53 round identically. */
static double decode_pn(double largest, double truncated, int bits) {
  double expected = largest + 1;
  double win = ldexp(1, bits);
  double half = win / 2;
  double candidate = (expected - fmod(expected, win)) + truncated;
  if (candidate <= expected - half && candidate < ldexp(1, 62) - win) return candidate + win;
  if (candidate > expected + half && candidate >= win) return candidate - win;
  return candidate;
}

static int set_key(EVP_CIPHER_CTX *ctx, uint8_t *held, int *set, const uint8_t *key, int gcm) {
  if (*set && memcmp(held, key, QC_KEY) == 0) return 1;
  *set = 0;
  int ok = gcm ? EVP_DecryptInit_ex(ctx, NULL, NULL, key, NULL) : EVP_EncryptInit_ex(ctx, NULL, NULL, key, NULL);
  if (!ok) return 0;
  memcpy(held, key, QC_KEY);
  *set = 1;
  return 1;
}

/* Feeds additional authenticated data; empty pieces are skipped (no call at all). */
static int aad(EVP_CIPHER_CTX *ctx, const uint8_t *b, size_t len) {
  int outl;
  return len == 0 || EVP_DecryptUpdate(ctx, NULL, &outl, b, (int)len);
}

int quic_unprotect(quic_open_t *s, const uint8_t *p, size_t off, size_t pn_off, size_t end, const uint8_t *keys,
                   double largest, quic_header_t *h) {
  uint8_t mask[16 + 16]; /* one block, plus room EVP may claim for a block of output */
  int outl = 0;
  if (!set_key(s->ecb, s->hp, &s->hp_set, keys + QC_HP_AT, 0) ||
      !EVP_EncryptUpdate(s->ecb, mask, &outl, p + pn_off + 4, QC_SAMPLE) || outl != QC_SAMPLE) return 0;
  h->first = p[off] ^ (mask[0] & 0x0f); /* long header: four bits are protected */
  h->pn_len = (size_t)(h->first & 0x03) + 1;
  h->hdr_end = pn_off + h->pn_len;
  if (h->hdr_end + QC_TAG > end) return 0;
  double truncated = 0;
  for (size_t k = 0; k < h->pn_len; k++) {
    h->pn_bytes[k] = p[pn_off + k] ^ mask[1 + k];
    truncated = truncated * 256 + h->pn_bytes[k];
  }
  h->pn = decode_pn(largest, truncated, (int)h->pn_len * 8);
  return 1;
}

/* The unmasked first byte and packet number are fed to GCM as additional data from a copy,
 * around the untouched bytes between them. */
int quic_decrypt(quic_open_t *s, const uint8_t *p, size_t off, size_t pn_off, size_t end, const uint8_t *keys,
                 const quic_header_t *h, uint8_t *out) {
  uint64_t pn_int = (uint64_t)h->pn; /* 0 <= pn < 2^64 by the caller's bound on largest */
  uint8_t nonce[QC_IV];
  memcpy(nonce, keys + QC_IV_AT, QC_IV);
  for (int k = 0; k < 8; k++) nonce[QC_IV - 1 - k] ^= (uint8_t)(pn_int >> (8 * k));
  size_t ct_len = end - QC_TAG - h->hdr_end;
  int outl = 0;
  if (!set_key(s->gcm, s->key, &s->key_set, keys + QC_KEY_AT, 1) || !EVP_DecryptInit_ex(s->gcm, NULL, NULL, NULL, nonce) ||
      !aad(s->gcm, &h->first, 1) || !aad(s->gcm, p + off + 1, pn_off - off - 1) || !aad(s->gcm, h->pn_bytes, h->pn_len) ||
      /* SET_TAG copies the tag; the pointer is not const only in the generic ctrl signature */
      !EVP_CIPHER_CTX_ctrl(s->gcm, EVP_CTRL_GCM_SET_TAG, QC_TAG, (void *)(p + end - QC_TAG)) ||
      (ct_len > 0 && (!EVP_DecryptUpdate(s->gcm, out, &outl, p + h->hdr_end, (int)ct_len) || (size_t)outl != ct_len))) {
    s->key_set = 0; /* whatever state the context is in, key it afresh next time */
    return 0;
  }
  uint8_t rest[16];
  return EVP_DecryptFinal_ex(s->gcm, rest, &outl) > 0; /* 0: the tag did not match */
}
