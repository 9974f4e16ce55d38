/*
 * QUIC Initial read in place (quic_initial.c qi_read_datagram / qi_read_two), with the harness
 * doing the encryption: the fuzzer writes the plaintext frames, the harness wraps them in a valid
 * client Initial of a configured version (keys from the DCID, AES-128-GCM, header protection), so
 * the frame walk, CRYPTO reassembly and ClientHello/CHLO parsing behind the AEAD get fuzzed.
 * Input: b0 version index, b1 DCID length (mod 21), b2 flags, then up to four u16-prefixed
 * (little-endian) pieces: plaintext 1, raw bytes appended after packet 1 (coalesced packets),
 * plaintext 2, raw trailer 2.
 *   flags bits 0-1: packet-number length - 1; bit 2: a second datagram (qi_read_two);
 *   bits 3-4: max_buffer {16384, 1500, 65536, 200}; bit 5: token of 3 bytes; bit 6: raw mode (the
 *   whole input after the 3 bytes handed over unencrypted, for the header walk).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/meta/native/quic_initial.h"
#include "../../agent/meta/native/hello_rec.h"
#include "quic_labels.h"

static const uint8_t CLIENT_IN[] = {0x00, 0x20, 15, 't', 'l', 's', '1', '3', ' ', 'c', 'l', 'i', 'e', 'n', 't', ' ', 'i', 'n', 0x00, 0x01};

typedef struct { uint32_t wire; int initial_type, retry_type, google, chlo; const char *salt; const char *prefix; } ver_t;
static const ver_t VERS[] = {
  {0x00000001, 0, 3, 0, 0, "38762cf7f55934b34d179ae6a4c80cadccbb7f0a", "quic"},
  {0x6b3343cf, 1, 0, 0, 0, "0dede3def700a6db819381be6e269dcbf9bd2ed9", "quicv2"},
  {0xff00001d, 0, 3, 0, 0, "afbfec289993d24c9e9786f19c6111e04390a899", "quic"},
  {0x51303530, 0, 3, 1, 1, "504574efd066fe2f9d945cfcdbd3a7f0d3b56b45", "quic"},
  {0x54303531, 0, 3, 1, 0, "7a4edef4e7ccee5fa4506c19124fc8ccda6e033d", "quic"},
};
#define NV (sizeof VERS / sizeof VERS[0])

static qi_state_t *st;
static qi_version_t qv[NV];
static uint8_t infob[NV][4][64];
static qc_bytes_t infos[NV][4];
static EVP_CIPHER_CTX *enc, *ecb;

static void setup(void) {
  st = qi_state_new();
  enc = EVP_CIPHER_CTX_new();
  ecb = EVP_CIPHER_CTX_new();
  for (size_t i = 0; i < NV; i++) {
    qv[i] = (qi_version_t){.wire = VERS[i].wire, .initial_type = VERS[i].initial_type, .retry_type = VERS[i].retry_type,
                           .google = VERS[i].google, .chlo = VERS[i].chlo};
    for (int k = 0; k < 20; k++) infob[i][0][k] = (uint8_t)(hexval(VERS[i].salt[2 * k]) << 4 | hexval(VERS[i].salt[2 * k + 1]));
    infos[i][0] = (qc_bytes_t){infob[i][0], 20};
    /* As the flow core sets a version up (bind_arrays.c): the reader derives from the salt's pads,
     * build() from the salt itself, so a packet opens only if the two derivations agree. */
    quic_hmac_init(&qv[i].salt, infob[i][0], 20);
    infos[i][1] = (qc_bytes_t){infob[i][1], label_info(infob[i][1], VERS[i].prefix, " key", 16)};
    infos[i][2] = (qc_bytes_t){infob[i][2], label_info(infob[i][2], VERS[i].prefix, " iv", 12)};
    infos[i][3] = (qc_bytes_t){infob[i][3], label_info(infob[i][3], VERS[i].prefix, " hp", 16)};
  }
}

