/*
 * The CSV cells sni, alpn, tls_version and ja4 of a flow's metadata string (held-meta.ts gives
 * the layout, hello_rec.c makes it in the flow core), written as HeldMeta.csvCells writes them.
 * Why in C: on the row writer's thread, reading that string character by character in
 * JavaScript cost ~1,200 instructions per flow, most of what the metadata cost that thread
 * (callgrind). Plain C, no Node-API: row_format.c wraps it.
 */
#ifndef ETA_META_CELLS_H
#define ETA_META_CELLS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes asked for in out beyond the string's length: 3 commas and a version name of up to 16 bytes. */
#define META_CELLS_ROOM 24
/* Longest version name the table takes (hello.ts VERSION_NAMES; "0x" and 4 hex otherwise). */
#define META_CELLS_NAME_MAX 15

/* Names the version code `code` (hello.ts versionName); JavaScript sets them once, so the two agree. */
int meta_cells_name(uint16_t code, const char *name, size_t len);

/*
 * Writes "sni,alpn,tls_version,ja4" for the n bytes of s into out, which has room for
 * n + META_CELLS_ROOM bytes. Returns the bytes written, or -1 when JavaScript must write
 * them (a cell to quote or a byte past ASCII, or s not of the layout): nothing else differs.
 */
ptrdiff_t meta_cells_csv(const uint8_t *s, size_t n, uint8_t *out);

#endif
