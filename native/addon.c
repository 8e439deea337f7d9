/*
 * The module entry of seglog's native addon (`build/Release/seglog_native.node`): each file registers its
 * functions on the exports. Loaded lazily by src/addon.ts; every function has a JS fallback.
 */
#include "seglog.h"

#include <stdbool.h>
#include <stdint.h>

int seglog_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  for (size_t i = argc; i < n; i++) napi_get_undefined(env, &argv[i]);
  return 1;
}

int seglog_integer_arg(napi_env env, napi_value value, size_t fallback, size_t max, size_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_undefined) {
    *out = fallback;
    return 1;
  }
  double d;
  if (type != napi_number || napi_get_value_double(env, value, &d) != napi_ok) return 0;
  if (!(d >= 0) || d > (double)max || d != (double)(size_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

int seglog_bytes_arg(napi_env env, napi_value value, const char *what, const uint8_t **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *pointer = NULL;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARGUMENT", what);
    return 0;
  }
  *data = (const uint8_t *)pointer;
  return 1;
}

NAPI_MODULE_INIT() {
  seglog_crc32c_init(env, exports);
  seglog_record_lengths_init(env, exports);
  seglog_verify_batches_init(env, exports);
  seglog_reserve_init(env, exports);
  seglog_lz4_frame_init(env, exports);
  seglog_lz4_decode_init(env, exports);
  return exports;
}
