/* See hello_rec.h. */
#include "hello_rec.h"

#include <stdlib.h>
#include <string.h>

hello_rec_t *hello_rec_new(const tls_hello_t *h, char proto) {
  size_t size = sizeof(hello_rec_t) + (h->has_sni ? h->sni.len : 0);
  for (unsigned i = 0; i < h->alpn_count; i++) size += 1 + h->alpn[i].len;
  hello_rec_t *r = malloc(size);
  if (r == NULL) return NULL;
  if (!ja4_write(proto, h, r->ja4)) {
    free(r);
    return NULL;
  }
  r->quic_wire = 0;
  r->chlo = 0;
  r->transport = proto;
  r->highest = tls_hello_highest(h);
  r->has_sni = (uint8_t)h->has_sni;
  r->sni_len = (uint8_t)(h->has_sni ? h->sni.len : 0); /* at most TLS_HELLO_MAX_SNI (255) */
  r->alpn_count = (uint8_t)h->alpn_count;
  uint8_t *o = r->data;
  memcpy(o, h->b + h->sni.off, r->sni_len);
  o += r->sni_len;
  for (unsigned i = 0; i < h->alpn_count; i++) {
    *o++ = (uint8_t)h->alpn[i].len; /* a length byte in the hello: at most 255 */
    memcpy(o, h->b + h->alpn[i].off, h->alpn[i].len);
    o += h->alpn[i].len;
  }
  return r;
}

hello_rec_t *hello_rec_chlo(const uint8_t *sni, size_t sni_len, int has_sni) {
  if (!has_sni) sni_len = 0;
  hello_rec_t *r = malloc(sizeof(hello_rec_t) + sni_len);
  if (r == NULL) return NULL;
  r->quic_wire = 0;
  r->chlo = 1;
  r->transport = 'q';
  r->highest = 0;
  r->has_sni = (uint8_t)(has_sni != 0);
  r->sni_len = (uint8_t)sni_len;
  r->alpn_count = 0;
  memset(r->ja4, '-', JA4_LEN); /* held-meta.ts's "no JA4" */
  memcpy(r->data, sni, sni_len);
  return r;
}

static const char HEX[] = "0123456789abcdef";

/* alpnText: printable values as text, others (and the empty value) as "0x<hex>", at o (room for
 * 2 + 2 * 255 bytes); returns the end. ';', which joins the values in a CSV cell, counts as
 * unprintable (hello.ts alpnText says why). */
static char *alpn_text(char *o, const uint8_t *v, size_t n) {
  int printable = n > 0;
  for (size_t i = 0; i < n && printable; i++) printable = v[i] >= 0x20 && v[i] <= 0x7e && v[i] != ';';
  if (printable) {
    memcpy(o, v, n);
    return o + n;
  }
  *o++ = '0';
  *o++ = 'x';
  for (size_t i = 0; i < n; i++) {
    *o++ = HEX[v[i] >> 4];
    *o++ = HEX[v[i] & 0xf];
  }
  return o;
}

static napi_status alpn_string(napi_env env, const uint8_t *v, size_t n, napi_value *out) {
  char text[2 + 2 * 255];
  return napi_create_string_latin1(env, text, (size_t)(alpn_text(text, v, n) - text), out);
}

static char *put_hex(char *o, uint32_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--) *o++ = HEX[(v >> (4 * i)) & 0xf];
  return o;
}

napi_value hello_rec_text(napi_env env, const hello_rec_t *r, uint32_t version) {
  /* Marker, transport, version, wire, JA4, SNI flag and SNI, then each ALPN value with its separator. */
  char text[1 + 1 + 4 + 8 + JA4_LEN + 1 + 255 + TLS_HELLO_MAX_ALPN * (1 + 2 + 2 * 255)];
  char *o = text;
  *o++ = '\x01';
  *o++ = r->transport;
  if (r->chlo) {
    memset(o, '-', 4);
    o += 4;
  } else {
    o = put_hex(o, version, 4);
  }
  o = put_hex(o, r->quic_wire, 8);
  memcpy(o, r->ja4, JA4_LEN);
  o += JA4_LEN;
  *o++ = r->has_sni ? '1' : '0';
  memcpy(o, r->data, r->sni_len);
  o += r->sni_len;
  const uint8_t *p = r->data + r->sni_len;
  for (unsigned i = 0; i < r->alpn_count; i++) {
    *o++ = '\0';
    o = alpn_text(o, p + 1, p[0]);
    p += 1 + p[0];
  }
  napi_value v;
  if (napi_create_string_latin1(env, text, (size_t)(o - text), &v) != napi_ok) {
    napi_throw_error(env, "E_TLS_HELLO", "hello_rec: napi_create_string_latin1 failed");
    return NULL;
  }
  return v;
}

napi_value hello_rec_server_text(napi_env env, uint32_t version) {
  /* As packMeta('tls', version, 0, null, null, []) writes it: no wire version, no JA4, no SNI. */
  char text[1 + 1 + 4 + 8 + JA4_LEN + 1];
  char *o = text;
  *o++ = '\x01';
  *o++ = 't';
  o = put_hex(o, version, 4);
  o = put_hex(o, 0, 8);
  memset(o, '-', JA4_LEN);
  o += JA4_LEN;
  *o++ = '0';
  napi_value v;
  if (napi_create_string_latin1(env, text, (size_t)(o - text), &v) != napi_ok) {
    napi_throw_error(env, "E_TLS_HELLO", "hello_rec: napi_create_string_latin1 failed");
    return NULL;
  }
  return v;
}

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, "E_TLS_HELLO", "hello_rec: " #call " failed"); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

napi_value hello_rec_js(napi_env env, const hello_rec_t *r, uint32_t version, napi_value out) {
  napi_value v;
  if (r->has_sni) CHECK(napi_create_string_latin1(env, (const char *)r->data, r->sni_len, &v));
  else CHECK(napi_get_null(env, &v));
  CHECK(napi_set_element(env, out, 0, v));
  CHECK(napi_create_uint32(env, version, &v));
  CHECK(napi_set_element(env, out, 1, v));
  CHECK(napi_create_string_latin1(env, r->ja4, JA4_LEN, &v));
  CHECK(napi_set_element(env, out, 2, v));
  const uint8_t *p = r->data + r->sni_len;
  for (unsigned i = 0; i < r->alpn_count; i++) {
    CHECK(alpn_string(env, p + 1, p[0], &v));
    CHECK(napi_set_element(env, out, 3 + i, v));
    p += 1 + p[0];
  }
  CHECK(napi_create_int32(env, r->alpn_count, &v));
  return v;
}
