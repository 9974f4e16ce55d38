/*
 * Node-API binding of the flow table (table.c) and decoder (decode.c): the
 * per-packet path of the flow meter. JavaScript owns the flow columns (typed
 * arrays, agent/flows/store.ts), the counters and the packet view; their
 * types and sizes are checked once (bind_arrays.c), this file keeps them
 * reachable from the object it returns and calls back into JavaScript when a
 * flow ends. Packets the handshake inspector asked to see are returned by
 * frame(), not called back, through the packet view (packet_view.c).
 */
#include <node_api.h>
#include <stdlib.h>

#include "bind_arrays.h"
#include "packet_view.h"
#include "table.h"

typedef struct {
  table_t t;
  napi_env env;
  napi_ref on_end; /* weak: the returned object holds the function (see create) */
  napi_ref buffer; /* strong: the bytes frame() and pcap() read stay alive until the next setBuffer */
  int64_t external; /* bytes malloc'ed here, reported to V8 so that its GC feels them */
  const uint8_t *buf;
  size_t buf_len;
  double *view;
} core_t;

/* table.c's on_end: calls onEnd(slot, reason); nonzero when it threw (the exception stays pending). */
static int on_end(void *ctx, int32_t slot, int reason) {
  core_t *k = ctx;
  napi_env env = k->env;
  napi_handle_scope scope; /* expiry may end thousands of flows in one call: release each call's handles */
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 1;
  napi_value fn, recv, args[2];
  int failed = napi_get_reference_value(env, k->on_end, &fn) != napi_ok || napi_get_undefined(env, &recv) != napi_ok ||
               napi_create_int32(env, slot, &args[0]) != napi_ok || napi_create_int32(env, reason, &args[1]) != napi_ok ||
               napi_call_function(env, recv, fn, 2, args, NULL) != napi_ok;
  napi_close_handle_scope(env, scope);
  return failed;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  core_t *k = data;
  table_free(&k->t);
  int64_t ignored;
  napi_adjust_external_memory(env, -k->external, &ignored);
  napi_delete_reference(env, k->on_end);
  if (k->buffer) napi_delete_reference(env, k->buffer);
  free(k);
}

/* After a failed callback: NULL with its exception pending (one is thrown if the failure left none). */
static napi_value failed(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "E_FLOW_CORE", "flow core: a flow-end callback could not be called");
  return NULL;
}

static core_t *self(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data;
  if (napi_get_cb_info(env, info, argc, argv, NULL, &data) != napi_ok) return NULL;
  core_t *k = data;
  k->env = env;
  k->t.failed = 0;
  return k;
}

/* setBuffer(buf): the buffer the next frames' offsets point into. */
static napi_value set_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  core_t *k = self(env, info, &argc, argv);
  void *data;
  size_t len;
  if (!k || argc < 1 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: setBuffer needs a Buffer");
    return NULL;
  }
  if (k->buffer) napi_delete_reference(env, k->buffer);
  CHECK(napi_create_reference(env, argv[0], 1, &k->buffer));
  k->buf = data;
  k->buf_len = len;
  return NULL;
}

/* frame(linkType, offset, capLength, ts): decode and add one frame; returns its skip code (0: added) or a
 * PLUGIN_PACKET result, the packet and its slot then in the view. */
static napi_value frame(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out;
  core_t *k = self(env, info, &argc, argv);
  uint32_t link, off, cap;
  double ts;
  if (!k || argc < 4 || napi_get_value_uint32(env, argv[0], &link) != napi_ok || napi_get_value_uint32(env, argv[1], &off) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &cap) != napi_ok || napi_get_value_double(env, argv[3], &ts) != napi_ok) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: frame(linkType, offset, capLength, ts) takes numbers");
    return NULL;
  }
  if ((size_t)off + cap > k->buf_len) {
    napi_throw_range_error(env, "E_FLOW_CORE", "flow core: frame lies outside the buffer given to setBuffer");
    return NULL;
  }
  int r = table_frame(&k->t, link, k->buf, off, cap, ts);
  if (k->t.failed) return failed(env);
  if (r >= PLUGIN_PACKET) {
    packet_view_copy(&k->t.pkt, k->view);
    k->view[PV_SLOT] = k->t.plugin_slot;
  }
  CHECK(napi_create_uint32(env, (uint32_t)r, &out));
  return out;
}

