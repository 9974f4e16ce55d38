/*
 * The feature numbers of a CSV row in C (Node-API addon "row_format"),
 * byte for byte what AsciiBuffer.num() writes. Why C: `extract` writes ~250
 * numbers per flow, and formatting them digit by digit in JavaScript cost the
 * writer thread as much CPU as the flow meter's whole thread, on a 2-core box.
 * Here a row is one call.
 *
 * num()'s rules, reproduced exactly:
 *   0 and -0               "0"
 *   integer, |v| < 2^53    exact decimal, '-' for negatives
 *   integer, |v| >= 2^53   String(v): not done here, the row falls back (-1)
 *   NaN, +-Infinity        nothing (an empty cell)
 *   otherwise              s = Math.round(v * 1e6) in doubles; |s| >= 2^53 falls
 *                          back; else '-' if s < 0 (a -0 from a tiny negative v
 *                          prints "0"), s / 1e6, and s % 1e6 as up to 6
 *                          decimals with trailing zeros dropped.
 * No state: the addon is loaded by a worker thread, and may be by several.
 */
#include <node_api.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "row_format.h"
#include "../../meta/native/meta_cells.h"

#define TWO53 9007199254740992.0

/* "00".."99": two digits per division. */
static const char DIGITS2[201] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static unsigned digit_count(uint64_t u) {
  unsigned d = 1;
  while (u >= 10000) {
    u /= 10000;
    d += 4;
  }
  if (u >= 1000) return d + 3;
  if (u >= 100) return d + 2;
  if (u >= 10) return d + 1;
  return d;
}

/* The last `d` digits of u (leading zeros included), ending at p + d. */
static uint8_t *put_digits(uint8_t *p, uint64_t u, unsigned d) {
  uint8_t *end = p + d;
  uint8_t *q = end;
  while (d >= 2) {
    unsigned r = (unsigned)(u % 100);
    u /= 100;
    q -= 2;
    q[0] = (uint8_t)DIGITS2[2 * r];
    q[1] = (uint8_t)DIGITS2[2 * r + 1];
    d -= 2;
  }
  if (d) *--q = (uint8_t)('0' + u % 10);
  return end;
}

static uint8_t *put_uint(uint8_t *p, uint64_t u) {
  if (u < 10) {
    *p = (uint8_t)('0' + u);
    return p + 1;
  }
  return put_digits(p, u, digit_count(u));
}

/* Math.round: the nearest integer, ties toward +Infinity. x - floor(x) is exact for every double. */
static double js_round(double x) {
  double k = floor(x);
  if (x - k >= 0.5) k += 1.0;
  return k;
}

ptrdiff_t row_format_csv_numbers(const double *values, size_t n, uint8_t *out) {
  uint8_t *p = out;
  for (size_t i = 0; i < n; i++) {
    double v = values[i];
    *p++ = ',';
    if (v == 0) {
      *p++ = '0';
      continue;
    }
    if (!isfinite(v)) continue;
    if (floor(v) == v) {
      double a = fabs(v);
      if (a >= TWO53) return -1;
      if (v < 0) *p++ = '-';
      p = put_uint(p, (uint64_t)a);
      continue;
    }
    /* One IEEE multiplication, as `v * scale` in JavaScript (no fused operations here). */
    double s = js_round(v * 1e6);
    int neg = s < 0;
    if (neg) s = -s;
    if (s >= TWO53) return -1;
    /* num() divides in doubles; for s < 2^53 that floor is the exact quotient (the fraction
       is at least 1e-6 from the next integer, more than half an ulp of a quotient < 2^34). */
    uint64_t u = (uint64_t)s;
    uint64_t ip = u / 1000000, frac = u % 1000000;
    if (neg) *p++ = '-';
    p = put_uint(p, ip);
    if (frac == 0) continue;
    unsigned d = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      d--;
    }
    *p++ = '.';
    p = put_digits(p, frac, d);
  }
  return p - out;
}

/* Whether pos is an integer index within out (cap bytes), or its end; if not, a RangeError is pending. */
static int pos_within(napi_env env, double pos, size_t cap, const char *message) {
  if (pos >= 0 && pos <= (double)cap && floor(pos) == pos) return 1;
  napi_throw_range_error(env, "E_ROW_FORMAT", message);
  return 0;
}

/*
 * csvNumbers(values: Float64Array, out: Uint8Array, pos: number): number
 * Writes ",v0,v1,..." at out[pos] and returns the position after it, or -1 when a value
 * needs JavaScript's String(v) or out has less than values.length * 20 bytes after pos
 * (nothing past out's end is ever written). Throws a TypeError for arguments of the wrong
 * type and a RangeError for a pos that is not an integer within out.
 */
