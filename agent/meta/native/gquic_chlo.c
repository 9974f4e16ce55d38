/*
 * See gquic_chlo.h. Read for read as gquic.ts GquicReader.datagram (headers: gquic-packet.ts
 * readGquicHeader), gquic-frames.ts walkFrames and chlo.ts ChloStream.add and parseChlo, for
 * the case that is one packet; every other case returns 0 where the JavaScript would go on.
 */
#include "gquic_chlo.h"

#include "gquic_hash.h"

enum { MIN_PUBLIC = 24, MAX_PUBLIC = 43, Q046 = 46, CRYPTO_STREAM = 1, MAX_SNI = 255 };
/* Private flags before Q034: an FEC packet (skipped), an FEC group byte follows. */
enum { PRIVATE_FEC = 0x04, PRIVATE_FEC_GROUP = 0x02 };
/* The CHLO: "CHLO", entries u16, 2 bytes padding, then (tag, end offset) pairs; Chromium refuses more than 128 entries. */
enum { CHLO_HEADER = 8, CHLO_MAX_ENTRIES = 128 };
#define TAG_CHLO 0x4f4c4843u /* "CHLO" read little-endian */
#define TAG_SNI 0x00494e53u  /* "SNI\0" */

static const uint8_t PN_LENGTHS[4] = {1, 2, 4, 6};

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* nn of "Q0nn" at b (4 bytes there), else -1. */
static int version_at(const uint8_t *b) {
  if (b[0] != 0x51 || b[1] != 0x30) return -1;
  int d1 = b[2] - 0x30, d2 = b[3] - 0x30;
  return d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 ? d1 * 10 + d2 : -1;
}

/* An integer of n bytes (at most 6), big-endian from Q039. */
static double uint_at(const uint8_t *b, int n, int be) {
  double v = 0;
  for (int k = 0; k < n; k++) v = v * 256 + b[be ? k : n - 1 - k];
  return v;
}

/* readGquicHeader with no version known yet: the offset of the message hash, or 0; *version, *pn_len. */
static size_t header(const uint8_t *p, size_t len, int *version, int *pn_len) {
  if (len < 1 + GQUIC_HASH_LEN) return 0;
  uint8_t b0 = p[0];
  size_t pos;
  if ((b0 & 0x80) == 0) {
    if ((b0 & 0x02) != 0 || (b0 & 0x01) == 0) return 0; /* a public reset; no version (none known on a first packet) */
    pos = (b0 & 0x08) != 0 ? 9 : 1;
    if (pos + 4 > len) return 0;
    *version = version_at(p + pos);
    pos += 4;
    if (*version < MIN_PUBLIC || *version > MAX_PUBLIC) return 0;
    *pn_len = PN_LENGTHS[(b0 >> 4) & 3];
  } else {
    if ((b0 & 0xf0) != 0xc0 || len < 6 || version_at(p + 1) != Q046) return 0;
    *version = Q046;
    int dcil = p[5] >> 4, scil = p[5] & 0x0f;
    pos = 6 + (size_t)(dcil == 0 ? 0 : dcil + 3) + (size_t)(scil == 0 ? 0 : scil + 3);
    *pn_len = (b0 & 3) + 1;
  }
  pos += (size_t)*pn_len;
  return pos + GQUIC_HASH_LEN > len ? 0 : pos;
}

/* chlo.ts asciiName: a host name of printable ASCII without spaces, at most 255 bytes. */
static void sni_of(const uint8_t *b, size_t s, size_t e, gquic_chlo_t *out) {
  out->has_sni = 0;
  if (e <= s || e - s > MAX_SNI) return;
  for (size_t i = s; i < e; i++) if (b[i] < 0x21 || b[i] > 0x7e) return;
  out->has_sni = 1;
  out->sni = b + s;
  out->sni_len = e - s;
}

int gquic_chlo_at(const uint8_t *b, size_t s, size_t e, double limit, gquic_chlo_t *out) {
  if (e - s < CHLO_HEADER || le32(b + s) != TAG_CHLO) return 0;
  uint32_t entries = (uint32_t)b[s + 4] | (uint32_t)b[s + 5] << 8;
  if (entries > CHLO_MAX_ENTRIES) return 0;
  size_t table = CHLO_HEADER + 8 * (size_t)entries;
  if (e - s < table) return 0;
  uint32_t prev = 0;
  for (uint32_t k = 0; k < entries; k++) {
    uint32_t end = le32(b + s + CHLO_HEADER + 8 * k + 4);
    if (end < prev) return 0;
    prev = end;
  }
  double total = (double)table + prev;
  if (total > limit || total > (double)(e - s)) return 0;
  size_t values = s + table;
  out->has_sni = 0;
  prev = 0;
  for (uint32_t k = 0; k < entries; k++) {
    const uint8_t *at = b + s + CHLO_HEADER + 8 * k;
    uint32_t end = le32(at + 4);
    if (le32(at) == TAG_SNI) sni_of(b, values + prev, values + end, out); /* the last SNI tag wins, as in parseChlo */
    prev = end;
  }
  return 1;
}

int gquic_chlo_read(const uint8_t *p, size_t len, double max_buffer, gquic_chlo_t *out) {
  int version = 0, pn_len = 0;
  size_t i = header(p, len, &version, &pn_len);
  if (i == 0 || !gquic_client_hash_matches(p, len, i, version > 35)) return 0;
  i += GQUIC_HASH_LEN;
  if (version < 34) {
    if (i >= len || (p[i] & PRIVATE_FEC) != 0) return 0;
    i += (p[i] & PRIVATE_FEC_GROUP) != 0 ? 2 : 1;
  }
  int be = version >= 39;
  while (i < len) {
    uint8_t t = p[i];
    if (t == 0x00) {
      while (i < len && p[i] == 0) i++; /* PADDING */
    } else if (t == 0x07) {
      i++; /* PING */
    } else if (t >= 0x80) {
      /* STREAM: 1fdooss, ss + 1 stream-ID bytes, ooo offset bytes (0 or ooo + 1), d: a 2-byte data length */
      int id_len = (t & 3) + 1, ooo = (t >> 2) & 7, off_len = ooo == 0 ? 0 : ooo + 1, has_len = (t & 0x20) != 0;
      size_t q = i + 1;
      if (q + (size_t)id_len + (size_t)off_len + (has_len ? 2 : 0) > len) return 0;
      double stream = uint_at(p + q, id_len, be);
      q += (size_t)(id_len + off_len);
      size_t end = len;
      if (has_len) {
        end = q + 2 + (size_t)uint_at(p + q, 2, be);
        q += 2;
        if (end > len) return 0;
      }
      /* The crypto stream's first piece decides: a whole CHLO here, or JavaScript's stream takes it. */
      if (stream == CRYPTO_STREAM) {
        if (q >= end || !gquic_chlo_at(p, q, end, max_buffer, out)) return 0;
        out->wire = 0x51300000u | (uint32_t)(0x30 + version / 10) << 8 | (uint32_t)(0x30 + version % 10);
        return 1;
      }
      i = end;
    } else {
      return 0; /* ACK and the rest: the reader walks them */
    }
  }
  return 0;
}
