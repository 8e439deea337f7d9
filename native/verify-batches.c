/*
 * `verifyBatchesAsync(bytes, layout) -> Promise<Float64Array>`: the CRC-32C and, for uncompressed batches,
 * the record-length walk of every batch of an `appendBatch`, computed on the libuv thread pool while the
 * JS thread writes the same bytes to the segment file (they are only made visible once both are done).
 *
 * `layout` holds three numbers per batch: its position in `bytes`, its size, and its record count (-1 for a
 * compressed batch, whose records are not walked). The result holds two per batch: the CRC-32C of
 * [position + 21, position + size) (what the batch's CRC field must equal) and the walk's end relative to
 * the batch (its size when the records fill it exactly; see record-lengths.c), or 0 for no walk. The JS
 * side compares them with the batch and, on any mismatch, re-checks that batch in JS for the precise error.
 *
 * Why a second thread: a 1 MiB batch of 100-byte records costs ~45 us of CRC and ~55 us of walking (a
 * dependent chain of loads, one per record), against ~300 us for the write itself; done in turn on one
 * thread they cost ~1/3 of the write. The bytes stay referenced (napi_ref) until the work completes, so
 * the memory cannot be collected under the worker; the caller must not modify them meanwhile, nor detach
 * their ArrayBuffer (transfer it to a worker or with structuredClone), which a reference cannot prevent
 * (appendBatch documents both).
 */
#include "seglog.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* CRC_COVERED_START in src/record/layout.ts: the CRC covers the batch from its attributes on. */
#define CRC_COVERED_START 21
/* RECORDS_OFFSET: the first record follows the 61-byte header. */
#define RECORDS_OFFSET 61

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref bytes_ref;
  const uint8_t *bytes;
  size_t batches;
  double *layout; /* 3 per batch, copied from JS */
  double *result; /* 2 per batch */
} verify_job;

static void execute(napi_env env, void *data) {
  (void)env;
  verify_job *job = data;
  for (size_t i = 0; i < job->batches; i++) {
    size_t position = (size_t)job->layout[3 * i];
    size_t size = (size_t)job->layout[3 * i + 1];
    double count = job->layout[3 * i + 2];
    const uint8_t *batch = job->bytes + position;
    job->result[2 * i] = seglog_crc32c(batch + CRC_COVERED_START, size - CRC_COVERED_START);
    job->result[2 * i + 1] = count < 0 ? 0 : seglog_record_lengths_end(batch, RECORDS_OFFSET, size, (size_t)count);
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  verify_job *job = data;
  napi_value arraybuffer, result;
  void *out = NULL;
  if (status == napi_ok && napi_create_arraybuffer(env, job->batches * 2 * sizeof(double), &out, &arraybuffer) == napi_ok &&
      napi_create_typedarray(env, napi_float64_array, job->batches * 2, arraybuffer, 0, &result) == napi_ok) {
    memcpy(out, job->result, job->batches * 2 * sizeof(double));
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "verifyBatchesAsync: the work did not run", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_reference(env, job->bytes_ref);
  napi_delete_async_work(env, job->work);
  free(job->layout);
  free(job->result);
  free(job);
}

/* Before a promise exists: free the job and throw. */
static napi_value fail_job(napi_env env, verify_job *job) {
  free(job->layout);
  free(job->result);
  free(job);
  napi_throw_error(env, "ERR_IO", "verifyBatchesAsync: could not start the work");
  return NULL;
}

/* The work could not be queued: reject the promise at once and free the job. */
static void reject_now(napi_env env, verify_job *job) {
  napi_value message, error;
  napi_create_string_utf8(env, "verifyBatchesAsync: could not queue the work", NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_reject_deferred(env, job->deferred, error);
  if (job->bytes_ref != NULL) napi_delete_reference(env, job->bytes_ref);
  free(job->layout);
  free(job->result);
  free(job);
}

/* Checks that every [position, position + size) lies in the bytes and holds at least a batch header. */
static int layout_fits(const double *layout, size_t batches, size_t length) {
  for (size_t i = 0; i < batches; i++) {
    double position = layout[3 * i], size = layout[3 * i + 1], count = layout[3 * i + 2];
    if (!(position >= 0) || !(size >= RECORDS_OFFSET) || position + size > (double)length) return 0;
    if (position != (double)(size_t)position || size != (double)(size_t)size) return 0;
    if (!(count >= -1) || count > 2147483647.0 || count != (double)(long long)count) return 0;
  }
  return 1;
}

static napi_value js_verify_batches_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  const uint8_t *bytes;
  size_t length;
  if (argc < 2 || !seglog_bytes_arg(env, argv[0], "verifyBatchesAsync: bytes must be a Uint8Array", &bytes, &length)) {
    if (argc < 2) napi_throw_type_error(env, "ERR_INVALID_ARGUMENT", "verifyBatchesAsync: bytes and layout are required");
    return NULL;
  }
  bool is_typed = false;
  napi_typedarray_type type;
  size_t entries = 0;
  void *layout_data = NULL;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[1], &type, &entries, &layout_data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || entries % 3 != 0 || entries == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARGUMENT", "verifyBatchesAsync: layout must be a non-empty Float64Array of (position, size, count) triples");
    return NULL;
  }
  size_t batches = entries / 3;
  if (!layout_fits(layout_data, batches, length)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "verifyBatchesAsync: a batch in the layout lies outside the bytes");
    return NULL;
  }
  verify_job *job = calloc(1, sizeof(verify_job));
  double *layout = malloc(entries * sizeof(double));
  double *result = malloc(batches * 2 * sizeof(double));
  if (job == NULL || layout == NULL || result == NULL) {
    free(job);
    free(layout);
    free(result);
    napi_throw_error(env, "ERR_IO", "verifyBatchesAsync: out of memory");
    return NULL;
  }
  memcpy(layout, layout_data, entries * sizeof(double));
  job->bytes = bytes;
  job->batches = batches;
  job->layout = layout;
  job->result = result;
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) return fail_job(env, job);
  if (napi_create_reference(env, argv[0], 1, &job->bytes_ref) != napi_ok ||
      napi_create_string_utf8(env, "seglog.verifyBatches", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok) {
    reject_now(env, job);
    return promise;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_delete_async_work(env, job->work);
    reject_now(env, job);
  }
  return promise;
}

void seglog_verify_batches_init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "verifyBatchesAsync", NAPI_AUTO_LENGTH, js_verify_batches_async, NULL, &fn);
  napi_set_named_property(env, exports, "verifyBatchesAsync", fn);
}
