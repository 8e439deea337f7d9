/*
 * `reserve(fd, offset, length) -> boolean`: asks the file system to allocate [offset, offset + length) of
 * a file without changing its size (Linux fallocate with FALLOC_FL_KEEP_SIZE), so that the writes which
 * fill it later skip the per-page block reservation of a growing file.
 *
 * Why: on ext4 a 1 MiB write into reserved space measured 10-20% faster than the same write extending the
 * file (C loop of 192 pwrites, 4.4-4.9 against 5.0-5.5 GB/s, reserving 16 or 64 MiB at a time). The file's
 * size, and so everything a reader or another implementation sees, is unchanged; the reserved blocks past
 * the end are released by a truncate to the file's own size (ext4 and xfs free blocks past EOF then).
 *
 * Best effort: false when the platform or file system cannot (no fallocate, EOPNOTSUPP, ENOSPC); the
 * caller then simply writes. Never throws on an OS error.
 */
#define _GNU_SOURCE
#include "seglog.h"

#ifdef __linux__
#include <fcntl.h>
#include <linux/falloc.h>
#endif

static int reserve(int fd, double offset, double length) {
#ifdef __linux__
  return fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) == 0;
#else
  (void)fd, (void)offset, (void)length;
  return 0;
#endif
}

static napi_value js_reserve(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!seglog_args(env, info, 3, argv)) return NULL;
  size_t fd, offset, length;
  /* 2^53: offsets are JS numbers; an fd is an int. */
  if (!seglog_integer_arg(env, argv[0], SIZE_MAX, 0x7fffffff, &fd) || fd == SIZE_MAX ||
      !seglog_integer_arg(env, argv[1], SIZE_MAX, (size_t)1 << 53, &offset) || offset == SIZE_MAX ||
      !seglog_integer_arg(env, argv[2], SIZE_MAX, (size_t)1 << 53, &length) || length == 0 || length == SIZE_MAX) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "reserve: fd, offset and length (> 0) must be integers");
    return NULL;
  }
  napi_value result;
  napi_get_boolean(env, reserve((int)fd, (double)offset, (double)length), &result);
  return result;
}

void seglog_reserve_init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "reserve", NAPI_AUTO_LENGTH, js_reserve, NULL, &fn);
  napi_set_named_property(env, exports, "reserve", fn);
}
