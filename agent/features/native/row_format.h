/*
 * The numbers of a CSV row, formatted as AsciiBuffer.num() formats them
 * (agent/lib/ascii-buffer.ts). Plain C, no Node-API: row_format.c wraps it.
 */
#ifndef ROW_FORMAT_H
#define ROW_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Room asked for per value: at most 19 bytes are written (',' '-' 10 integer digits '.' 6
 * decimals, as millionths stay below 2^53; an integer: ',' '-' 16 digits), one spare.
 */
#define ROW_FORMAT_MAX_FIELD 20

/*
 * Writes ",v0,v1,..." for the n values into out, which must have room for
 * n * ROW_FORMAT_MAX_FIELD bytes (the caller checks). Returns the bytes written,
 * or -1 when a value is one num() writes with String(v) (|integer| >= 2^53, or a
 * non-integer that rounds to 2^53 millionths or more): the caller then formats
 * the whole row in JavaScript.
 */
ptrdiff_t row_format_csv_numbers(const double *values, size_t n, uint8_t *out);

#endif