static napi_value csv_numbers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  bool typed0 = false, typed1 = false;
  napi_typedarray_type t0, t1;
  size_t n = 0, cap = 0;
  void *vals = NULL, *outp = NULL;
  if (argc < 3 || napi_is_typedarray(env, argv[0], &typed0) != napi_ok || !typed0 ||
      napi_is_typedarray(env, argv[1], &typed1) != napi_ok || !typed1 ||
      napi_get_typedarray_info(env, argv[0], &t0, &n, &vals, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &t1, &cap, &outp, NULL, NULL) != napi_ok ||
      t0 != napi_float64_array || t1 != napi_uint8_array) {
    napi_throw_type_error(env, "E_ROW_FORMAT", "csvNumbers(values: Float64Array, out: Uint8Array, pos: number)");
    return NULL;
  }
  double posd;
  if (napi_get_value_double(env, argv[2], &posd) != napi_ok) {
    napi_throw_type_error(env, "E_ROW_FORMAT", "csvNumbers: pos must be a number");
    return NULL;
  }
  if (!pos_within(env, posd, cap, "csvNumbers: pos must be an integer within out")) return NULL;
  size_t pos = (size_t)posd;
  double end = -1;
  if (n == 0) {
    end = posd;
  } else if (vals != NULL && outp != NULL && n <= (cap - pos) / ROW_FORMAT_MAX_FIELD) {
    uint8_t *o = (uint8_t *)outp + pos;
    uintptr_t vb = (uintptr_t)vals, ob = (uintptr_t)o;
    /* The same memory for input and output would read numbers already overwritten: refuse. */
    int overlap = vb < ob + n * ROW_FORMAT_MAX_FIELD && ob < vb + n * sizeof(double);
    if (!overlap) {
      ptrdiff_t w = row_format_csv_numbers((const double *)vals, n, o);
      if (w >= 0) end = (double)(pos + (size_t)w);
    }
  }
  if (napi_create_double(env, end, &result) != napi_ok) return NULL;
  return result;
}

/* Room for a metadata string: hello_rec.c's longest is under 8 KiB (16 ALPN values of 255 bytes as hex). */
enum { META_SCRATCH = 16384 };

/*
 * csvMeta(packed: string, out: Uint8Array, pos: number): number
 * Writes the metadata string's CSV cells (meta_cells.h) at out[pos] and returns the position
 * after them, or -1 when JavaScript must (HeldMeta.csvCells), out has less than the string's
 * length + META_CELLS_ROOM bytes after pos, or the string is longer than the scratch.
 * The string is read as UTF-8: a character past ASCII becomes bytes past ASCII, which go back.
 */
static napi_value csv_meta(napi_env env, napi_callback_info info) {
  static _Thread_local uint8_t scratch[META_SCRATCH];
  size_t argc = 3;
  napi_value argv[3];
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  bool typed = false;
  napi_typedarray_type t;
  size_t cap = 0, n = 0;
  void *outp = NULL;
  double posd;
  if (argc < 3 || napi_is_typedarray(env, argv[1], &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, argv[1], &t, &cap, &outp, NULL, NULL) != napi_ok || t != napi_uint8_array ||
      napi_get_value_double(env, argv[2], &posd) != napi_ok ||
      napi_get_value_string_utf8(env, argv[0], (char *)scratch, sizeof scratch, &n) != napi_ok) {
    napi_throw_type_error(env, "E_ROW_FORMAT", "csvMeta(packed: string, out: Uint8Array, pos: number)");
    return NULL;
  }
  if (!pos_within(env, posd, cap, "csvMeta: pos must be an integer within out")) return NULL;
  size_t pos = (size_t)posd;
  double end = -1;
  /* The margin: napi_get_value_string_utf8 writes no half character, so a longer string may come
   * back up to 3 bytes short of the scratch; any that may have been cut is declined (found by review). */
  meta_names_t *names = NULL;
  if (outp != NULL && n + 4 < sizeof scratch && n + META_CELLS_ROOM <= cap - pos &&
      napi_get_instance_data(env, (void **)&names) == napi_ok && names != NULL) {
    ptrdiff_t w = meta_cells_csv(names, scratch, n, (uint8_t *)outp + pos);
    if (w >= 0) end = (double)(pos + (size_t)w);
  }
  if (napi_create_double(env, end, &result) != napi_ok) return NULL;
  return result;
}

/* versionName(code: number, name: string): hello.ts's names, set once when the addon loads (format.ts). */
static napi_value version_name(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t code;
  /* Room for one more character than a name may have, so that a longer name shows (a cut one would not). */
  char name[META_CELLS_NAME_MAX + 5];
  size_t len = 0;
  meta_names_t *names = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2 || napi_get_value_uint32(env, argv[0], &code) != napi_ok || code > 0xffff ||
      napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok ||
      napi_get_instance_data(env, (void **)&names) != napi_ok || names == NULL ||
      meta_cells_name(names, (uint16_t)code, name, len) != 0) {
    napi_throw_type_error(env, "E_ROW_FORMAT", "versionName(code: 16-bit number, name: 1 to 15 ASCII characters, the same each time)");
    return NULL;
  }
  return NULL;
}

static void free_names(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value Init(napi_env env, napi_value exports) {
  /* The version names, one table per thread that loads the addon (each sets them): none is shared. */
  meta_names_t *names = calloc(1, sizeof *names);
  if (names == NULL || napi_set_instance_data(env, names, free_names, NULL) != napi_ok) {
    free(names);
    napi_throw_error(env, "E_ROW_FORMAT", "row_format: out of memory");
    return NULL;
  }
  static const struct { const char *name; napi_callback cb; } fns[] = {
      {"csvNumbers", csv_numbers}, {"csvMeta", csv_meta}, {"versionName", version_name}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok)
      return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
