/*
 * The JavaScript arrays the flow table works in (agent/flows/store.ts's columns, the handshake
 * inspector's watch arrays), checked for type and length once and bound to the C structures that
 * point into them. On a mismatch a TypeError is pending and -1 (NULL) returned: a build of the JavaScript
 * and of this addon that disagree stops at startup, not with memory read out of bounds.
 */
#ifndef ETA_BIND_ARRAYS_H
#define ETA_BIND_ARRAYS_H

#include <node_api.h>
#include <stddef.h>

#include "table.h"

/* In a binding returning napi_value, with `env` in scope: a failed Node-API call throws and returns NULL. */
#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "E_FLOW_CORE", "flow core: " #call " failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

/* The data of typed array v (called `name` in messages) of type want with exactly length elements. */
void *bind_typed(napi_env env, napi_value v, const char *name, napi_typedarray_type want, size_t length);
/* cols: the columns object of a table of n slots. */
int bind_columns(napi_env env, napi_value cols, size_t n, columns_t *c);
/* w: the watch object of agent/meta/flow-plugin.ts, for n slots. */
int bind_watch(napi_env env, napi_value w, size_t n, hello_watch_t *hw);

#endif
