/*
 * `lz4CompressFrame(input, start, end, output, outStart, legacyHeaderChecksum?) -> end`: the Kafka LZ4
 * frame of input[start, end) written into output from outStart (the layout is documented in
 * src/compression/lz4.ts):
 *
 *   04 22 4D 18  60  40  HC   blocks of <= 64 KiB: size int32 LE (high bit = stored) . data   00 00 00 00
 *
 * HC is (xxh32(60 40) >> 8) & 0xFF = 0x82, or with the pre-0.10 quirk (legacyHeaderChecksum, magic v0)
 * the same over the magic too, 0x1A; both come from XXH32 here. A block is stored uncompressed when
 * LZ4 does not shrink it (Kafka's `compressedLength >= size`), or when its sample shows it will not
 * shrink by ~3% (looks_incompressible below). The block compressor is LZ4_compress_default, the one
 * node-lz4's `compress` calls, from the same LZ4 sources (the lz4 dependency's bundled library, see
 * binding.gyp): called alone, this writes byte for byte what the JS path over node-lz4 writes (64 KiB
 * blocks). Through the pipeline below the blocks are cut elsewhere, so the bytes differ; readers do not
 * care (a block may be any size up to the 64 KiB the header declares; Kafka's reader, node-lz4 and
 * KafkaJS read both, as the tests show).
 *
 * Why two threads: the blocks of Kafka's frame (FLG bit 5) are independent, and for a 1000 x 100 B batch
 * (~110 KB) LZ4 measured ~100-250 us per batch against ~70-140 us for encoding its records: the compressor
 * alone was the ceiling on one thread. Two ways to use the worker:
 *
 * - Split (lz4CompressFrame alone): the back blocks (the smaller half) go to the worker first and this
 *   thread compresses the front ones meanwhile, so the ~35-50 us the worker takes to wake overlaps this
 *   thread's work. Measured on the 110 KB frame: ~140 us against ~210 us on one thread.
 * - Pipeline (the record batch builder, through src/compression/lz4.ts `compressAhead`): lz4BesideClaim at
 *   4 KiB of records wakes the worker; lz4BesidePublish hands it each block as soon as the builder has
 *   written it (16 KiB, 48 KiB, then every 64 KiB; see PIPE_* below); lz4CompressFrame cuts what is left
 *   into one or two blocks and compresses from the back while the worker goes on from the front. Probed
 *   on the 64 KiB-prefix design this replaces (one 64 KiB block 0 handed over once written): the worker
 *   started ~55-90 us into the batch and, being ~1.3x slower per byte than this thread, often finished
 *   after it (160 against 138 us in the fastest third of 3000 batches).
 *
 * Where blocks are written: in the split, the worker writes into the output itself, at the place its first
 * block would take if every block before it came out at LZ4's bound (`outStart` + 7 + k * (4 +
 * LZ4_compressBound(64 KiB))). This thread's blocks end at or before that place, so the two never overlap;
 * the worker's part is then moved down behind them (one memmove of at most half the frame). The pipeline
 * starts before the output is known, so the worker writes each block into a slot of its JS thread (its
 * napi_env), and the blocks are copied into place in order. The caller's output must have the frame's
 * bound of room (lz4FrameBound, the same as the JS `frameBound`) and is never written past.
 *
 * When the worker is busy (another JS thread, or appendBatch's verification), when there is one block, or
 * when the worker has not begun its part by the time this thread is done with its own (seglog_beside_wait
 * then takes the job back, or end_pipe's detach drops it), every block is compressed here. A pipeline
 * block the worker is late with (its vCPU descheduled mid-block) is taken over and compressed here too,
 * and this thread then detaches from the worker instead of waiting for it (see TAKE_OVER_SLACK_NS and
 * end_pipe): the worker may then go on reading the input after lz4CompressFrame returns, so end_pipe pins
 * it (a napi reference) until the worker's job has returned. What the worker compresses of it then is
 * dropped, so the caller may rewrite those bytes meanwhile; they only must not be freed. In the split
 * nothing calls into JS between the start and the wait, so the input and output cannot move or be
 * detached meanwhile. A pipeline runs while
 * JS runs: its caller keeps every buffer it published from referenced and the published bytes unchanged
 * until lz4CompressFrame or lz4BesideCancel, and an env that ends first waits for it in its cleanup hook.
 */
