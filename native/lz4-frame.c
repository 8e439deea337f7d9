/*
 * `lz4CompressFrame(input, start, end, output, outStart, legacyHeaderChecksum?) -> end`: the Kafka LZ4
 * frame of input[start, end) written into output from outStart, byte for byte what the JS path of
 * src/compression/lz4.ts writes over node-lz4 (the layout is documented there):
 *
 *   04 22 4D 18  60  40  HC   blocks of <= 64 KiB: size int32 LE (high bit = stored) . data   00 00 00 00
 *
 * HC is (xxh32(60 40) >> 8) & 0xFF = 0x82, or with the pre-0.10 quirk (legacyHeaderChecksum, magic v0)
 * the same over the magic too, 0x1A; both come from XXH32 here. A block is stored uncompressed when
 * LZ4 does not shrink it (Kafka's `compressedLength >= size`), or when its sample shows it will not
 * shrink by ~3% (looks_incompressible below). The block compressor is LZ4_compress_default,
 * the one node-lz4's `compress` calls, from the same LZ4 sources (the lz4 dependency's bundled library,
 * see binding.gyp), so the compressed bytes are the same.
 *
 * Why two threads: the blocks of Kafka's frame (FLG bit 5) are independent, and for a 1000 x 100 B batch
 * (~110 KB, 2 blocks: 64 KiB + ~44 KiB) LZ4 measured ~100-250 us per batch against ~90-130 us for
 * encoding its records: the compressor alone was the ceiling on one thread. Two ways to use the worker:
 *
 * - Split (lz4CompressFrame alone): the back blocks (the smaller half) go to the worker first and this
 *   thread compresses the front ones meanwhile, so the ~35-50 us the worker takes to wake overlaps this
 *   thread's work. Measured on the 110 KB frame: ~140 us against ~210 us on one thread.
 * - Pipeline (the record batch builder, through src/compression/lz4.ts `compressAhead`): lz4BesideClaim
 *   at 40 KiB of records wakes the worker, lz4BesidePrefix at 64 KiB hands it block 0 while the builder
 *   writes the rest of the records, and lz4CompressFrame then compresses the remaining blocks here and
 *   takes block 0's bytes from the worker. Block 0 compresses beside the encoding instead of after it.
 *
 * Where the worker writes: in the split, into the output itself, at the place its first block would take
 * if every block before it came out at LZ4's bound (`outStart` + 7 + k * (4 + LZ4_compressBound(64 KiB))).
 * This thread's blocks end at or before that place, so the two never overlap; the worker's part is then
 * moved down behind them (one memmove of at most half the frame, a few microseconds). The prefix is
 * started before the output is known, so it writes into scratch memory of its JS thread (its napi_env)
 * and is copied into place. The caller's output must have the frame's bound of room (lz4FrameBound, the
 * same as the JS `frameBound`) and is never written past.
 *
 * When the worker is busy (another JS thread, or appendBatch's verification), when there is one block, or
 * when the worker has not begun its part by the time this thread is done with its own (seglog_beside_wait
 * then takes the job back), every block is compressed here. In the split nothing calls into JS between the
 * start and the wait, so the input and output cannot move or be detached meanwhile. A prefix runs while JS
 * runs: its caller keeps the input referenced and its first 64 KiB unchanged until lz4CompressFrame or
 * lz4BesideCancel, and an env that ends first waits for it in its cleanup hook.
 */
#include "seglog.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lz4.h"
#include "xxhash.h"

#define FRAME_MAGIC 0x184D2204u
/* Version 01, independent blocks, no checksums, no content size: what Kafka writes. */
#define KAFKA_FLG 0x60
/* Block max size id 4: 64 KiB. */
#define KAFKA_BD 0x40
#define HEADER_BYTES 7
#define BLOCK_BYTES (64 * 1024)
#define BLOCK_SIZE_BYTES 4
#define END_MARK_BYTES 4
#define UNCOMPRESSED_FLAG 0x80000000u
/*
 * The worker takes a share only when it has at least this much input: below it the ~2-50 us of waking it
 * and waiting for it cost more than compressing the share here (LZ4 runs ~0.5-1 GB/s on this VM).
 */
#define BESIDE_BYTES_MIN (16 * 1024)
/*
 * The most input one call takes: LZ4's own limit per call does not apply (blocks are 64 KiB), but the
 * frame bound must stay a safe integer for JS and a size_t here; 1 GiB is BATCH_BYTES_MAX (src/limits.ts).
 */
#define INPUT_BYTES_MAX ((size_t)1 << 30)

