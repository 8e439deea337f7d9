/*
 * `verifyBatchesBeside(bytes, layout, during)`: the CRC-32C and, for uncompressed batches,
 * the record-length walk of every batch of an `appendBatch`, computed on the worker of beside.c while
 * `during()` (the JS write of the same bytes) runs on the calling thread; it returns once both are done.
 * The bytes only become part of the log after the JS side has compared the results with the batches.
 *
 * `layout` holds three numbers per batch: its position in `bytes`, its size, and its record count (-1 for a
 * compressed batch, whose records are not walked). The results replace the first two of each triple: the
 * CRC-32C of [position + 21, position + size) (what the batch's CRC field must equal) and the walk's end
 * relative to the batch (its size when the records fill it exactly; see record-lengths.c), or 0 for no
 * walk. In place, so that a call allocates nothing on the JS heap. The JS
 * side compares them with the batch and, on any mismatch, re-checks that batch in JS for the precise error.
 *
 * Why beside the write: a 1 MiB batch of 100-byte records costs ~22 us of CRC and ~36 us of walking (a
 * dependent chain of loads, one per record) when it is in cache, and ~110 + ~45 us as the append bench
 * meets it (the batch cold, the other CPU copying a MiB into the page cache; traced on the worker),
 * against ~260-300 us for the write itself. When the worker is unavailable (or refused: beside.c's
 * wake-up back-off) the checks run here before `during()`; one the worker has not picked up by the end
 * of `during()` is taken back and run here after it. When `during()` throws, the worker is still waited for before the exception propagates: the
 * job reads `bytes`, which must outlive it. Nothing else runs JS meanwhile, so the bytes cannot change or be
 * detached under the job unless `during` itself does that (appendBatch's write does not).
 */
#include "seglog.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* CRC_COVERED_START in src/record/layout.ts: the CRC covers the batch from its attributes on. */
#define CRC_COVERED_START 21
/* RECORDS_OFFSET: the first record follows the 61-byte header. */
#define RECORDS_OFFSET 61

/*
 * The CRC and the walk take each batch FUSED_CHUNK_BYTES at a time, the walk following the CRC through the
 * chunk the CRC has just loaded (16 KiB stays in L1), rather than each pass reading the whole MiB from
 * memory. Cold 1 MiB batches, verified inline while the worker verified another: median 156-159 us
 * against 178-180 us for the two passes (two runs each). The walk is a chain of dependent loads and the
 * CRC is bound by memory bandwidth, so they still mostly add up: calling the walk from inside the CRC's
 * folding loop, every 256 bytes, measured 150-153 us, not enough to be worth the coupling.
 */
#define FUSED_CHUNK_BYTES (16 * 1024)

typedef struct {
  const uint8_t *bytes;
  size_t batches;
  const double *layout; /* 3 per batch */
  double *result;       /* 2 per batch */
} verify_job;

/* One batch of `size` bytes: out[0] its CRC-32C, out[1] the walk's result (0 when count < 0: not walked). */
static void verify_batch(const uint8_t *batch, size_t size, double count, double *out) {
  uint32_t state = 0xFFFFFFFFu;
  seglog_walk walk = {RECORDS_OFFSET, 0, 0};
  int walking = count >= 0;
  for (size_t from = CRC_COVERED_START; from < size;) {
    size_t to = size - from > FUSED_CHUNK_BYTES ? from + FUSED_CHUNK_BYTES : size;
    state = seglog_crc32c_update(state, batch + from, to - from);
    if (walking) walking = seglog_walk_records(&walk, batch, size, (size_t)count, to);
    from = to;
  }
  if (walking) walking = seglog_walk_records(&walk, batch, size, (size_t)count, SIZE_MAX); /* records past the end */
  out[0] = state ^ 0xFFFFFFFFu;
  out[1] = count < 0 ? 0 : walking ? (double)walk.at : walk.failed;
}

static void verify(void *data) {
  verify_job *job = data;
  for (size_t i = 0; i < job->batches; i++) {
    const double *entry = job->layout + 3 * i;
    verify_batch(job->bytes + (size_t)entry[0], (size_t)entry[1], entry[2], job->result + 2 * i);
  }
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

/* The layout argument, copied (a small typed array may live on the JS heap, which a GC in `during` moves). */
static double *layout_arg(napi_env env, napi_value value, size_t length, size_t *batches) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t entries = 0;
  void *data = NULL;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, value, &type, &entries, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || entries % 3 != 0 || entries == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARGUMENT", "verifyBatchesBeside: layout must be a non-empty Float64Array of (position, size, count) triples");
    return NULL;
  }
  *batches = entries / 3;
  if (!layout_fits(data, *batches, length)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "verifyBatchesBeside: a batch in the layout lies outside the bytes");
    return NULL;
  }
  double *copy = malloc(entries * sizeof(double));
  if (copy == NULL) napi_throw_error(env, "ERR_IO", "verifyBatchesBeside: out of memory");
  else memcpy(copy, data, entries * sizeof(double));
  return copy;
}