#include "seglog.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

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
 * The pipeline's blocks (see the header comment): block k ends at PIPE_FIRST_BYTES (16 KiB), then
 * PIPE_SECOND_END (48 KiB), then every 64 KiB; what is left when the input is complete (less than a block)
 * is cut into near-equal blocks of at most PIPE_TAIL_BYTES. Why these sizes, on a 1000 x 100 B batch of
 * JSON-like values (~108 KiB of records, LZ4 ~1.1-1.6 us/KiB on this VM, the records written at ~0.7-1.3
 * us/KiB): a small block 0 starts the worker ~15 us into the encoding instead of ~55-80 (when 64 KiB are
 * written), and a tail cut in two lets the two threads end together. Measured on the benchmark's batch
 * against the 64 KiB-prefix pipeline in one process (60 interleaved rounds of 20 batches, medians of the
 * per-round ratios, three runs each): 1.05-1.10x for repetitive values; 0.91-0.97x for random ones,
 * whose blocks are stored on their sample and cost little to compress, so four blocks' samples and slot
 * copies outweigh the earlier start. Cost in size: blocks of 16 and 32 KiB shrink a little less (LZ4
 * starts each block with no history): 40535 against 40041 bytes (+1.2%) for the repetitive batch;
 * larger batches are mostly 64 KiB blocks.
 */
#define PIPE_FIRST_BYTES (16 * 1024)
#define PIPE_SECOND_END (48 * 1024)
#define PIPE_TAIL_BYTES (32 * 1024)
/*
 * Blocks one pipeline holds (each with a slot of block_room() bytes, ~64 KiB, kept for the JS thread's
 * life): 32 cover 16 + 32 + 30 x 64 KiB, ~1.9 MiB of input, past Kafka's 1 MiB default batch limit. The
 * rest of a larger input is compressed on this thread after the pipeline's blocks.
 */
#define PIPE_BLOCKS_MAX 32
/*
 * How long the worker waits for the next block before it leaves the pipeline (this thread then does the
 * blocks published after): a batch's blocks are published every ~15-80 us while its records are written.
 */
#define PIPE_IDLE_NS 400000

/*
 * Who has a block the worker took from the range: the worker marks it its own before it compresses it,
 * then done; this thread may take over one the worker is late with (see await_block). Each step is one
 * compare-and-swap, so of the two only one writes the block's result.
 */
enum { OWNER_NONE, OWNER_WORKER, OWNER_DONE, OWNER_TAKEN_OVER };

typedef struct {
  const uint8_t *src; /* the buffer the block was published from (JS keeps it referenced) */
  size_t from, to;
  size_t written;     /* bytes it came out as, set by whoever compressed it */
  bool in_output;     /* compressed by lz4CompressFrame into the output (at its bound position), not its slot */
  _Atomic int owner;  /* for a block the worker took: OWNER_* */
  size_t worker_written; /* the worker's result, valid once owner is OWNER_DONE */
} pipe_block;

/*
 * What one JS thread (one napi_env) has on the worker between lz4BesideClaim and the lz4CompressFrame (or
 * lz4BesideCancel) that completes it. The blocks [lo, hi) of `range` are published and not taken yet: the
 * worker takes them from the front (lo + 1), this thread from the back (hi - 1) once the input is complete,
 * each by one compare-and-swap of the pair, so a block is compressed exactly once; publishing raises hi.
 * A block is written into its own slot, since where it lands in the frame depends on the blocks before it.
 */
