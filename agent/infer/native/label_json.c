/*
 * A batch's labels as JSON in C (Node-API addon "label_json"), byte for byte what
 * Labels.writeRow (labels.ts) writes, from the same pieces: labels.ts encodes them once (class
 * names, every rounded probability k / 10000 as JSON.stringify writes it) and this copies them.
 * Why C: the inference worker is the replay's busiest thread after the flow meter's, and
 * writing the labels in JavaScript, a few bytes at a time, cost it 1.3 µs per flow in a replay
 * (12% of its time); here a batch is one call.
 *
 * Whatever JavaScript writes differently (a probability outside [0, 1] or NaN as confidence or
 * in the top 3, more outputs than class names) makes the call answer -1, having written nothing
 * the caller keeps: labels.ts then writes the batch itself. No state: loaded by each worker.
 */
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Per model in `desc`: first piece, class names, and the "unknown" label, "]]}" and ',"top":[]}' pieces. */
enum { D_BASE = 0, D_NAMES, D_UNKNOWN, D_CLOSE, D_EMPTY_TOP, D_WIDTH };
/* The numbers' pieces are the table's first: piece k is k / 10000. */
enum { MAX_K = 10000, MAX_MODELS = 8 };

typedef struct {
  const uint8_t *bank;
  const int32_t *start, *end;
  size_t pieces;
} pieces_t;

typedef struct {
  const float *probs;
  size_t width;
  const int32_t *d;
  double threshold;
} model_t;

/* Piece i at o, or NULL when o is NULL or the piece would pass lim. */
static uint8_t *piece(const pieces_t *t, int32_t i, uint8_t *o, const uint8_t *lim) {
  size_t n = (size_t)(t->end[i] - t->start[i]);
  if (o == NULL || n > (size_t)(lim - o)) return NULL;
  memcpy(o, t->bank + t->start[i], n);
  return o + n;
}

/* Math.round(p * 1e4) as the piece to write, or -1 outside the table (JavaScript's case). */
static int32_t number_piece(double p) {
  double x = p * 1e4;
  double r = ceil(x); /* Math.round: the nearest integer, ties towards +Infinity */
  if (r - 0.5 > x) r -= 1.0;
  return r >= 0 && r <= MAX_K ? (int32_t)r : -1;
}

/* One row of one model at o, short of lim; NULL when it does not fit or JavaScript must write the batch. */
static uint8_t *write_row(const pieces_t *t, const model_t *m, size_t r, uint8_t *o, const uint8_t *lim, int *js) {
  const float *p = m->probs + r * m->width;
  int32_t i1 = -1, i2 = -1, i3 = -1;
  float p1 = -1, p2 = -1, p3 = -1;
  for (size_t k = 0; k < m->width; k++) { /* one pass, ties keep the first class (Labels.writeRow) */
    float v = p[k];
    if (v > p1) {
      i3 = i2; p3 = p2; i2 = i1; p2 = p1; i1 = (int32_t)k; p1 = v;
    } else if (v > p2) {
      i3 = i2; p3 = p2; i2 = (int32_t)k; p2 = v;
    } else if (v > p3) {
      i3 = (int32_t)k; p3 = v;
    }
  }
  const int32_t *d = m->d;
  int32_t conf = number_piece(p1 > 0 ? (double)p1 : 0.0);
  int32_t n1 = number_piece(p1), n2 = number_piece(p2), n3 = number_piece(p3);
  if (i1 >= d[D_NAMES] || i2 >= d[D_NAMES] || i3 >= d[D_NAMES] ||
      conf < 0 || (i1 >= 0 && n1 < 0) || (i2 >= 0 && n2 < 0) || (i3 >= 0 && n3 < 0)) {
    *js = 1;
    return NULL;
  }
  o = piece(t, (double)p1 >= m->threshold && i1 >= 0 ? d[D_BASE] + 3 * i1 : d[D_UNKNOWN], o, lim);
  o = piece(t, conf, o, lim);
  if (i1 < 0) return piece(t, d[D_EMPTY_TOP], o, lim);
  o = piece(t, n1, piece(t, d[D_BASE] + 3 * i1 + 1, o, lim), lim);
  if (i2 >= 0) o = piece(t, n2, piece(t, d[D_BASE] + 3 * i2 + 2, o, lim), lim);
  if (i3 >= 0) o = piece(t, n3, piece(t, d[D_BASE] + 3 * i3 + 2, o, lim), lim);
  return piece(t, d[D_CLOSE], o, lim);
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  bool is = false;
  napi_typedarray_type t;
  return napi_is_typedarray(env, v, &is) == napi_ok && is && napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) == napi_ok && t == want;
}

