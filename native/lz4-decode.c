/*
 * `lz4DecompressFrame(input, maxBytes) -> Uint8Array | undefined`: the fast path of the LZ4 frame reader in
 * src/compression/lz4.ts, for the frames Kafka's writers produce:
 *
 *   04 22 4D 18  FLG  BD  HC   blocks: size int32 LE (high bit = stored) . data   00 00 00 00
 *
 * FLG version 01, independent blocks, no block checksum, no content size, no dictionary, with or without
 * the content checksum (Kafka, librdkafka and seglog write none; node-lz4's encoder, which KafkaJS's lz4
 * codec uses, writes one), BD a block maximum of 64 KiB to 4 MiB, HC the standard header checksum,
 * nothing after the end mark or the content checksum. One call walks the block
 * headers, allocates the output at the sum of the blocks' bounds (capped at maxBytes) and decompresses
 * every block into it, the same two passes as the JS reader.
 *
 * Anything else returns undefined and the JS reader runs: other flags, the pre-0.10 header-checksum quirk
 * of magic v0, a block past the frame or its declared maximum, a corrupt block, output past maxBytes,
 * bytes after the frame. That reader accepts what it accepts and names what is wrong and where, so the
 * errors (codes, positions) stay in one place and this file only has to be right about the frames it
 * takes: a fall-back costs a second parse, on input that is bad or rare.
 *
 * Why: with 1000 x 100 B records in a frame of four blocks, the JS reader's per-block work (block objects,
 * Buffer views, four calls into node-lz4's binding) measured ~5-10 us per batch above the decompression
 * itself, on a read that takes ~130-250 us in all.
 *
 * The result is a plain Uint8Array (what the record parser indexes) over a Buffer's memory, of exactly the
 * decompressed length; when the bound is more than twice that and above 256 KiB (a frame of large blocks
 * holding little), the bytes are copied into a buffer of their size so the bound is not pinned behind the
 * records' views: the JS reader's rule, whose reason is written there.
 */
#include "seglog.h"

#include <stdbool.h>
#include <string.h>

#include "lz4.h"
#include "xxhash.h"

#define FRAME_MAGIC 0x184D2204u
#define HEADER_BYTES 7
#define BLOCK_SIZE_BYTES 4
#define END_MARK_BYTES 4
#define UNCOMPRESSED_FLAG 0x80000000u
/* FLG: version 01 and independent blocks (0x60), optionally the content checksum (0x04). */
#define FLG_KAFKA 0x60
#define FLG_CONTENT_CHECKSUM 0x04
#define CHECKSUM_BYTES 4
/* BD: the block maximum id in bits 4-6 (4: 64 KiB ... 7: 4 MiB), every other bit reserved. */
#define BD_ID_SHIFT 4
#define BD_ID_MIN 4
#define BD_ID_MAX 7
/* LZ4's worst-case expansion: one byte of input can stand for at most 255 bytes of output. */
#define EXPANSION_MAX 255
/* The JS reader's copy rule (src/compression/lz4.ts decompressFrame): copy out past this bound. */
#define PIN_BYTES_MAX (256 * 1024)

static uint32_t read_u32le(const uint8_t *at) {
  return (uint32_t)at[0] | ((uint32_t)at[1] << 8) | ((uint32_t)at[2] << 16) | ((uint32_t)at[3] << 24);
}

/* The frame's block maximum, or 0 when the header is not one this file takes. */
static size_t header_block_max(const uint8_t *in, size_t n) {
  if (n < HEADER_BYTES || read_u32le(in) != FRAME_MAGIC) return 0;
  uint8_t flg = in[4], bd = in[5];
  if ((flg & ~FLG_CONTENT_CHECKSUM) != FLG_KAFKA) return 0;
  unsigned id = bd >> BD_ID_SHIFT;
  if ((bd & 0x8F) != 0 || id < BD_ID_MIN || id > BD_ID_MAX) return 0;
  if (((XXH32(in + 4, 2, 0) >> 8) & 0xFF) != in[6]) return 0;
  return (size_t)1 << (8 + 2 * id);
}

/*
 * Walks the block headers: the output bound (the sum of each block's most output), or -1 when a block
 * runs past the frame or its maximum, the end mark (and content checksum) is missing, or bytes follow.
 */
