/*
 * A QUIC flow's first datagram read whole in C (quic_initial.c), used by the flow core
 * (hello_watch.c) and, behind quicHelloInPlace, by the tls_hello addon (quic_initial_napi.c);
 * and the result convention that addon shares with tls_hello.c's helloMeta.
 */
#ifndef ETA_QUIC_INITIAL_H
#define ETA_QUIC_INITIAL_H

#include <node_api.h>
#include <stdint.h>

#include "quic_open.h"
#include "tls_hello.h"

/* A version whose Initials carry IETF frames and a TLS hello (quic-keys.ts), and its long-header
 * types of Initial and Retry packets. */
typedef struct {
  uint32_t wire;
  int initial_type;
  int retry_type;
} qi_version_t;

/* Scratch for reading datagrams: the AES contexts and two 64 KiB buffers. */
typedef struct qi_state qi_state_t;

/* NULL when out of memory or when OpenSSL cannot make the contexts. */
qi_state_t *qi_state_new(void);
void qi_state_free(qi_state_t *s);

/*
 * The datagram p[0, n), a client Initial of version v, with v's salt and HKDF label infos
 * (info: salt, key, iv, hp): 1 with *hello parsed (its bytes in s, valid until the next call)
 * when its CRYPTO frames hold the whole ClientHello and JavaScript's QuicReader would read it
 * without a report; else 0, and the reader must read the datagram.
 */
int qi_read_datagram(qi_state_t *s, const uint8_t *p, size_t n, const qi_version_t *v, const qc_bytes_t info[4],
                     double max_buffer, tls_hello_t *hello);

uint32_t qi_be32(const uint8_t *b);

/* n as a JavaScript number, or NULL with an exception pending. */
napi_value th_int(napi_env env, int32_t n);

/* helloMeta's result for the parsed hello h with the JA4 of `proto`: the number n of ALPN values,
 * with out[0] = sni, out[1] = highest offered version, out[2] = JA4, out[3 .. 3 + n) = ALPN. */
napi_value th_summary(napi_env env, const tls_hello_t *h, char proto, napi_value out);

/* Adds quicHelloInPlace to exports: 1, or 0 with an exception pending. */
int quic_initial_export(napi_env env, napi_value exports);

#endif
