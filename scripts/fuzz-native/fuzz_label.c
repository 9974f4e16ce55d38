/*
 * label_json.c's labelsJson, called through Node-API stubs with tables built as labels.ts builds
 * them (number pieces k / 10000, then per model and class the three pieces, then the model's
 * unknown / close / empty-top pieces), and fuzzed probabilities, batch shape and output capacity.
 * Input: b0 models (1-3), b1 classes per model (1-40), b2 rows (1-16), b3-4 out capacity (u16), b5 width extra,
 * then float32 probabilities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/infer/native/label_json.c"
#include "napi_stub.h"

typedef struct { uint32_t magic; size_t n; napi_value *v; } stub_array_t;
#define ARR_MAGIC 0xa77a1u
napi_status napi_is_array(napi_env e, napi_value v, bool *r) { (void)e; *r = v && ((stub_array_t *)v)->magic == ARR_MAGIC; return napi_ok; }
napi_status napi_get_array_length(napi_env e, napi_value v, uint32_t *r) { (void)e; *r = (uint32_t)((stub_array_t *)v)->n; return napi_ok; }
napi_status napi_get_element(napi_env e, napi_value v, uint32_t i, napi_value *r) { (void)e; *r = ((stub_array_t *)v)->v[i]; return napi_ok; }
static double last_double;
napi_status napi_create_double(napi_env e, double v, napi_value *r) { (void)e; last_double = v; *r = NULL; return napi_ok; }
napi_status napi_create_function(napi_env e, const char *n, size_t l, napi_callback c, void *d, napi_value *r) { (void)e; (void)n; (void)l; (void)c; (void)d; *r = NULL; return napi_ok; }
napi_status napi_set_named_property(napi_env e, napi_value o, const char *n, napi_value v) { (void)e; (void)o; (void)n; (void)v; return napi_ok; }
void napi_module_register(napi_module *m) { (void)m; }

static uint8_t bank[1 << 20];
static int32_t starts[20000], ends_[20000];
static size_t n_bank, n_pieces;

static int32_t add(const char *s) {
  size_t l = strlen(s);
  memcpy(bank + n_bank, s, l);
  starts[n_pieces] = (int32_t)n_bank;
  n_bank += l;
  ends_[n_pieces] = (int32_t)n_bank;
  return (int32_t)n_pieces++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 6) return 0;
  uint32_t models = 1 + data[0] % 3, classes = 1 + data[1] % 40, rows = 1 + data[2] % 16;
  size_t cap = data[3] | (size_t)data[4] << 8;
  uint32_t width = classes + data[5] % 3 - 1; /* a model may output one class more or fewer than it names */
  if (width == 0) width = 1;
  data += 6;
  size = (size - 6);
  n_bank = n_pieces = 0;
  char tmp[64];
  for (int k = 0; k <= 10000; k++) {
    if (k == 0) snprintf(tmp, sizeof tmp, "0");
    else if (k == 10000) snprintf(tmp, sizeof tmp, "1");
    else { snprintf(tmp, sizeof tmp, "0.%04d", k); size_t l = strlen(tmp); while (tmp[l - 1] == '0') tmp[--l] = 0; }
    add(tmp);
  }
  int32_t desc[3 * D_WIDTH];
  double thr[3];
  for (uint32_t m = 0; m < models; m++) {
    int32_t base = (int32_t)n_pieces;
    for (uint32_t c = 0; c < classes; c++) {
      snprintf(tmp, sizeof tmp, "\"m%u\":{\"label\":\"c%u\",\"confidence\":", m, c); add(tmp);
      snprintf(tmp, sizeof tmp, ",\"top\":[[\"c%u\",", c); add(tmp);
      snprintf(tmp, sizeof tmp, "],[\"c%u\",", c); add(tmp);
    }
    desc[m * D_WIDTH + D_BASE] = base;
    desc[m * D_WIDTH + D_NAMES] = (int32_t)classes;
    snprintf(tmp, sizeof tmp, "\"m%u\":{\"label\":\"unknown\",\"confidence\":", m);
    desc[m * D_WIDTH + D_UNKNOWN] = add(tmp);
    desc[m * D_WIDTH + D_CLOSE] = add("]]}");
    desc[m * D_WIDTH + D_EMPTY_TOP] = add(",\"top\":[]}");
    thr[m] = 0.5;
  }
  float *probs[3];
  stub_typed_t pt[3];
  napi_value pv[3];
  size_t per = (size_t)rows * width;
  for (uint32_t m = 0; m < models; m++) {
    probs[m] = calloc(per, sizeof(float));
    size_t avail = size / 4;
    size_t take = avail < per ? avail : per;
    memcpy(probs[m], data, take * 4);
    data += take * 4;
    size -= take * 4;
    pt[m] = (stub_typed_t){STUB_TYPED_MAGIC, napi_float32_array, per, probs[m]};
    pv[m] = (napi_value)&pt[m];
  }
  stub_array_t arr = {ARR_MAGIC, models, pv};
  uint8_t *out = malloc(cap ? cap : 1);
  uint32_t *endsv = malloc(rows * sizeof *endsv);
  stub_typed_t t_out = {STUB_TYPED_MAGIC, napi_uint8_array, cap, out}, t_ends = {STUB_TYPED_MAGIC, napi_uint32_array, rows, endsv},
               t_desc = {STUB_TYPED_MAGIC, napi_int32_array, models * D_WIDTH, desc}, t_thr = {STUB_TYPED_MAGIC, napi_float64_array, models, thr},
               t_bank = {STUB_TYPED_MAGIC, napi_uint8_array, n_bank, bank}, t_start = {STUB_TYPED_MAGIC, napi_int32_array, n_pieces, starts},
               t_end = {STUB_TYPED_MAGIC, napi_int32_array, n_pieces, ends_};
  napi_value argv[9] = {(napi_value)&t_out, (napi_value)&t_ends, (napi_value)(uintptr_t)rows, (napi_value)&arr, (napi_value)&t_desc,
                        (napi_value)&t_thr, (napi_value)&t_bank, (napi_value)&t_start, (napi_value)&t_end};
  stub_info_t info = {.argc = 9, .data = NULL};
  memcpy(info.argv, argv, sizeof argv);
  labels_json(NULL, (napi_callback_info)&info);
  if (last_double > (double)cap) __builtin_trap();
  free(out);
  free(endsv);
  for (uint32_t m = 0; m < models; m++) free(probs[m]);
  return 0;
}