typedef struct {
  bool claimed;       /* this env holds the worker (seglog_beside_claim) */
  bool posted;        /* the pipeline job (run_pipe) is on the worker */
  pipe_block blocks[PIPE_BLOCKS_MAX];
  uint8_t *slots[PIPE_BLOCKS_MAX];
  _Atomic uint64_t range; /* lo | hi << 32 */
  atomic_bool complete;   /* no block will be published any more */
  size_t count;           /* blocks published (this thread only) */
  size_t published;       /* input bytes they cover */
  const uint8_t *src;     /* the buffer of the latest publish */
  _Atomic uint64_t held_since; /* when the worker began the block it is on */
  _Atomic uint32_t worker_ps;  /* the worker's picoseconds per input byte, a running average */
  size_t ticket;          /* a pipeline this thread detached from (seglog_beside_detach), 0: none */
  napi_ref pinned;        /* the input it still reads then, kept alive until the ticket has ended */
} lz4_env;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t pipe_range(uint32_t lo, uint32_t hi) { return (uint64_t)lo | ((uint64_t)hi << 32); }

static void compress_slot(lz4_env *state, uint32_t k) {
  pipe_block *block = &state->blocks[k];
  block->written = write_blocks(block->src + block->from, block->to - block->from, state->slots[k]);
}

/* Before the worker's first block, its speed is guessed at 2 ns a byte (~1.2-2 on this VM). */
#define WORKER_PS_GUESS 2000
/* Stalls raise the average by at most 1.25x a block; 10x the guess bounds "late" at ~1.3 ms a 64 KiB block. */
#define WORKER_PS_MAX (10 * WORKER_PS_GUESS)

/* Test hook (lz4TestStallWorker): the worker holds each block it takes until this is cleared. */
static atomic_bool test_stall;
static atomic_uint test_stalled; /* blocks held so far */

/* The worker's part of block k, which it took from the range. */
static void worker_block(lz4_env *state, uint32_t k, uint64_t now) {
  pipe_block *block = &state->blocks[k];
  atomic_store(&state->held_since, now); /* before the block is marked: this thread reads it after */
  int none = OWNER_NONE;
  if (!atomic_compare_exchange_strong(&block->owner, &none, OWNER_WORKER)) return; /* taken over meanwhile */
  if (atomic_load(&test_stall)) atomic_fetch_add(&test_stalled, 1);
  /* At most 5 s, so that a test of a caller that waits anyway fails instead of hanging. */
  for (int i = 0; i < 5000 && atomic_load(&test_stall); i++) nanosleep(&(struct timespec){0, 1000000}, NULL);
  size_t bytes = block->to - block->from;
  block->worker_written = write_blocks(block->src + block->from, bytes, state->slots[k]);
  uint64_t took = now_ns() - now;
  if (bytes > 0) {
    /* A block the worker was descheduled in counts as twice the average at most, or one stall would make
     * "late" (await_block) milliseconds for the next several batches. */
    uint64_t ps = took * 1000 / bytes, average = atomic_load(&state->worker_ps);
    uint64_t cap = 2 * (average == 0 ? WORKER_PS_GUESS : average);
    if (ps > cap) ps = cap;
    if (ps > WORKER_PS_MAX) ps = WORKER_PS_MAX;
    atomic_store(&state->worker_ps, (uint32_t)(average == 0 ? ps : (3 * average + ps) / 4));
  }
  int mine = OWNER_WORKER;
  atomic_compare_exchange_strong(&block->owner, &mine, OWNER_DONE); /* fails if taken over: result dropped */
}

/* Room block k takes at most: its size word and LZ4's bound for its bytes. */
static size_t pipe_block_room(const pipe_block *block) { return BLOCK_SIZE_BYTES + (size_t)LZ4_compressBound((int)(block->to - block->from)); }


/*
 * The worker's part: takes published blocks from the front until the input is complete and none is left,
 * or until no block came for PIPE_IDLE_NS. Run here instead (seglog_beside_wait takes back a job the worker
 * never picked up; end_pipe's detach drops it instead) it finds the input complete and nothing left.
 */