static void write_u32le(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)value;
  at[1] = (uint8_t)(value >> 8);
  at[2] = (uint8_t)(value >> 16);
  at[3] = (uint8_t)(value >> 24);
}

/* Room one block takes at most: its size word and LZ4's bound for a full block. */
static size_t block_room(void) { return BLOCK_SIZE_BYTES + (size_t)LZ4_compressBound(BLOCK_BYTES); }

static size_t block_count(size_t bytes) { return (bytes + BLOCK_BYTES - 1) / BLOCK_BYTES; }

size_t seglog_lz4_frame_bound(size_t bytes) { return HEADER_BYTES + block_count(bytes) * block_room() + END_MARK_BYTES; }

/*
 * The incompressible-block test, the same in src/compression/lz4.ts (SAMPLE_* there): a block of at least
 * SAMPLE_BLOCK_MIN bytes whose first SAMPLE_BYTES LZ4 shrinks by less than SAMPLE_SAVED_MIN bytes (~3%)
 * is stored without compressing the rest. Why: on bytes LZ4 cannot shrink it still searches every
 * position (the record headers between random values give it a short match every ~110 bytes, so its
 * skip-ahead never engages): a 1000 x 100 B batch of random values took ~240 us to shrink by 0.7%, the
 * sample takes ~4 us and the copy ~5. Cost: ~3% more compress time on compressible blocks, and a block
 * whose sample misleads (incompressible first 2 KiB, compressible rest) is stored whole.
 */
#define SAMPLE_BYTES 2048
#define SAMPLE_SAVED_MIN 64
#define SAMPLE_BLOCK_MIN (8 * 1024)

/* True when `size` bytes at src look incompressible by their sample; `scratch` has the block's room. */
static bool looks_incompressible(const uint8_t *src, int size, uint8_t *scratch) {
  if (size < SAMPLE_BLOCK_MIN) return false;
  int sampled = LZ4_compress_default((const char *)src, (char *)scratch, SAMPLE_BYTES, LZ4_compressBound(SAMPLE_BYTES));
  return sampled <= 0 || sampled > SAMPLE_BYTES - SAMPLE_SAVED_MIN;
}

/* Writes the blocks of src[0, n) at dst (room: block_room() per block); returns the bytes written. */
static size_t write_blocks(const uint8_t *src, size_t n, uint8_t *dst) {
  uint8_t *at = dst;
  for (size_t from = 0; from < n; from += BLOCK_BYTES) {
    int size = (int)(n - from < BLOCK_BYTES ? n - from : BLOCK_BYTES);
    int compressed = looks_incompressible(src + from, size, at + BLOCK_SIZE_BYTES)
                         ? 0
                         : LZ4_compress_default((const char *)src + from, (char *)at + BLOCK_SIZE_BYTES, size, LZ4_compressBound(size));
    if (compressed > 0 && compressed < size) {
      write_u32le(at, (uint32_t)compressed);
      at += BLOCK_SIZE_BYTES + compressed;
    } else {
      write_u32le(at, (uint32_t)size | UNCOMPRESSED_FLAG);
      memcpy(at + BLOCK_SIZE_BYTES, src + from, (size_t)size);
      at += BLOCK_SIZE_BYTES + size;
    }
  }
  return (size_t)(at - dst);
}

typedef struct {
  const uint8_t *src;
  size_t bytes;
  uint8_t *dst;
  size_t written;
} blocks_job;

static void run_blocks_job(void *arg) {
  blocks_job *job = arg;
  job->written = write_blocks(job->src, job->bytes, job->dst);
}

/*
 * What one JS thread (one napi_env) has on the worker between lz4BesideClaim / lz4BesidePrefix and the
 * lz4CompressFrame (or lz4BesideCancel) that completes it. The prefix job reads the caller's input and
 * writes `scratch`, which this state owns: the output buffer is not known yet when the prefix starts.
 */
typedef struct {
  bool claimed;       /* this env holds the worker (seglog_beside_claim) */
  bool posted;        /* the prefix job is on the worker */
  blocks_job prefix;  /* block 0 of the frame being written */
  uint8_t *scratch;   /* block_room() bytes, allocated on first use */
} lz4_env;

/* Waits for a posted prefix and gives the worker back, so that nothing of this env runs beside. */
static void settle(lz4_env *state) {
  if (state->posted) seglog_beside_wait();
  else if (state->claimed) seglog_beside_release();
  state->posted = false;
  state->claimed = false;
}

/* The header byte HC: the second byte of xxh32 over the descriptor (and, for the quirk, the magic). */
static uint8_t header_checksum(const uint8_t *frame, bool legacy) {
  const uint8_t *from = legacy ? frame : frame + 4;
  return (uint8_t)(XXH32(from, (size_t)(frame + HEADER_BYTES - 1 - from), 0) >> 8);
}

