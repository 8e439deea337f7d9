/* seglog's native addon: what each file registers, and the argument helpers they share. */
#ifndef SEGLOG_H
#define SEGLOG_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Registers crc32c() and `hardware` (crc32c.c). */
void seglog_crc32c_init(napi_env env, napi_value exports);
/* Registers recordLengthsEnd() (record-lengths.c). */
void seglog_record_lengths_init(napi_env env, napi_value exports);

/* Registers verifyBatchesBeside() (verify-batches.c). */
void seglog_verify_batches_init(napi_env env, napi_value exports);

/* Registers reserve() (reserve.c). */
void seglog_reserve_init(napi_env env, napi_value exports);

/* Registers lz4CompressFrame() and lz4FrameBound() (lz4-frame.c). */
void seglog_lz4_frame_init(napi_env env, napi_value exports);
/* Registers lz4DecompressFrame() (lz4-decode.c). */
void seglog_lz4_decode_init(napi_env env, napi_value exports);
/* The most bytes the Kafka LZ4 frame of `bytes` input bytes takes (lz4-frame.c). */
size_t seglog_lz4_frame_bound(size_t bytes);

/* A job for the worker of beside.c: a leaf computation over memory its caller keeps alive. */
typedef void (*seglog_job)(void *arg);
/* Runs job(arg) on the worker and returns 1, or returns 0 without running it (the caller runs it). */
int seglog_beside_start(seglog_job job, void *arg);
/* After a start that returned 1 (or a post), on the same thread: returns once the job has returned. */
void seglog_beside_wait(void);
/* How many jobs the worker has run (tests use it to see the worker was used). */
size_t seglog_beside_jobs(void);
/* Takes the worker ahead of a job and wakes it to spin for that job (briefly); 0 when start would return 0. */
int seglog_beside_claim(void);
/* After a claim that returned 1, on the same thread: runs job(arg) on the worker (then wait or detach). */
void seglog_beside_post(seglog_job job, void *arg);
/* A post whose job is followed by the worker's short spin for the next claim (back-to-back lz4 batches). */
void seglog_beside_post_lingering(seglog_job job, void *arg, bool linger_after);
/* After a claim that returned 1 and posted nothing: gives the worker back. */
void seglog_beside_release(void);
/* After a post: whether the job has returned (seglog_beside_wait is still needed to give the worker back). */
bool seglog_beside_done(void);
/*
 * After a post, instead of seglog_beside_wait, when the caller needs nothing more from the job: a job not
 * picked up yet is dropped (returns 0), a running one gives the worker back when it returns. Returns a
 * ticket for seglog_beside_ended; memory the job reads must stay alive until then.
 */
size_t seglog_beside_detach(void);
/* Whether the job a seglog_beside_detach ticket names has returned (true for ticket 0). */
bool seglog_beside_ended(size_t ticket);
/* Wake-ups of the parked worker, those slower than the back-off threshold, starts or claims refused
 * because the worker was parked during a back-off, and whether it is parked now (beside.c). */
void seglog_beside_stats(size_t out[4]);
/* For tests: sets the slow wake-up threshold (negative: back to WAKE_SLOW_NS) and ends any back-off (when asked). */
void seglog_beside_tune(long long slow_ns, bool end_backoff);

/* The standard CRC-32C of p[0, n) (crc32c.c). */
uint32_t seglog_crc32c(const uint8_t *p, size_t n);
/*
 * The CRC-32C register after `state` has taken in p[0, n): a CRC computed piece by piece starts at
 * 0xFFFFFFFF and XORs the last register with 0xFFFFFFFF (crc32c.c).
 */
uint32_t seglog_crc32c_update(uint32_t state, const uint8_t *p, size_t n);
/* The record-length walk (record-lengths.c): the end reached, or -1 - position of the first bad length. */
double seglog_record_lengths_end(const uint8_t *bytes, size_t start, size_t end, size_t count);
/* The same walk in steps (record-lengths.c): where it is, how many records it has walked, and how it ended. */
typedef struct {
  size_t at;
  size_t walked;
  double failed; /* -1 - position of the first bad length; 0 while none */
} seglog_walk;
/*
 * Walks on while fewer than `count` records are walked and the next one starts before `limit`; returns 0
 * once a length is bad (w->failed says where), else 1. Steps up to any limits, then SIZE_MAX, walk exactly
 * as seglog_record_lengths_end.
 */
int seglog_walk_records(seglog_walk *w, const uint8_t *bytes, size_t end, size_t count, size_t limit);

/* The first `n` arguments of a call into argv, missing ones as undefined; 0 if N-API failed. */
int seglog_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv);

/*
 * Reads `value` as an integer in [0, max] into *out; `fallback` when it is undefined. Returns 0 (and
 * throws nothing) when it is neither: the caller throws its own RangeError.
 */
int seglog_integer_arg(napi_env env, napi_value value, size_t fallback, size_t max, size_t *out);

/* The bytes of a Uint8Array argument, or 0 after throwing a TypeError (code ERR_INVALID_ARGUMENT). */
int seglog_bytes_arg(napi_env env, napi_value value, const char *what, const uint8_t **data, size_t *length);

#endif
