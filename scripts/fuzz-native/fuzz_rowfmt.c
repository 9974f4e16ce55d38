/*
 * row_format_csv_numbers on arbitrary doubles, into exactly n * ROW_FORMAT_MAX_FIELD bytes (csvNumbers'
 * check). The Node-API part of row_format.c is compiled in but never called (its symbols are stubbed).
 */
#include <stdlib.h>
#include <string.h>

#include "row_format.h"

ptrdiff_t row_format_csv_numbers(const double *values, size_t n, uint8_t *out);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t n = size / 8;
  if (n == 0) return 0;
  double *v = malloc(n * 8);
  memcpy(v, data, n * 8);
  uint8_t *out = malloc(n * ROW_FORMAT_MAX_FIELD);
  ptrdiff_t w = row_format_csv_numbers(v, n, out);
  if (w > (ptrdiff_t)(n * ROW_FORMAT_MAX_FIELD)) __builtin_trap();
  free(out);
  free(v);
  return 0;
}
