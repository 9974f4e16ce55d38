/*
 * What the metadata keeps of a ClientHello parsed in C: helloMeta's summary (SNI, ALPN values,
 * highest offered version, JA4), copied out of the packet, whose buffer the capture reuses.
 * hello_watch.c keeps one per flow whose hello it read in place, until the flow ends; the
 * tls_hello addon makes one per call. The watch hands it to JavaScript as hello_rec_text's one
 * string, the addon through hello_rec_js.
 */
#ifndef HELLO_REC_H
#define HELLO_REC_H

#include <node_api.h>
#include <stdint.h>

#include "ja4.h"
#include "tls_hello.h"

typedef struct {
  /* A QUIC client Initial's hello: the version on the wire; 0 for TLS over TCP. */
  uint32_t quic_wire;
  uint16_t highest;
  /* 1: a gQUIC CHLO's (hello_rec_chlo): an SNI alone, no version offered and no JA4. */
  uint8_t chlo;
  /* The JA4 protocol it was read for, which is held-meta.ts's transport: 't' TLS, 'q' QUIC, 'd' DTLS. */
  char transport;
  uint8_t has_sni;
  uint8_t sni_len;
  uint8_t alpn_count;
  char ja4[JA4_LEN];
  /* The SNI's bytes, then each ALPN value as a length byte and its bytes. */
  uint8_t data[];
} hello_rec_t;

/* The summary of h with the JA4 of proto ('t', 'q' or 'd'), in one malloc'd block (free() it); NULL when out of memory. */
hello_rec_t *hello_rec_new(const tls_hello_t *h, char proto);
/* A gQUIC CHLO's: its SNI (sni_len at most 255) or none; NULL when out of memory. */
hello_rec_t *hello_rec_chlo(const uint8_t *sni, size_t sni_len, int has_sni);

/*
 * r into out as helloMeta returns it: out[0] = sni (string | null), out[1] = version, out[2] = JA4,
 * out[3 .. 3 + n) = the ALPN values as hello.ts shows them; returns n, or NULL with an exception
 * pending when Node-API fails. version: the highest offered, or the version a ServerHello selected.
 */
napi_value hello_rec_js(napi_env env, const hello_rec_t *r, uint32_t version, napi_value out);

/*
 * r as one latin1 string, the layout held-meta.ts reads (and packMeta writes for JavaScript's
 * findings): '\x01', the transport ('q' QUIC, 't' TLS, 'd' DTLS), the version (4 hex digits, '----' for a
 * CHLO), the QUIC wire
 * version (8 hex digits), the JA4 (JA4_LEN), '1' and the SNI or '0', then "\0" before each ALPN
 * value as hello.ts shows it. Why one string: creating a string per field and setting
 * each into an array cost the flow meter's thread more per flow than reading the hello. NULL with
 * an exception pending when Node-API fails.
 */
napi_value hello_rec_text(napi_env env, const hello_rec_t *r, uint32_t version);
/* The same string for a flow of which only a ServerHello selecting `version` was read (HW_HELD_SERVER). */
napi_value hello_rec_server_text(napi_env env, uint32_t version);

#endif
