/* The rest of the Node-API calls row_format.c's binding names (never called by fuzz_rowfmt). */
#include <node_api.h>
#include <stdlib.h>
napi_status napi_get_value_double(napi_env e, napi_value v, double *r) { (void)e; (void)v; *r = 0; return napi_ok; }
napi_status napi_create_double(napi_env e, double v, napi_value *r) { (void)e; (void)v; *r = NULL; return napi_ok; }
napi_status napi_get_value_string_utf8(napi_env e, napi_value v, char *b, size_t n, size_t *r) { (void)e; (void)v; (void)b; (void)n; *r = 0; return napi_ok; }
napi_status napi_get_instance_data(napi_env e, void **d) { (void)e; *d = NULL; return napi_ok; }
napi_status napi_set_instance_data(napi_env e, void *d, napi_finalize f, void *h) { (void)e; (void)d; (void)f; (void)h; return napi_ok; }
napi_status napi_create_function(napi_env e, const char *n, size_t l, napi_callback c, void *d, napi_value *r) { (void)e; (void)n; (void)l; (void)c; (void)d; *r = NULL; return napi_ok; }
napi_status napi_set_named_property(napi_env e, napi_value o, const char *n, napi_value v) { (void)e; (void)o; (void)n; (void)v; return napi_ok; }
void napi_module_register(napi_module *m) { (void)m; }