static void run_pipe(void *arg) {
  lz4_env *state = arg;
  uint64_t idle_from = now_ns();
  for (;;) {
    uint64_t range = atomic_load(&state->range);
    uint32_t lo = (uint32_t)range, hi = (uint32_t)(range >> 32);
    if (lo < hi) {
      if (atomic_compare_exchange_weak(&state->range, &range, pipe_range(lo + 1, hi))) {
        worker_block(state, lo, now_ns());
        idle_from = now_ns();
      }
      continue;
    }
    if (atomic_load(&state->complete)) {
      if (atomic_load(&state->range) == range) return; /* nothing was published between the two loads */
      continue;
    }
    if (now_ns() - idle_from > PIPE_IDLE_NS) return;
    __asm__ __volatile__("" ::: "memory"); /* a plain spin: no PAUSE, see beside.c */
  }
}

/* Takes the block at the back, if one is left; returns its index or -1. */
static int64_t take_back(lz4_env *state) {
  uint64_t range = atomic_load(&state->range);
  for (;;) {
    uint32_t lo = (uint32_t)range, hi = (uint32_t)(range >> 32);
    if (lo >= hi) return -1;
    if (atomic_compare_exchange_weak(&state->range, &range, pipe_range(lo, hi - 1))) return hi - 1;
  }
}

/* Adds block [state->published, to) of src; false when there is no slot for it. */
static bool publish_block(lz4_env *state, const uint8_t *src, size_t to) {
  size_t k = state->count;
  if (k == PIPE_BLOCKS_MAX) return false;
  if (state->slots[k] == NULL && (state->slots[k] = malloc(block_room())) == NULL) return false;
  pipe_block *block = &state->blocks[k];
  block->src = src;
  block->from = state->published;
  block->to = to;
  block->in_output = false;
  atomic_store(&block->owner, OWNER_NONE);
  state->published = to;
  state->count = k + 1;
  uint64_t range = atomic_load(&state->range);
  while (!atomic_compare_exchange_weak(&state->range, &range, pipe_range((uint32_t)range, (uint32_t)(k + 1)))) {
  }
  return true;
}

/* Where block `count` of the pipeline ends (16 KiB, 48 KiB, then every 64 KiB). */
static size_t pipe_boundary(size_t count) { return count == 0 ? PIPE_FIRST_BYTES : PIPE_SECOND_END + (count - 1) * BLOCK_BYTES; }

/* The call's input, which end_pipe pins (keeps from being collected) while a worker it left still reads it. */
typedef struct {
  napi_env env;
  napi_value value;
  const uint8_t *data;
} pin_target;

/*
 * Where block k ends in `blocks` when every block up to it comes out at its bound; past `room` means it
 * cannot be compressed in place.
 */
static size_t bound_end(const lz4_env *state, uint32_t k) {
  size_t at = 0;
  for (uint32_t i = 0; i <= k; i++) at += pipe_block_room(&state->blocks[i]);
  return at;
}

/* Compresses block k here into its bound place in `blocks` (see bound_end), which the caller checked. */
static void compress_in_place(lz4_env *state, uint32_t k, uint8_t *blocks) {
  pipe_block *block = &state->blocks[k];
  block->written = write_blocks(block->src + block->from, block->to - block->from, blocks + bound_end(state, k) - pipe_block_room(block));
  block->in_output = true;
}

/*
 * A block the worker took can be taken over when this thread can pin the memory the worker still reads (the
 * call's own input) and compress the block in place (its slot stays the worker's).
 */
static bool can_take_over(const lz4_env *state, uint32_t k, size_t room, const pin_target *pin) {
  return pin != NULL && state->blocks[k].src == pin->data && bound_end(state, k) <= room;
}

/*
 * Why this thread takes over a block the worker is late with: the worker's vCPU can be descheduled by the
 * hypervisor or shared with V8's GC threads for milliseconds, mid-block, and the batch then waited that long
 * (traced in the encode benchmark: a 16 KiB block taking 8 ms; ~3-12% of a run spent waiting >20 us). Late
 * is twice the block's time at the worker's own measured speed, plus TAKE_OVER_SLACK_NS: a worker that is
 * merely slow finishes first, and a stalled one costs at most that wait plus this thread's own compression
 * of the block (~30-50 us for a 32 KiB block), not the stall.
 */