/*
 * pcap(linkType, start, end, littleEndian, tsDivisor, maxCapLength): classic pcap records in the
 * buffer from `start`, each decoded and added, until `end`, a record not wholly in the buffer, a
 * record longer than maxCapLength, or a packet for the plugin (returned as by frame(), the packet
 * in the view). Where it stopped and the frames and bytes read go to the counters (ST_IO_*); the
 * caller's own record loop handles whatever stopped it (a partial or corrupt record). Why here:
 * a call per frame cost 65 ns of N-API, and walking the records in JavaScript as much again.
 */
static napi_value pcap(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], out;
  core_t *k = self(env, info, &argc, argv);
  uint32_t link, start, end, div, max_cap;
  bool le;
  if (!k || argc < 6 || napi_get_value_uint32(env, argv[0], &link) != napi_ok || napi_get_value_uint32(env, argv[1], &start) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &end) != napi_ok || napi_get_value_bool(env, argv[3], &le) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &div) != napi_ok || napi_get_value_uint32(env, argv[5], &max_cap) != napi_ok || div == 0) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: pcap(linkType, start, end, littleEndian, tsDivisor, maxCapLength)");
    return NULL;
  }
  if (end > k->buf_len || start > end) {
    napi_throw_range_error(env, "E_FLOW_CORE", "flow core: records lie outside the buffer given to setBuffer");
    return NULL;
  }
  const uint8_t *b = k->buf;
  size_t p = start;
  double frames = 0, bytes = 0;
  int r = SKIP_OK;
  while (end - p >= 16) {
    const uint8_t *h = b + p;
    uint32_t sec = le ? h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24 : (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
    uint32_t frac = le ? h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24 : (uint32_t)h[4] << 24 | h[5] << 16 | h[6] << 8 | h[7];
    uint32_t cap = le ? h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24 : (uint32_t)h[8] << 24 | h[9] << 16 | h[10] << 8 | h[11];
    uint32_t wire = le ? h[12] | h[13] << 8 | h[14] << 16 | (uint32_t)h[15] << 24 : (uint32_t)h[12] << 24 | h[13] << 16 | h[14] << 8 | h[15];
    if (cap > max_cap || end - p - 16 < cap) break;
    r = table_frame(&k->t, link, b, p + 16, cap, (double)sec * 1e6 + (double)frac / div);
    frames++;
    bytes += wire < cap ? cap : wire; /* on the wire, as pcap.ts and live capture count */
    p += 16 + (size_t)cap;
    if (k->t.failed || r >= PLUGIN_PACKET) break;
  }
  k->t.stats[ST_IO_POS] = (double)p;
  k->t.stats[ST_IO_FRAMES] = frames;
  k->t.stats[ST_IO_BYTES] = bytes;
  if (k->t.failed) return failed(env);
  if (r >= PLUGIN_PACKET) {
    packet_view_copy(&k->t.pkt, k->view);
    k->view[PV_SLOT] = k->t.plugin_slot;
  } else {
    r = SKIP_OK;
  }
  CHECK(napi_create_uint32(env, (uint32_t)r, &out));
  return out;
}

/* advance(ts): move the clock and end what expired. */
static napi_value advance(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  core_t *k = self(env, info, &argc, argv);
  double ts;
  if (!k || argc < 1 || napi_get_value_double(env, argv[0], &ts) != napi_ok) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: advance(ts) takes a number");
    return NULL;
  }
  table_advance(&k->t, ts, 0);
  return k->t.failed ? failed(env) : NULL;
}

/* expireAll(reason, limit): end flows, least recently used first; returns how many ended. */
static napi_value expire_all(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  core_t *k = self(env, info, &argc, argv);
  uint32_t reason;
  double limit;
  if (!k || argc < 2 || napi_get_value_uint32(env, argv[0], &reason) != napi_ok || reason >= END_COUNT ||
      napi_get_value_double(env, argv[1], &limit) != napi_ok) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: expireAll(reason, limit) takes a reason index and a number");
    return NULL;
  }
  int32_t n = table_expire_all(&k->t, (int)reason, limit);
  if (k->t.failed) return failed(env);
  CHECK(napi_create_int32(env, n, &out));
  return out;
}