/*
 * Compresses src[0, n) into the blocks area at `blocks` (room: one block_room() per block): `front` blocks
 * here, the rest on the worker when it takes them (claimed: this env already holds it); returns the bytes.
 */
static size_t split_blocks(const uint8_t *src, size_t n, uint8_t *blocks, bool claimed) {
  size_t count = block_count(n);
  size_t front = (count + 1) / 2; /* blocks compressed here; the worker takes the rest, the smaller half */
  size_t split = front * BLOCK_BYTES;
  blocks_job job = {0};
  bool beside = false;
  if (count >= 2 && n - split >= BESIDE_BYTES_MIN) {
    job = (blocks_job){.src = src + split, .bytes = n - split, .dst = blocks + front * block_room()};
    if (claimed) seglog_beside_post(run_blocks_job, &job);
    beside = claimed || seglog_beside_start(run_blocks_job, &job);
  } else if (claimed) {
    seglog_beside_release();
  }
  if (!beside) return write_blocks(src, n, blocks);
  size_t written = write_blocks(src, split, blocks);
  seglog_beside_wait();
  memmove(blocks + written, job.dst, job.written);
  return written + job.written;
}

/*
 * The blocks of src[0, n) when the worker has block 0 already (a prefix of this same input): the rest is
 * compressed here, or split again when the worker is done with block 0 and there are blocks to share.
 */
static size_t blocks_after_prefix(lz4_env *state, const uint8_t *src, size_t n, uint8_t *blocks) {
  uint8_t *rest = blocks + block_room(); /* block 1's place if block 0 came out at the bound */
  size_t rest_written;
  if (seglog_beside_done()) {
    seglog_beside_wait();
    rest_written = split_blocks(src + BLOCK_BYTES, n - BLOCK_BYTES, rest, false);
  } else {
    rest_written = write_blocks(src + BLOCK_BYTES, n - BLOCK_BYTES, rest);
    seglog_beside_wait();
  }
  state->posted = false;
  state->claimed = false;
  memcpy(blocks, state->scratch, state->prefix.written);
  memmove(blocks + state->prefix.written, rest, rest_written);
  return state->prefix.written + rest_written;
}

/* Writes the frame of src[0, n) at out, which has seglog_lz4_frame_bound(n) bytes; returns its length. */
static size_t write_frame(lz4_env *state, const uint8_t *src, size_t n, uint8_t *out, bool legacy) {
  write_u32le(out, FRAME_MAGIC);
  out[4] = KAFKA_FLG;
  out[5] = KAFKA_BD;
  out[6] = header_checksum(out, legacy);
  uint8_t *blocks = out + HEADER_BYTES;
  if (state->posted && (state->prefix.src != src || n < BLOCK_BYTES)) settle(state); /* a prefix of other bytes */
  size_t written;
  if (state->posted) {
    written = blocks_after_prefix(state, src, n, blocks);
  } else {
    written = split_blocks(src, n, blocks, state->claimed);
    state->claimed = false;
  }
  write_u32le(blocks + written, 0);
  return HEADER_BYTES + written + END_MARK_BYTES;
}

static lz4_env *env_state(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

/* True when [a, a + an) and [b, b + bn) share a byte. */
static bool overlaps(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) { return a < b + bn && b < a + an; }

static napi_value js_lz4_compress_frame(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!seglog_args(env, info, 6, argv)) return NULL;
  const uint8_t *input, *output_bytes;
  size_t input_length, output_length, start, end, out_start;
  if (!seglog_bytes_arg(env, argv[0], "lz4CompressFrame: input must be a Uint8Array", &input, &input_length) ||
      !seglog_bytes_arg(env, argv[3], "lz4CompressFrame: output must be a Uint8Array", &output_bytes, &output_length)) {
    return NULL;
  }
  if (!seglog_integer_arg(env, argv[2], input_length, input_length, &end) || !seglog_integer_arg(env, argv[1], 0, end, &start) ||
      !seglog_integer_arg(env, argv[4], 0, output_length, &out_start)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4CompressFrame: 0 <= start <= end <= input length and 0 <= outStart <= output length must be integers");
    return NULL;
  }
  napi_valuetype legacy_type;
  bool legacy = false;
  if (napi_typeof(env, argv[5], &legacy_type) != napi_ok ||
      (legacy_type != napi_undefined && (legacy_type != napi_boolean || napi_get_value_bool(env, argv[5], &legacy) != napi_ok))) {
    napi_throw_type_error(env, "ERR_INVALID_ARGUMENT", "lz4CompressFrame: legacyHeaderChecksum must be a boolean");
    return NULL;
  }
  size_t n = end - start;
  if (n > INPUT_BYTES_MAX) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4CompressFrame: input of more than 1 GiB");
    return NULL;
  }
  size_t bound = seglog_lz4_frame_bound(n);
  uint8_t *out = (uint8_t *)output_bytes + out_start;
  if (output_length - out_start < bound) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4CompressFrame: output has less room than lz4FrameBound(end - start) from outStart");
    return NULL;
  }
  if (overlaps(input + start, n, out, bound)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4CompressFrame: input and output overlap");
    return NULL;
  }
  napi_value result;
  napi_create_double(env, (double)(out_start + write_frame(env_state(env), input + start, n, out, legacy)), &result);
  return result;
}