#define TAKE_OVER_SLACK_NS 20000
/*
 * How long this thread waits for the worker's job to return once every block is done (it only has to see
 * the range empty) before it detaches from it instead: a detached job holds the worker until it returns,
 * so the next batch would go without the pipeline.
 */
#define DETACH_AFTER_NS 50000

/* Waits for the worker's block k, or takes it over once the worker is late (above); true if taken over. */
static bool await_block(lz4_env *state, uint32_t k, uint8_t *blocks) {
  pipe_block *block = &state->blocks[k];
  uint64_t from = now_ns();
  for (unsigned i = 1;; i++) {
    int owner = atomic_load(&block->owner);
    if (owner == OWNER_DONE) {
      block->written = block->worker_written;
      block->in_output = false;
      return false;
    }
    __asm__ __volatile__("" ::: "memory"); /* a plain spin: no PAUSE, see beside.c */
    if (i % 64 != 0) continue;
    uint64_t since = owner == OWNER_WORKER ? atomic_load(&state->held_since) : from;
    uint64_t ps = atomic_load(&state->worker_ps);
    uint64_t late = 2 * (block->to - block->from) * (ps == 0 ? WORKER_PS_GUESS : ps) / 1000 + TAKE_OVER_SLACK_NS;
    if (now_ns() > since + late && atomic_compare_exchange_strong(&block->owner, &owner, OWNER_TAKEN_OVER)) {
      compress_in_place(state, k, blocks);
      return true;
    }
  }
}

/*
 * Ends the pipeline: nothing more is published, every block is compressed (the ones this thread takes
 * straight into `blocks`, in place when that fits in `room` bytes, else into its slot; NULL: dropped), and
 * the worker is given back: at once if its job has returned, else detached from (it returns by itself;
 * the input stays pinned until then if it is still on a block taken over).
 */
static void end_pipe(lz4_env *state, uint8_t *blocks, size_t room, const pin_target *pin) {
  atomic_store(&state->complete, true);
  for (int64_t k; (k = take_back(state)) >= 0;) {
    if (blocks == NULL) continue;
    if (bound_end(state, (uint32_t)k) <= room) {
      compress_in_place(state, (uint32_t)k, blocks);
    } else {
      state->blocks[k].in_output = false;
      compress_slot(state, (uint32_t)k);
    }
  }
  uint32_t worker_blocks = blocks == NULL ? 0 : (uint32_t)atomic_load(&state->range); /* [0, lo): the worker's */
  bool awaitable = blocks != NULL;
  for (uint32_t k = 0; k < worker_blocks && awaitable; k++) awaitable = can_take_over(state, k, room, pin);
  if (!awaitable) {
    seglog_beside_wait(); /* every block the worker took is done when its job has returned */
    for (uint32_t k = 0; k < worker_blocks; k++) {
      state->blocks[k].written = state->blocks[k].worker_written;
      state->blocks[k].in_output = false;
    }
  } else {
    bool taken_over = false;
    for (uint32_t k = 0; k < worker_blocks; k++) taken_over |= await_block(state, k, blocks);
    /* No wait when a block was taken over (the worker is stalled) or the worker took none (it may never have
     * picked the job up, and detach drops it then). */
    bool worth_waiting = !taken_over && worker_blocks > 0;
    for (uint64_t until = worth_waiting ? now_ns() + DETACH_AFTER_NS : 0; !seglog_beside_done() && now_ns() < until;) {
      __asm__ __volatile__("" ::: "memory");
    }
    if (seglog_beside_done()) {
      seglog_beside_wait(); /* returns at once: gives the worker back */
    } else {
      state->ticket = seglog_beside_detach();
      if (taken_over && state->ticket != 0 && napi_create_reference(pin->env, pin->value, 1, &state->pinned) != napi_ok) {
        while (!seglog_beside_ended(state->ticket)) sched_yield(); /* cannot pin: wait after all */
      }
    }
  }
  state->posted = false;
  state->claimed = false;
}

