#ifndef NAPI_STUB_H
#define NAPI_STUB_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define STUB_TYPED_MAGIC 0x7e57a11du
typedef struct {
  uint32_t magic;
  napi_typedarray_type type;
  size_t len;
  void *data;
} stub_typed_t;

typedef struct {
  size_t argc;
  napi_value argv[10];
  void *data;
} stub_info_t;

extern size_t stub_last_len;
extern int stub_thrown;
#endif