/* Whether every piece of the table lies in its bank of n_bank bytes. */
static int pieces_valid(const pieces_t *t, size_t n_bank) {
  for (size_t i = 0; i < t->pieces; i++) {
    if (t->start[i] < 0 || t->end[i] < t->start[i] || (size_t)t->end[i] > n_bank) return 0;
  }
  return 1;
}

/*
 * labelsJson(out: Uint8Array, ends: Uint32Array, rows, probs: Float32Array[], desc: Int32Array,
 *            thresholds: Float64Array, bank: Uint8Array, start: Int32Array, end: Int32Array): number
 * Writes every row's members (models joined by commas) into out, row r ending at ends[r]; returns
 * the bytes written, -1 when JavaScript must write this batch (see the header; also for a
 * descriptor naming pieces the table lacks), -2 when out is too small (nothing is written past
 * its end). Throws a TypeError for arguments of the wrong kind.
 */
static napi_value labels_json(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  uint8_t *out = NULL; uint32_t *ends = NULL; int32_t *desc = NULL; double *thr = NULL;
  pieces_t t = {0};
  size_t cap = 0, n_ends = 0, n_desc = 0, n_thr = 0, n_bank = 0, n_start = 0, n_end = 0;
  uint32_t rows = 0, n_models = 0;
  bool is_array = false;
  if (argc < 9 || !typed(env, argv[0], napi_uint8_array, (void **)&out, &cap) ||
      !typed(env, argv[1], napi_uint32_array, (void **)&ends, &n_ends) ||
      napi_get_value_uint32(env, argv[2], &rows) != napi_ok ||
      napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[3], &n_models) != napi_ok ||
      !typed(env, argv[4], napi_int32_array, (void **)&desc, &n_desc) ||
      !typed(env, argv[5], napi_float64_array, (void **)&thr, &n_thr) ||
      !typed(env, argv[6], napi_uint8_array, (void **)&t.bank, &n_bank) ||
      !typed(env, argv[7], napi_int32_array, (void **)&t.start, &n_start) ||
      !typed(env, argv[8], napi_int32_array, (void **)&t.end, &n_end) ||
      n_models > MAX_MODELS || n_desc < (size_t)n_models * D_WIDTH || n_thr < n_models || n_start != n_end || n_ends < rows) {
    napi_throw_type_error(env, "E_LABEL_JSON", "labelsJson(out, ends, rows, probs[], desc, thresholds, bank, start, end)");
    return NULL;
  }
  t.pieces = n_start;
  model_t m[MAX_MODELS];
  int ok = t.pieces > MAX_K && pieces_valid(&t, n_bank);
  for (uint32_t k = 0; k < n_models && ok; k++) {
    napi_value v;
    size_t len = 0;
    void *data = NULL;
    if (napi_get_element(env, argv[3], k, &v) != napi_ok || !typed(env, v, napi_float32_array, &data, &len)) {
      napi_throw_type_error(env, "E_LABEL_JSON", "labelsJson: probs must be Float32Arrays");
      return NULL;
    }
    const int32_t *d = desc + (size_t)k * D_WIDTH;
    /* Every piece the model may name: its three per class and the three after them. */
    ok = rows > 0 && len % rows == 0 && d[D_BASE] > MAX_K && d[D_NAMES] >= 0 &&
         (size_t)d[D_BASE] + 3 * (size_t)d[D_NAMES] <= t.pieces &&
         d[D_UNKNOWN] >= 0 && (size_t)d[D_UNKNOWN] < t.pieces && d[D_CLOSE] >= 0 && (size_t)d[D_CLOSE] < t.pieces &&
         d[D_EMPTY_TOP] >= 0 && (size_t)d[D_EMPTY_TOP] < t.pieces;
    m[k] = (model_t){ (const float *)data, rows > 0 ? len / rows : 0, d, thr[k] };
  }
  double written = -1;
  if (ok) {
    uint8_t *o = out;
    const uint8_t *lim = out + cap;
    int js = 0;
    for (uint32_t r = 0; r < rows && o != NULL; r++) {
      for (uint32_t k = 0; k < n_models && o != NULL; k++) {
        if (k > 0) o = o < lim ? (*o = ',', o + 1) : NULL;
        if (o != NULL) o = write_row(&t, &m[k], r, o, lim, &js);
      }
      if (o != NULL) ends[r] = (uint32_t)(o - out);
    }
    written = o != NULL ? (double)(o - out) : js ? -1 : -2;
  }
  if (napi_create_double(env, written, &result) != napi_ok) return NULL;
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "labelsJson", NAPI_AUTO_LENGTH, labels_json, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "labelsJson", fn) != napi_ok)
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