/* The JavaScript object of the table k (create's result), or NULL with an exception pending. */
static napi_value expose(napi_env env, core_t *k, napi_value *argv, size_t cap) {
  napi_value obj, keep;
  /*
   * The typed arrays and callbacks must live as long as the table that points into them. They
   * are held by the returned object, not by strong references from here: the callbacks close
   * over the JavaScript that holds this object, and a strong reference would make that a cycle
   * through a GC root, never collected (a table leaked per meter).
   */
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_array_with_length(env, 6, &keep));
  for (uint32_t i = 0; i < 6; i++) CHECK(napi_set_element(env, keep, i, argv[i]));
  CHECK(napi_set_named_property(env, obj, "keep", keep));
  CHECK(napi_create_reference(env, argv[5], 0, &k->on_end));
  k->external = (int64_t)(k->t.mask + 1) * 4 + (int64_t)cap * (k->t.watch.slot ? 4 + (int64_t)sizeof(hw_slot_t) + 1 : 4) + 65536 * 56;
  int64_t ignored;
  CHECK(napi_adjust_external_memory(env, k->external, &ignored));
  /* helloOf and takeSplit read the watch only (hello_watch.c, tls_split.c): their data is the watch, the others' the core. */
  static const struct { const char *name; napi_callback cb; int watch; } methods[] = {
      {"setBuffer", set_buffer, 0}, {"frame", frame, 0}, {"advance", advance, 0}, {"pcap", pcap, 0}, {"expireAll", expire_all, 0},
      {"helloOf", hello_watch_hello_of, 1}, {"takeSplit", hello_watch_take_split, 1}};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    napi_value fn;
    void *data = methods[i].watch ? (void *)&k->t.watch : (void *)k;
    CHECK(napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH, methods[i].cb, data, &fn));
    CHECK(napi_set_named_property(env, obj, methods[i].name, fn));
  }
  CHECK(napi_wrap(env, obj, k, finalize, NULL, NULL));
  return obj;
}

/*
 * create(cols, stats, view, watch|null, [capacity, idle, active, grace, gap, gtp], onEnd)
 * -> { setBuffer, frame, pcap, advance, expireAll, helloOf, takeSplit, keep }. watch is the handshake
 * inspector's { state, isn, synSeen, serverVersion, held, enabled, maxPackets, maxBuffer, quic }
 * (hello_watch.h); with it, frame() and pcap() report the packets hello_watch() hands on
 * (PLUGIN_PACKET). Times in seconds; the table's clock runs in µs.
 */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, "E_FLOW_CORE", "flow core: create takes 6 arguments");
    return NULL;
  }
  double set[6];
  for (uint32_t i = 0; i < 6; i++) {
    napi_value v;
    if (napi_get_element(env, argv[4], i, &v) != napi_ok || napi_get_value_double(env, v, &set[i]) != napi_ok) {
      napi_throw_type_error(env, "E_FLOW_CORE", "flow core: settings must be 6 numbers");
      return NULL;
    }
  }
  if (!(set[0] >= 1 && set[0] <= 1e8)) {
    napi_throw_range_error(env, "E_FLOW_CORE", "flow core: capacity must be between 1 and 100,000,000");
    return NULL;
  }
  size_t cap = (size_t)set[0];
  napi_valuetype wt;
  CHECK(napi_typeof(env, argv[3], &wt));
  core_t *k = calloc(1, sizeof(core_t));
  if (!k) {
    napi_throw_error(env, "E_FLOW_CORE", "flow core: out of memory");
    return NULL;
  }
  if (bind_columns(env, argv[0], cap, &k->t.c) != 0 || !(k->t.stats = bind_typed(env, argv[1], "stats", napi_float64_array, ST_COUNT)) ||
      !(k->view = bind_typed(env, argv[2], "view", napi_float64_array, PV_COUNT)) ||
      (wt != napi_null && bind_watch(env, argv[3], cap, &k->t.watch) != 0)) {
    free(k);
    return NULL;
  }
  if (table_init(&k->t, (int32_t)cap, set[1], set[2], set[3], set[4], set[5] != 0) != 0) {
    free(k);
    napi_throw_error(env, "E_FLOW_CORE", "flow core: out of memory for the flow index, or OpenSSL could not make the AES contexts of QUIC");
    return NULL;
  }
  k->t.on_end = on_end;
  k->t.ctx = k;
  napi_value obj = expose(env, k, argv, cap);
  if (obj == NULL) {
    /* Not wrapped: nothing else will free the table (its records, QUIC scratch) or the reference. */
    if (k->on_end != NULL) napi_delete_reference(env, k->on_end);
    table_free(&k->t);
    free(k);
  }
  return obj;
}

NAPI_MODULE_INIT() {
  napi_value fn, lay;
  if (napi_create_function(env, "create", NAPI_AUTO_LENGTH, create, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "create", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "decode", NAPI_AUTO_LENGTH, packet_view_decode, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "decode", fn) != napi_ok) return NULL;
  if (!(lay = packet_view_layout(env)) || napi_set_named_property(env, exports, "layout", lay) != napi_ok) return NULL;
  return exports;
}