/* A protected client Initial of version vi with the given DCID, packet number pn (pn_len bytes) and plaintext. */
static size_t build(uint8_t *o, size_t vi, const uint8_t *dcid, size_t dcil, int pn_len, uint32_t pn, int token,
                    const uint8_t *plain, size_t plen) {
  uint8_t keys[QC_SECRET + QC_PACKED];
  quic_initial_keys(infos[vi][0], (qc_bytes_t){dcid, dcil}, (qc_bytes_t){CLIENT_IN, sizeof CLIENT_IN}, infos[vi][1], infos[vi][2], infos[vi][3], keys);
  const uint8_t *key = keys + QC_SECRET + QC_KEY_AT, *iv = keys + QC_SECRET + QC_IV_AT, *hp = keys + QC_SECRET + QC_HP_AT;
  /* pad so that the sample fits */
  size_t need = plen;
  if (pn_len + need < 4 + QC_SAMPLE - QC_TAG + 4) need = 4 + QC_SAMPLE - QC_TAG + 4 - pn_len;
  size_t p = 0;
  o[p++] = (uint8_t)(0xc0 | qv[vi].initial_type << 4 | (pn_len - 1));
  o[p++] = (uint8_t)(qv[vi].wire >> 24); o[p++] = (uint8_t)(qv[vi].wire >> 16); o[p++] = (uint8_t)(qv[vi].wire >> 8); o[p++] = (uint8_t)qv[vi].wire;
  o[p++] = (uint8_t)dcil;
  memcpy(o + p, dcid, dcil); p += dcil;
  o[p++] = 0; /* SCID */
  if (token) { o[p++] = 3; o[p++] = 'a'; o[p++] = 'b'; o[p++] = 'c'; } else o[p++] = 0;
  size_t length = pn_len + need + QC_TAG;
  o[p++] = (uint8_t)(0x80 | length >> 24); o[p++] = (uint8_t)(length >> 16); o[p++] = (uint8_t)(length >> 8); o[p++] = (uint8_t)length;
  size_t pn_off = p;
  for (int k = pn_len - 1; k >= 0; k--) o[p++] = (uint8_t)(pn >> (8 * k));
  size_t hdr_end = p;
  uint8_t *pt = calloc(need ? need : 1, 1);
  memcpy(pt, plain, plen);
  uint8_t nonce[12];
  memcpy(nonce, iv, 12);
  for (int k = 0; k < 8; k++) nonce[11 - k] ^= (uint8_t)((uint64_t)pn >> (8 * k));
  int outl;
  EVP_EncryptInit_ex(enc, EVP_aes_128_gcm(), NULL, NULL, NULL);
  EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
  EVP_EncryptInit_ex(enc, NULL, NULL, key, nonce);
  EVP_EncryptUpdate(enc, NULL, &outl, o, (int)hdr_end);
  EVP_EncryptUpdate(enc, o + hdr_end, &outl, pt, (int)need);
  EVP_EncryptFinal_ex(enc, o + hdr_end + need, &outl);
  EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, 16, o + hdr_end + need);
  free(pt);
  p = hdr_end + need + QC_TAG;
  uint8_t mask[32];
  EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, hp, NULL);
  EVP_CIPHER_CTX_set_padding(ecb, 0);
  EVP_EncryptUpdate(ecb, mask, &outl, o + pn_off + 4, 16);
  o[0] ^= mask[0] & 0x0f;
  for (int k = 0; k < pn_len; k++) o[pn_off + k] ^= mask[1 + k];
  return p;
}

static const uint8_t *piece(const uint8_t **d, size_t *n, size_t *len) {
  if (*n < 2) { *len = 0; return *d; }
  size_t l = (*d)[0] | (size_t)(*d)[1] << 8;
  *d += 2; *n -= 2;
  if (l > *n) l = *n;
  const uint8_t *p = *d;
  *d += l; *n -= l;
  *len = l;
  return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (st == NULL) setup();
  if (size < 3) return 0;
  static const double MAXB[4] = {16384, 1500, 65536, 200};
  size_t vi = data[0] % NV;
  size_t dcil = data[1] % 21;
  uint8_t flags = data[2];
  double max_buffer = MAXB[(flags >> 3) & 3];
  const uint8_t *d = data + 3;
  size_t n = size - 3;
  tls_hello_t h;
  gquic_chlo_t c;
  if (flags & 0x40) {
    uint8_t *raw = malloc(n ? n : 1);
    memcpy(raw, d, n);
    qi_read_datagram(st, raw, n, &qv[vi], infos[vi], max_buffer, &h, &c);
    free(raw);
    return 0;
  }
  static const uint8_t DCID[20] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  size_t l1, t1, l2, t2;
  const uint8_t *p1 = piece(&d, &n, &l1), *r1 = piece(&d, &n, &t1), *p2 = piece(&d, &n, &l2), *r2 = piece(&d, &n, &t2);
  int pn_len = (flags & 3) + 1;
  uint8_t *b1 = malloc(l1 + t1 + 128), *b2 = malloc(l2 + t2 + 128);
  size_t n1 = build(b1, vi, DCID, dcil, pn_len, 0, flags & 0x20, p1, l1);
  memcpy(b1 + n1, r1, t1);
  n1 += t1;
  uint8_t *d1 = malloc(n1);
  memcpy(d1, b1, n1);
  int got = qi_read_datagram(st, d1, n1, &qv[vi], infos[vi], max_buffer, &h, &c);
  if (got == 1) {
    if (qv[vi].chlo) {
      /* as hello_watch.c read_quic_in_place: a record only for a CHLO with an SNI */
      hello_rec_t *r = c.has_sni ? hello_rec_chlo(c.sni, c.sni_len, 1) : NULL;
      free(r);
    } else {
      hello_rec_t *r = hello_rec_new(&h, 'q');
      free(r);
    }
  }
  if (got == QI_HELLO_GOES_ON || (flags & 4)) {
    size_t n2 = build(b2, vi, DCID, dcil, pn_len, 1, 0, p2, l2);
    memcpy(b2 + n2, r2, t2);
    n2 += t2;
    uint8_t *d2 = malloc(n2);
    memcpy(d2, b2, n2);
    if (qi_read_two(st, d1, n1, d2, n2, &qv[vi], infos[vi], max_buffer, &h)) {
      hello_rec_t *r = hello_rec_new(&h, 'q');
      free(r);
    }
    free(d2);
  }
  free(d1);
  free(b1);
  free(b2);
  return 0;
}
