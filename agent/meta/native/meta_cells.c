/* See meta_cells.h. */
#include "meta_cells.h"

#include <string.h>

/* held-meta.ts's offsets: marker, transport, version (4 hex or '----'), wire (8 hex), JA4 (36 or
 * 36 '-'), SNI flag ('1' or '0'), SNI, then '\0' before each ALPN value. */
enum { VERSION_AT = 2, JA4_AT = 14, JA4_LEN = 36, SNI_FLAG_AT = JA4_AT + JA4_LEN, SNI_AT = SNI_FLAG_AT + 1 };
int meta_cells_name(meta_names_t *t, uint16_t code, const char *name, size_t len) {
  if (len == 0 || len > META_CELLS_NAME_MAX) return -1;
  for (size_t i = 0; i < len; i++)
    if ((uint8_t)name[i] > 0x7e) return -1;
  for (int i = 0; i < t->n; i++) {
    if (t->e[i].code == code) return t->e[i].len == len && memcmp(t->e[i].name, name, len) == 0 ? 0 : -1;
  }
  if (t->n == META_CELLS_NAMES) return -1;
  t->e[t->n].code = code;
  t->e[t->n].len = (uint8_t)len;
  memcpy(t->e[t->n].name, name, len);
  t->n++;
  return 0;
}

/* As csv-cells.ts guardedStart: a formula's first character, or a ' (which the reader takes off). */
static int formula_start(uint8_t c) { return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\''; }

static int hex_digit(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static uint8_t *put_version(const meta_names_t *t, uint8_t *o, unsigned v) {
  for (int i = 0; i < t->n; i++) {
    if (t->e[i].code == v) {
      memcpy(o, t->e[i].name, t->e[i].len);
      return o + t->e[i].len;
    }
  }
  static const char digits[] = "0123456789abcdef";
  *o++ = '0';
  *o++ = 'x';
  for (int shift = 12; shift >= 0; shift -= 4) *o++ = (uint8_t)digits[(v >> shift) & 15];
  return o;
}

ptrdiff_t meta_cells_csv(const meta_names_t *t, const uint8_t *s, size_t n, uint8_t *out) {
  if (n < SNI_AT || s[0] != 1) return -1;
  /* A byte past ASCII anywhere: s came as UTF-8, whose offsets are then not JavaScript's (and
   * csvCells quotes such a cell). Found by review. */
  for (size_t i = 0; i < n; i++)
    if (s[i] > 0x7e) return -1;
  /* The SNI and ALPN values: a byte that HeldMeta.csvCells would quote goes back to it. */
  for (size_t i = SNI_AT; i < n; i++) {
    uint8_t c = s[i];
    if (c == '"' || c == ',' || c == '\n' || c == '\r') return -1;
  }
  uint8_t *o = out;
  const uint8_t *sep = memchr(s + SNI_AT, 0, n - SNI_AT);
  size_t sni_end = sep ? (size_t)(sep - s) : n;
  /* A cell that starts as a spreadsheet formula: format.ts csvText writes it, after a '. */
  if ((sni_end > SNI_AT && formula_start(s[SNI_AT])) || (sni_end + 1 < n && formula_start(s[sni_end + 1]))) return -1;
  if (s[SNI_FLAG_AT] == '1') {
    memcpy(o, s + SNI_AT, sni_end - SNI_AT);
    o += sni_end - SNI_AT;
  }
  *o++ = ',';
  for (size_t i = sni_end + 1; i < n; i++) *o++ = s[i] == 0 ? ';' : s[i];
  *o++ = ',';
  if (s[VERSION_AT] != '-') {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
      int d = hex_digit(s[VERSION_AT + i]);
      if (d < 0) return -1;
      v = v * 16 + (unsigned)d;
    }
    o = put_version(t, o, v);
  }
  *o++ = ',';
  if (s[JA4_AT] != '-') {
    memcpy(o, s + JA4_AT, JA4_LEN);
    o += JA4_LEN;
  }
  return o - out;
}
