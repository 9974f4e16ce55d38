/*
 * The tls_hello addon's QUIC part (quic_initial.c), and the result convention it shares with
 * tls_hello.c's helloMeta.
 */
#ifndef ETA_QUIC_INITIAL_H
#define ETA_QUIC_INITIAL_H

#include <node_api.h>
#include <stdint.h>

#include "tls_hello.h"

/* n as a JavaScript number, or NULL with an exception pending. */
napi_value th_int(napi_env env, int32_t n);

/* helloMeta's result for the parsed hello h with the JA4 of `proto`: the number n of ALPN values,
 * with out[0] = sni, out[1] = highest offered version, out[2] = JA4, out[3 .. 3 + n) = ALPN. */
napi_value th_summary(napi_env env, const tls_hello_t *h, char proto, napi_value out);

/* Adds quicHelloInPlace to exports: 1, or 0 with an exception pending. */
int quic_initial_export(napi_env env, napi_value exports);

#endif
