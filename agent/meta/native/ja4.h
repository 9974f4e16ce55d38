/* JA4 of a parsed ClientHello: agent/meta/ja4.ts's ja4() in C (see its comment for the definition). */
#ifndef JA4_H
#define JA4_H

#include "tls_hello.h"

/* "t13d1516h2_8daaf6152771_e5627efa2ab1": always 36 characters. */
#define JA4_LEN 36

/* Writes JA4_LEN characters (no terminator) to out; proto is 't', 'q' or 'd'. 0 when out of memory. */
int ja4_write(char proto, const tls_hello_t *h, char out[JA4_LEN]);

#endif