/* Lets go of the input a detached pipeline read, once its job has returned. */
static void unpin(napi_env env, lz4_env *state) {
  if (state->ticket == 0 || !seglog_beside_ended(state->ticket)) return;
  if (state->pinned != NULL) napi_delete_reference(env, state->pinned);
  state->pinned = NULL;
  state->ticket = 0;
}

static void reset_pipe(lz4_env *state) {
  state->count = 0;
  state->published = 0;
  state->src = NULL;
  atomic_store(&state->range, 0);
  /* `complete` stays set: a detached job may still look at it (it is cleared by the next claim). */
}

/* Drops a pipeline or a claim, so that nothing of this env runs beside. */
static void settle(lz4_env *state) {
  if (state->posted) end_pipe(state, NULL, 0, NULL);
  else if (state->claimed) seglog_beside_release();
  state->posted = false;
  state->claimed = false;
  reset_pipe(state);
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
 * The blocks of src[0, n) when a pipeline over this input is running: the rest is published (cut into
 * blocks of at most PIPE_TAIL_BYTES), this thread compresses from the back while the worker goes on from
 * the front, and the slots are copied out in order. An input larger than the pipeline's blocks cover is
 * finished here. Room (`room` bytes at `blocks`): each block comes out at most 4 bytes larger than its
 * input (a stored block), and a frame's bound gives every 64 KiB ~270 bytes more than that, so the blocks
 * and the rest fit; a block compressed into the output is checked against `room` (end_pipe).
 */
static size_t blocks_after_pipe(lz4_env *state, const uint8_t *src, size_t n, uint8_t *blocks, size_t room, const pin_target *pin) {
  while (n - state->published >= BLOCK_BYTES && publish_block(state, src, state->published + BLOCK_BYTES)) {
  }
  size_t base = state->published, rest = n - base;
  if (rest < BLOCK_BYTES) {
    size_t parts = (rest + PIPE_TAIL_BYTES - 1) / PIPE_TAIL_BYTES;
    for (size_t i = 1; i <= parts && publish_block(state, src, base + rest * i / parts); i++) {
    }
  }
  end_pipe(state, blocks, room, pin);
  /* In order: block k moves to `written`, at or before its bound place, so it never reaches block k + 1's. */
  size_t written = 0, at = 0;
  for (size_t k = 0; k < state->count; k++) {
    const pipe_block *block = &state->blocks[k];
    memmove(blocks + written, block->in_output ? blocks + at : state->slots[k], block->written);
    written += block->written;
    at += pipe_block_room(block);
  }
  size_t covered = state->published;
  reset_pipe(state);
  return written + (covered < n ? write_blocks(src + covered, n - covered, blocks + written) : 0);
}

/* Writes the frame of src[0, n) at out, which has seglog_lz4_frame_bound(n) bytes; returns its length. */
static size_t write_frame(lz4_env *state, const uint8_t *src, size_t n, uint8_t *out, bool legacy, const pin_target *pin) {
  write_u32le(out, FRAME_MAGIC);
  out[4] = KAFKA_FLG;
  out[5] = KAFKA_BD;
  out[6] = header_checksum(out, legacy);
  uint8_t *blocks = out + HEADER_BYTES;
  if (state->posted && (state->src != src || n < state->published)) settle(state); /* blocks of other bytes */
  size_t written;
  if (state->posted) {
    written = blocks_after_pipe(state, src, n, blocks, seglog_lz4_frame_bound(n) - HEADER_BYTES - END_MARK_BYTES, pin);
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
  lz4_env *state = env_state(env);
  unpin(env, state);
  pin_target pin = {.env = env, .value = argv[0], .data = input};
  napi_create_double(env, (double)(out_start + write_frame(state, input + start, n, out, legacy, &pin)), &result);
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

/* lz4BesideClaim() -> boolean: takes the worker and wakes it ahead of lz4BesidePublish (see beside.c). */
static napi_value js_lz4_beside_claim(napi_env env, napi_callback_info info) {
  (void)info;
  lz4_env *state = env_state(env);
  if (!state->claimed) {
    unpin(env, state);
    /* Fails while a pipeline this env detached from still runs: the worker gives itself back after it. */
    state->claimed = seglog_beside_claim();
    if (state->claimed) {
      unpin(env, state); /* the detached job has ended (it gave the worker back), perhaps just now */
      atomic_store(&state->complete, false);
    }
  }
  napi_value result;
  napi_get_boolean(env, state->claimed, &result);
  return result;
}

/*
 * lz4BesidePublish(input, end) -> number: input[0, end) is final. Publishes the pipeline's blocks that end
 * by `end` (the first call, after a claim, starts the pipeline on the worker) and returns where the next
 * block ends, the `end` to call back at; -1 when there is no pipeline (no claim, the worker is not free,
 * or the blocks are all used): lz4CompressFrame then compresses the rest. Until lz4CompressFrame of this
 * same input (same memory) or lz4BesideCancel, every buffer published stays referenced and its published
 * bytes unchanged; a buffer that grew may be published from (its bytes up to the last publish equal).
 */
static napi_value js_lz4_beside_publish(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!seglog_args(env, info, 2, argv)) return NULL;
  const uint8_t *input;
  size_t length, end;
  if (!seglog_bytes_arg(env, argv[0], "lz4BesidePublish: input must be a Uint8Array", &input, &length)) return NULL;
  lz4_env *state = env_state(env);
  if (!seglog_integer_arg(env, argv[1], SIZE_MAX, length, &end) || end > length || end < state->published) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4BesidePublish: end must be an integer from the bytes already published to the input's length");
    return NULL;
  }
  double next = -1;
  if (state->claimed) {
    while (pipe_boundary(state->count) <= end && publish_block(state, input, pipe_boundary(state->count))) {
    }
    state->src = input;
    if (!state->posted && state->count > 0) {
      seglog_beside_post_lingering(run_pipe, state, true);
      state->posted = true;
    }
    if (state->count < PIPE_BLOCKS_MAX) next = (double)pipe_boundary(state->count);
  }
  napi_value result;
  napi_create_double(env, next, &result);
  return result;
}

/* lz4BesideCancel(): ends a pipeline unfinished (its blocks dropped) and gives the worker back (a batch abandoned midway). */
static napi_value js_lz4_beside_cancel(napi_env env, napi_callback_info info) {
  (void)info;
  lz4_env *state = env_state(env);
  settle(state);
  unpin(env, state);
  return NULL;
}

/*
 * lz4TestStallWorker(on?) -> number: test hook, the worker holds the blocks it takes while on (see
 * test_stall; a boolean sets it, undefined leaves it); returns how many blocks it has held so far.
 */
static napi_value js_lz4_test_stall_worker(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bool on = false;
  if (!seglog_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_bool(env, argv[0], &on) == napi_ok) atomic_store(&test_stall, on);
  napi_value result;
  napi_create_uint32(env, atomic_load(&test_stalled), &result);
  return result;
}

/* lz4TestPinned() -> boolean: test hook, whether an input is pinned for a detached pipeline. */
static napi_value js_lz4_test_pinned(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, env_state(env)->pinned != NULL, &result);
  return result;
}

/* At the env's end (process exit, worker_threads termination): nothing may still read its memory. */
static void env_cleanup(void *data) {
  lz4_env *state = data;
  settle(state);
  /* A detached pipeline's worker may still write a slot; its pinned input goes with the env. */
  while (!seglog_beside_ended(state->ticket)) sched_yield();
  for (size_t k = 0; k < PIPE_BLOCKS_MAX; k++) free(state->slots[k]);
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
  define(env, exports, "lz4BesidePublish", js_lz4_beside_publish);
  define(env, exports, "lz4BesideCancel", js_lz4_beside_cancel);
  define(env, exports, "lz4TestStallWorker", js_lz4_test_stall_worker);
  define(env, exports, "lz4TestPinned", js_lz4_test_pinned);
}