/* lz4FrameBound(bytes) -> the most bytes lz4CompressFrame writes for `bytes` of input. */
static napi_value js_lz4_frame_bound(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!seglog_args(env, info, 1, argv)) return NULL;
  size_t bytes;
  napi_valuetype type;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number ||
      !seglog_integer_arg(env, argv[0], 0, INPUT_BYTES_MAX, &bytes)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4FrameBound: bytes must be an integer in [0, 1 GiB]");
    return NULL;
  }
  napi_value result;
  napi_create_double(env, (double)seglog_lz4_frame_bound(bytes), &result);
  return result;
}

/* lz4BesideClaim() -> boolean: takes the worker and wakes it ahead of lz4BesidePrefix (see beside.c). */
static napi_value js_lz4_beside_claim(napi_env env, napi_callback_info info) {
  (void)info;
  lz4_env *state = env_state(env);
  if (!state->claimed) state->claimed = seglog_beside_claim();
  napi_value result;
  napi_get_boolean(env, state->claimed, &result);
  return result;
}

/*
 * lz4BesidePrefix(input) -> boolean: starts block 0 (input[0, 64 KiB)) of the frame lz4CompressFrame will
 * write for this same input, on the worker; false when the worker is not free (lz4CompressFrame then does
 * it). The caller keeps input alive and its first 64 KiB unchanged until lz4CompressFrame or lz4BesideCancel.
 */
static napi_value js_lz4_beside_prefix(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!seglog_args(env, info, 1, argv)) return NULL;
  const uint8_t *input;
  size_t length;
  if (!seglog_bytes_arg(env, argv[0], "lz4BesidePrefix: input must be a Uint8Array", &input, &length)) return NULL;
  if (length < BLOCK_BYTES) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4BesidePrefix: input must hold at least one 64 KiB block");
    return NULL;
  }
  lz4_env *state = env_state(env);
  if (state->posted) settle(state);
  if (state->scratch == NULL) state->scratch = malloc(block_room());
  bool posted = false;
  if (state->scratch != NULL && (state->claimed || seglog_beside_claim())) {
    state->claimed = true;
    state->prefix = (blocks_job){.src = input, .bytes = BLOCK_BYTES, .dst = state->scratch};
    seglog_beside_post(run_blocks_job, &state->prefix);
    state->posted = posted = true;
  }
  napi_value result;
  napi_get_boolean(env, posted, &result);
  return result;
}

/* lz4BesideCancel(): waits for a started prefix and gives the worker back (a batch abandoned midway). */
static napi_value js_lz4_beside_cancel(napi_env env, napi_callback_info info) {
  (void)info;
  settle(env_state(env));
  return NULL;
}

/* At the env's end (process exit, worker_threads termination): nothing may still read its memory. */
static void env_cleanup(void *data) {
  lz4_env *state = data;
  settle(state);
  free(state->scratch);
  free(state);
}

static void define(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

void seglog_lz4_frame_init(napi_env env, napi_value exports) {
  lz4_env *state = calloc(1, sizeof *state);
  if (state == NULL || napi_set_instance_data(env, state, NULL, NULL) != napi_ok ||
      napi_add_env_cleanup_hook(env, env_cleanup, state) != napi_ok) {
    free(state);
    return; /* no lz4 functions: src/compression/lz4.ts falls back to node-lz4 */
  }
  define(env, exports, "lz4CompressFrame", js_lz4_compress_frame);
  define(env, exports, "lz4FrameBound", js_lz4_frame_bound);
  define(env, exports, "lz4BesideClaim", js_lz4_beside_claim);
  define(env, exports, "lz4BesidePrefix", js_lz4_beside_prefix);
  define(env, exports, "lz4BesideCancel", js_lz4_beside_cancel);
}
