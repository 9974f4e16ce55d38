/*
 * meta_cells_csv (the CSV cells of a packed metadata string) with hello.ts's version names set,
 * into an output block of exactly n + META_CELLS_ROOM bytes (what row_format.c's csvMeta checks).
 * Input: the string's bytes (as napi_get_value_string_utf8 would hand them over).
 */
#include <stdlib.h>
#include <string.h>

#include "../../agent/meta/native/meta_cells.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static meta_names_t names;
  if (names.n == 0) {
    static const struct { uint16_t c; const char *n; } v[] = {
      {0x0300, "SSLv3"}, {0x0301, "TLSv1"}, {0x0302, "TLSv1.1"}, {0x0303, "TLSv1.2"}, {0x0304, "TLSv1.3"},
      {0xfeff, "DTLSv1.0"}, {0xfefd, "DTLSv1.2"}, {0xfefc, "DTLSv1.3"}, {0x0002, "SSLv2"}, {0x7f1c, "TLSv1.3-draft28"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) meta_cells_name(&names, v[i].c, v[i].n, strlen(v[i].n));
  }
  if (size + 4 >= 16384) return 0;
  uint8_t *s = malloc(size ? size : 1);
  memcpy(s, data, size);
  uint8_t *out = malloc(size + META_CELLS_ROOM);
  ptrdiff_t w = meta_cells_csv(&names, s, size, out);
  if (w > (ptrdiff_t)(size + META_CELLS_ROOM)) __builtin_trap();
  free(out);
  free(s);
  return 0;
}
