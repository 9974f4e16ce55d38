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

/* Bytes asked for in out beyond the string's length (the cells take at most n + 3: the 51-byte
 * header holds the JA4 and makes room for the commas and a version name), with a margin. */
#define META_CELLS_ROOM 24
/* Longest version name a table takes (hello.ts VERSION_NAMES; "0x" and 4 hex otherwise). */
#define META_CELLS_NAME_MAX 15
#define META_CELLS_NAMES 16

/* The version names, as hello.ts versionName gives them: JavaScript fills one per thread that
 * loads the addon (Node-API instance data), so no table is shared between threads. */
typedef struct {
  int n;
  struct {
    uint16_t code;
    uint8_t len;
    char name[META_CELLS_NAME_MAX];
  } e[META_CELLS_NAMES];
} meta_names_t;

/* Names `code` in t: 0, or -1 for a name of no or too many bytes, a byte past ASCII, a full
 * table, or a code already named otherwise (the same name again is accepted). */
int meta_cells_name(meta_names_t *t, uint16_t code, const char *name, size_t len);

/*
 * Writes "sni,alpn,tls_version,ja4" for the n bytes of s into out, which has room for
 * n + META_CELLS_ROOM bytes. Returns the bytes written, or -1 when JavaScript must write
 * them (a byte past ASCII anywhere, a cell to quote, or s not of the layout); out's bytes may
 * have been written then, and the caller does not advance past them.
 */
ptrdiff_t meta_cells_csv(const meta_names_t *t, const uint8_t *s, size_t n, uint8_t *out);

#endif