/*
 * Writes the results over the caller's layout (looked up again: `during` may have run a GC); throws if the
 * layout no longer holds them (detached or replaced meanwhile), rather than leave inputs where results go.
 */
static void store_results(napi_env env, napi_value layout, const double *result, size_t batches) {
  size_t entries = 0;
  void *data = NULL;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, layout, &type, &entries, &data, NULL, NULL) != napi_ok || data == NULL || entries < batches * 3) {
    napi_throw_error(env, "ERR_INVALID_ARGUMENT", "verifyBatchesBeside: the layout changed during the call");
    return;
  }
  double *out = data;
  for (size_t i = 0; i < batches; i++) {
    out[3 * i] = result[2 * i];
    out[3 * i + 1] = result[2 * i + 1];
  }
}

static napi_value js_verify_batches_beside(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!seglog_args(env, info, 3, argv)) return NULL;
  verify_job job = {0};
  size_t length;
  if (!seglog_bytes_arg(env, argv[0], "verifyBatchesBeside: bytes must be a Uint8Array", &job.bytes, &length)) return NULL;
  napi_valuetype during_type;
  if (napi_typeof(env, argv[2], &during_type) != napi_ok || during_type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARGUMENT", "verifyBatchesBeside: during must be a function");
    return NULL;
  }
  double *layout = layout_arg(env, argv[1], length, &job.batches);
  if (layout == NULL) return NULL;
  job.layout = layout;
  job.result = malloc(job.batches * 2 * sizeof(double));
  if (job.result == NULL) {
    free(layout);
    napi_throw_error(env, "ERR_IO", "verifyBatchesBeside: out of memory");
    return NULL;
  }
  bool beside = seglog_beside_start(verify, &job);
  if (!beside) verify(&job);
  napi_value ignored, global;
  napi_get_global(env, &global);
  napi_status called = napi_call_function(env, global, argv[2], 0, NULL, &ignored);
  if (beside) seglog_beside_wait();
  if (called == napi_ok) store_results(env, argv[1], job.result, job.batches);
  free(layout);
  free(job.result);
  return NULL;
}

/* workerJobs() -> number: jobs the worker thread has run (beside.c). */
static napi_value js_worker_jobs(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_double(env, (double)seglog_beside_jobs(), &result);
  return result;
}

/* besideStats() -> [wakeups, slow wake-ups, refused while parked in a back-off, parked now (0 or 1)] (beside.c). */
static napi_value js_beside_stats(napi_env env, napi_callback_info info) {
  (void)info;
  size_t stats[4];
  seglog_beside_stats(stats);
  napi_value result, value;
  napi_create_array_with_length(env, 4, &result);
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_double(env, (double)stats[i], &value);
    napi_set_element(env, result, i, value);
  }
  return result;
}

/* besideTuning(slowWakeNs: number, endBackoff: boolean): for tests (a negative threshold restores the default). */
static napi_value js_beside_tuning(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!seglog_args(env, info, 2, argv)) return NULL;
  double slow = -1;
  bool end = false;
  if (napi_get_value_double(env, argv[0], &slow) != napi_ok || napi_get_value_bool(env, argv[1], &end) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARGUMENT", "besideTuning: (slowWakeNs: number, endBackoff: boolean)");
    return NULL;
  }
  seglog_beside_tune(slow != slow ? -1 : (long long)slow, end);
  return NULL;
}

void seglog_verify_batches_init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "besideStats", NAPI_AUTO_LENGTH, js_beside_stats, NULL, &fn);
  napi_set_named_property(env, exports, "besideStats", fn);
  napi_create_function(env, "besideTuning", NAPI_AUTO_LENGTH, js_beside_tuning, NULL, &fn);
  napi_set_named_property(env, exports, "besideTuning", fn);
  napi_create_function(env, "workerJobs", NAPI_AUTO_LENGTH, js_worker_jobs, NULL, &fn);
  napi_set_named_property(env, exports, "workerJobs", fn);
  napi_create_function(env, "verifyBatchesBeside", NAPI_AUTO_LENGTH, js_verify_batches_beside, NULL, &fn);
  napi_set_named_property(env, exports, "verifyBatchesBeside", fn);
}