static double blocks_bound(const uint8_t *in, size_t n, size_t block_max, size_t trailer) {
  size_t at = HEADER_BYTES;
  double bound = 0;
  for (;;) {
    if (n - at < BLOCK_SIZE_BYTES) return -1;
    uint32_t word = read_u32le(in + at);
    at += BLOCK_SIZE_BYTES;
    if (word == 0) return n - at == trailer ? bound : -1;
    size_t size = word & ~UNCOMPRESSED_FLAG;
    if (size > block_max || size > n - at) return -1;
    bool stored = (word & UNCOMPRESSED_FLAG) != 0;
    double most = stored ? (double)size : (double)size * EXPANSION_MAX;
    bound += most < (double)block_max ? most : (double)block_max;
    at += size;
  }
}

/* Decompresses every block into out[0, capacity); the output's length, or -1 (corrupt, or past capacity). */
static double decompress_blocks(const uint8_t *in, size_t block_max, uint8_t *out, size_t capacity) {
  size_t at = HEADER_BYTES, total = 0;
  for (;;) {
    uint32_t word = read_u32le(in + at);
    at += BLOCK_SIZE_BYTES;
    if (word == 0) return (double)total;
    size_t size = word & ~UNCOMPRESSED_FLAG, room = capacity - total;
    if (room > block_max) room = block_max;
    if ((word & UNCOMPRESSED_FLAG) != 0) {
      if (size > room) return -1;
      memcpy(out + total, in + at, size);
      total += size;
    } else {
      int got = LZ4_decompress_safe((const char *)in + at, (char *)out + total, (int)size, (int)room);
      if (got < 0) return -1;
      total += (size_t)got;
    }
    at += size;
  }
}

/* A plain Uint8Array of `length` bytes over the memory of `buffer` (a Buffer from napi_create_buffer*). */
static napi_value plain_view(napi_env env, napi_value buffer, size_t length) {
  napi_value array_buffer, view;
  size_t offset;
  if (napi_get_typedarray_info(env, buffer, NULL, NULL, NULL, &array_buffer, &offset) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, length, array_buffer, offset, &view) != napi_ok) {
    return NULL;
  }
  return view;
}

/*
 * Undefined, with any exception N-API left pending cleared: an allocation that failed (a bound past what
 * Node allocates) is left to the JS reader, which reports it as the codec's own error.
 */
static napi_value js_reader_instead(napi_env env) {
  bool pending = false;
  napi_value ignored;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
  napi_get_undefined(env, &ignored);
  return ignored;
}

static napi_value js_lz4_decompress_frame(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!seglog_args(env, info, 2, argv)) return NULL;
  const uint8_t *in;
  size_t n, max_bytes;
  if (!seglog_bytes_arg(env, argv[0], "lz4DecompressFrame: input must be a Uint8Array", &in, &n)) return NULL;
  napi_valuetype type;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_number ||
      !seglog_integer_arg(env, argv[1], 0, (size_t)1 << 53, &max_bytes)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "lz4DecompressFrame: maxBytes must be a safe integer >= 0");
    return NULL;
  }
  size_t block_max = header_block_max(in, n);
  bool content_checksum = block_max != 0 && (in[4] & FLG_CONTENT_CHECKSUM) != 0;
  double bound = block_max == 0 ? -1 : blocks_bound(in, n, block_max, content_checksum ? CHECKSUM_BYTES : 0);
  if (bound < 0) return js_reader_instead(env);
  size_t capacity = bound < (double)max_bytes ? (size_t)bound : max_bytes;
  void *data;
  napi_value buffer;
  if (napi_create_buffer(env, capacity, &data, &buffer) != napi_ok) return js_reader_instead(env);
  double total = decompress_blocks(in, block_max, data, capacity);
  if (total < 0) return js_reader_instead(env);
  if (content_checksum && XXH32(data, (size_t)total, 0) != read_u32le(in + n - CHECKSUM_BYTES)) return js_reader_instead(env);
  if (total * 2 < (double)capacity && capacity > PIN_BYTES_MAX) {
    void *copy;
    if (napi_create_buffer_copy(env, (size_t)total, data, &copy, &buffer) != napi_ok) return js_reader_instead(env);
  }
  napi_value view = plain_view(env, buffer, (size_t)total);
  return view != NULL ? view : js_reader_instead(env);
}

void seglog_lz4_decode_init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "lz4DecompressFrame", NAPI_AUTO_LENGTH, js_lz4_decompress_frame, NULL, &fn) == napi_ok) {
    napi_set_named_property(env, exports, "lz4DecompressFrame", fn);
  }
}
