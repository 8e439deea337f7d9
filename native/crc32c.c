/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's v2 record batches, as a
 * Node-API addon: `crc32c(bytes, start, end) -> uint32`, the standard CRC (initial value and final XOR
 * 0xFFFFFFFF) of bytes[start, end).
 *
 * Why our own: one CRC covers every byte of every batch that is appended, read or recovered, and the
 * npm packages measured here reach ~3.6-4 GB/s (@node-rs/crc32) and ~0.6 GB/s (crc-32 in JS). Three
 * implementations, the best one the CPU and OS support chosen once at load:
 *
 * avx512-vpclmul: carry-less-multiply folding, 256 bytes (four 512-bit registers of four 128-bit lanes)
 * per step. The CRC is linear: a message M's raw CRC is M(x) * x^32 mod P, so any 128-bit block A that
 * ends D bits before the end of a later block B can be replaced by a 96-bit value congruent to
 * A(x) * x^D, XORed into B, without changing the CRC. With A = A_hi(x) * x^64 + A_lo(x) (64-bit halves):
 *
 *   A(x) * x^D  =  A_hi * x^(D+64)  +  A_lo * x^D  ==  clmul(A_hi, x^(D+64) mod P) ^ clmul(A_lo, x^D mod P)
 *
 * Two PCLMULQDQs and a 3-way XOR per 128 bits, no dependency between the 16 lanes, so the loop runs near
 * the load and multiplier throughput (~2x the `crc32` instruction's 8 bytes a cycle). The folded 128-bit
 * remainder and the tail (< 64 bytes) are finished with `crc32` instructions, which do the final 64 ->
 * 32 bit reduction for us (no Barrett step). The constants are computed at load (fold_constants).
 * Loads are unaligned (any start is as fast: a 64-byte load that splits a cache line still leaves the
 * multiplier the bottleneck); lengths are size_t throughout, so any length works. Eight registers in
 * flight measured no faster than four (the loop is multiplier-bound, not latency-bound), and a 128-bit
 * PCLMULQDQ variant for CPUs without AVX-512 measured equal to the three `crc32` chains (both are limited
 * to ~8 bytes a cycle), so neither is here.
 *
 * sse42: the x86 `crc32` instruction has a latency of 3 cycles and a throughput of 1 per cycle, so one
 * dependent chain of 8-byte steps runs at a third of what the core can do. Three independent chains over
 * three adjacent lanes of a chunk keep it busy; the lanes' registers are then combined with the linearity
 * of CRCs:
 *
 *   crc(state S, lane bytes L)  =  shift(S)  XOR  crc(0, L)      shift = "feed LANE zero bytes"
 *   chunk [A | B | C] from state S:  shift(shift(crc(S, A)) XOR crc(0, B)) XOR crc(0, C)
 *
 * `shift` is linear over GF(2)^32, so it is four 256-entry tables (one per byte of the register), built
 * once from the images of the 32 unit vectors. Two lane sizes: long lanes for batches (few combines per
 * KiB), short lanes so that buffers of a few hundred bytes use three chains too. It also serves inputs
 * below VPCLMUL_MIN and the tail of the folding path.
 *
 * table: without SSE4.2 (another architecture, an old x86) the addon reports `hardware: false` and
 * computes with slicing-by-8 tables; the JS side then prefers other backends (see src/record/crc32c.ts).
 *
 * The folding code is compiled for AVX-512 by per-function target attributes only (binding.gyp has no
 * -m flags), so the addon still loads on any x86-64; it is only called after CPUID and XGETBV said so.
 * `crc32cImpl` says which one runs; SEGLOG_CRC32C=sse42|table (environment, read at load) caps the
 * choice, and the hidden 4th argument of crc32c() picks one per call, so tests check every path.
 */
#include "seglog.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SEGLOG_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#define POLY 0x82F63B78u
#define LONG_LANE 2048
#define SHORT_LANE 128
/*
 * The folding path starts by loading 256 bytes, so it needs at least that; measured on this Ice Lake
 * (C loop, warm), it beats the three chains from there on: 256 B ~28 vs ~20 GB/s, 512 B ~35 vs ~18,
 * 110 KB ~50 vs ~23. Below, its fixed cost (combining 16 lanes, `crc32` over the remainder) is not repaid.
 */
#define VPCLMUL_MIN 256

/* Backends, worst first: `impl` is the best one usable here, and a call may ask for any lower one. */
enum impl { IMPL_TABLE, IMPL_SSE42, IMPL_VPCLMUL, IMPL_COUNT };
static const char *const impl_names[IMPL_COUNT] = {"table", "sse42", "avx512-vpclmul"};

static uint32_t slice_table[8][256];
static uint32_t long_shift[4][256];
static uint32_t short_shift[4][256];
static enum impl best_impl = IMPL_TABLE; /* what the CPU and OS support */
static enum impl impl = IMPL_TABLE;      /* what is used: best_impl, capped by SEGLOG_CRC32C */

/* Raw register update, one byte at a time: the definition every faster path must agree with. */
static uint32_t update_bytewise(uint32_t crc, const uint8_t *p, size_t n) {
  while (n--) crc = slice_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

static void build_slice_tables(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (POLY & (0u - (c & 1)));
    slice_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++) slice_table[t][i] = slice_table[0][slice_table[t - 1][i] & 0xff] ^ (slice_table[t - 1][i] >> 8);
}

/* The tables of shift = "feed `lane` zero bytes to the register", from the 32 unit vectors' images. */
static void build_shift_tables(uint32_t table[4][256], size_t lane) {
  static const uint8_t zeros[LONG_LANE];
  uint32_t image[32];
  for (int bit = 0; bit < 32; bit++) image[bit] = update_bytewise(1u << bit, zeros, lane);
  for (int byte = 0; byte < 4; byte++)
    for (uint32_t v = 0; v < 256; v++) {
      uint32_t x = 0;
      for (int j = 0; j < 8; j++)
        if (v & (1u << j)) x ^= image[byte * 8 + j];
      table[byte][v] = x;
    }
}

static inline uint32_t shift(const uint32_t table[4][256], uint32_t crc) {
  return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^ table[3][crc >> 24];
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8); /* unaligned-safe; x86 and every little-endian target compile it to one load */
  return v;
}

static uint32_t update_software(uint32_t crc, const uint8_t *p, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (n >= 8) {
    uint64_t v = load64(p) ^ crc;
    crc = slice_table[7][v & 0xff] ^ slice_table[6][(v >> 8) & 0xff] ^ slice_table[5][(v >> 16) & 0xff] ^
          slice_table[4][(v >> 24) & 0xff] ^ slice_table[3][(v >> 32) & 0xff] ^ slice_table[2][(v >> 40) & 0xff] ^
          slice_table[1][(v >> 48) & 0xff] ^ slice_table[0][v >> 56];
    p += 8;
    n -= 8;
  }
#endif
  return update_bytewise(crc, p, n);
}

#ifdef SEGLOG_X86
__attribute__((target("sse4.2"))) static uint32_t lanes3(uint32_t crc, const uint8_t *p, size_t lane,
                                                         const uint32_t table[4][256]) {
  uint64_t a = crc, b = 0, c = 0;
  const uint8_t *pb = p + lane, *pc = p + 2 * lane;
  for (size_t i = 0; i < lane; i += 8) {
    a = _mm_crc32_u64(a, load64(p + i));
    b = _mm_crc32_u64(b, load64(pb + i));
    c = _mm_crc32_u64(c, load64(pc + i));
  }
  return shift(table, shift(table, (uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
}

__attribute__((target("sse4.2"))) static uint32_t update_hardware(uint32_t crc, const uint8_t *p, size_t n) {
  while (n >= 3 * LONG_LANE) {
    crc = lanes3(crc, p, LONG_LANE, long_shift);
    p += 3 * LONG_LANE;
    n -= 3 * LONG_LANE;
  }
  while (n >= 3 * SHORT_LANE) {
    crc = lanes3(crc, p, SHORT_LANE, short_shift);
    p += 3 * SHORT_LANE;
    n -= 3 * SHORT_LANE;
  }
  uint64_t c = crc;
  while (n >= 8) {
    c = _mm_crc32_u64(c, load64(p));
    p += 8;
    n -= 8;
  }
  crc = (uint32_t)c;
  while (n--) crc = _mm_crc32_u8(crc, *p++);
  return crc;
}

/*
 * fold_k[i]: the multipliers that move a 128-bit block 16 * i bytes (D = 128 * i bits) forward, i = 1..16.
 *
 * Bit layout (reflected CRC): a block loaded little-endian holds the coefficient of x^(127 - j) in bit j,
 * so its low quadword is A_hi (the first bytes, highest degree) and its high quadword A_lo. PCLMULQDQ of
 * two such reflected operands yields the product reflected into 127 bits, i.e. one degree short of the
 * 128-bit layout; a constant stored as K'(x) = x^(k-1) mod P, reflected in 32 bits and shifted left 32
 * (so its bit j holds K'[63 - j]), makes the product land as A * x^k in the 128-bit layout. Hence:
 *
 *   lo = reflect32(x^(D+63) mod P) << 32     (multiplies A_hi by x^(D+64))
 *   hi = reflect32(x^(D-1)  mod P) << 32     (multiplies A_lo by x^D)
 *
 * Each product has degree < 96, so it fits the 128-bit block it is XORed into.
 */
typedef struct {
  uint64_t lo, hi;
} fold_pair;
#define FOLD_MAX 16
static fold_pair fold_k[FOLD_MAX + 1];

/* x^k mod P, reflected (bit 31 - i holds the coefficient of x^i): x^0 is bit 31, times x is one shift. */
static uint32_t xpow_mod(unsigned k) {
  uint32_t r = 0x80000000u;
  while (k--) r = (r >> 1) ^ (POLY & (0u - (r & 1)));
  return r;
}

static void fold_constants(void) {
  for (unsigned i = 1; i <= FOLD_MAX; i++) {
    unsigned d = 128 * i;
    fold_k[i].lo = (uint64_t)xpow_mod(d + 63) << 32;
    fold_k[i].hi = (uint64_t)xpow_mod(d - 1) << 32;
  }
}

#define VPCLMUL_TARGET __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))

/* fold_k[i] in each of the four 128-bit lanes. */
VPCLMUL_TARGET static inline __m512i k512(int i) {
  return _mm512_broadcast_i32x4(_mm_set_epi64x((long long)fold_k[i].hi, (long long)fold_k[i].lo));
}

/* Each 128-bit lane of x moved forward by k's distance, XORed into the same lane of `into`. */
VPCLMUL_TARGET static inline __m512i fold512(__m512i x, __m512i k, __m512i into) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11), into, 0x96);
}

/*
 * n >= 256. Four registers x0..x3 hold 256 consecutive bytes (16 lanes); each step folds all of them
 * 256 bytes forward into the next 256. Then x0..x2 are folded into x3, x3 steps 64 bytes at a time, its
 * four lanes are folded into one, and `crc32` instructions finish that remainder and the < 64-byte tail.
 * The starting state enters as an XOR into the first 4 bytes (a CRC register is a prefix of the message).
 */
VPCLMUL_TARGET static uint32_t update_vpclmul(uint32_t crc, const uint8_t *p, size_t n) {
  __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_set_epi64(0, 0, 0, 0, 0, 0, 0, crc));
  __m512i x1 = _mm512_loadu_si512(p + 64), x2 = _mm512_loadu_si512(p + 128), x3 = _mm512_loadu_si512(p + 192);
  p += 256;
  n -= 256;
  const __m512i k256 = k512(16);
  while (n >= 256) {
    x0 = fold512(x0, k256, _mm512_loadu_si512(p));
    x1 = fold512(x1, k256, _mm512_loadu_si512(p + 64));
    x2 = fold512(x2, k256, _mm512_loadu_si512(p + 128));
    x3 = fold512(x3, k256, _mm512_loadu_si512(p + 192));
    p += 256;
    n -= 256;
  }
  const __m512i k64 = k512(4);
  x3 = fold512(x0, k512(12), fold512(x1, k512(8), fold512(x2, k64, x3)));
  while (n >= 64) {
    x3 = fold512(x3, k64, _mm512_loadu_si512(p));
    p += 64;
    n -= 64;
  }
  /* Lanes 0, 1, 2 are 48, 32, 16 bytes before lane 3: fold each by its distance (lane 3 by nothing). */
  const __m512i kl = _mm512_set_epi64(0, 0, (long long)fold_k[1].hi, (long long)fold_k[1].lo, (long long)fold_k[2].hi,
                                      (long long)fold_k[2].lo, (long long)fold_k[3].hi, (long long)fold_k[3].lo);
  __m512i t = fold512(x3, kl, _mm512_maskz_mov_epi64(0xC0, x3));
  __m256i h = _mm256_xor_si256(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
  __m128i v = _mm_xor_si128(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  uint64_t c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(v));
  c = _mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(v, 1));
  return update_hardware((uint32_t)c, p, n);
}

/* CPUID says AVX512F and VPCLMULQDQ, and XGETBV says the OS saves SSE, AVX and all ZMM state. */
static int cpu_has_vpclmul(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_PCLMUL)) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX512F) || !(c & (1u << 10))) return 0;
  uint32_t xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0)); /* no -mxsave needed for _xgetbv */
  const uint32_t need = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7); /* XMM YMM k ZMM0-15 ZMM16-31 */
  return (xcr0_lo & need) == need;
}
#endif

/* The register after `state` has taken in p[0, n) (no initial value, no final XOR). */
static uint32_t update(uint32_t state, const uint8_t *p, size_t n, enum impl use) {
#ifdef SEGLOG_X86
  if (use == IMPL_VPCLMUL && n >= VPCLMUL_MIN) return update_vpclmul(state, p, n);
  if (use >= IMPL_SSE42) return update_hardware(state, p, n);
#endif
  return update_software(state, p, n);
}

static uint32_t crc32c(const uint8_t *p, size_t n, enum impl use) { return update(0xFFFFFFFFu, p, n, use) ^ 0xFFFFFFFFu; }

uint32_t seglog_crc32c(const uint8_t *p, size_t n) { return crc32c(p, n, impl); }

uint32_t seglog_crc32c_update(uint32_t state, const uint8_t *p, size_t n) { return update(state, p, n, impl); }

/* The 4th argument of crc32c(): absent, true ("table", kept for old callers) or a backend's name. */
static int impl_arg(napi_env env, napi_value value, enum impl *out) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  *out = impl;
  if (type == napi_undefined) return 1;
  if (type == napi_boolean) {
    bool software = false;
    napi_get_value_bool(env, value, &software);
    if (software) *out = IMPL_TABLE;
    return 1;
  }
  char name[32];
  size_t length;
  if (type != napi_string || napi_get_value_string_utf8(env, value, name, sizeof name, &length) != napi_ok) return 0;
  for (int i = 0; i <= (int)best_impl; i++)
    if (strcmp(name, impl_names[i]) == 0) {
      *out = (enum impl)i;
      return 1;
    }
  return 0;
}

/* crc32c(bytes: Uint8Array, start?: number, end?: number, impl?: boolean | string) -> number */
static napi_value js_crc32c(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!seglog_args(env, info, 4, argv)) return NULL;
  const uint8_t *data;
  size_t length;
  if (!seglog_bytes_arg(env, argv[0], "crc32c: bytes must be a Uint8Array", &data, &length)) return NULL;
  size_t start, end;
  if (!seglog_integer_arg(env, argv[2], length, length, &end) || !seglog_integer_arg(env, argv[1], 0, end, &start)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "crc32c: start and end must be integers, 0 <= start <= end <= length");
    return NULL;
  }
  enum impl use;
  if (!impl_arg(env, argv[3], &use)) {
    napi_throw_range_error(env, "ERR_INVALID_ARGUMENT", "crc32c: impl must be a boolean or one of crc32cImpls");
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, crc32c(data + start, end - start, use), &result);
  return result;
}

/* The tables are filled and the backend chosen once per process, however many threads load the addon. */
static void build_tables(void) {
  build_slice_tables();
  build_shift_tables(long_shift, LONG_LANE);
  build_shift_tables(short_shift, SHORT_LANE);
#ifdef SEGLOG_X86
  fold_constants();
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) best_impl = cpu_has_vpclmul() ? IMPL_VPCLMUL : IMPL_SSE42;
#endif
  impl = best_impl;
  const char *cap = getenv("SEGLOG_CRC32C");
  for (int i = 0; cap && i < (int)impl; i++)
    if (strcmp(cap, impl_names[i]) == 0) impl = (enum impl)i;
}

void seglog_crc32c_init(napi_env env, napi_value exports) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, build_tables);
  napi_value fn, hardware, name, names;
  napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, js_crc32c, NULL, &fn);
  napi_set_named_property(env, exports, "crc32c", fn);
  napi_get_boolean(env, impl >= IMPL_SSE42, &hardware);
  napi_set_named_property(env, exports, "hardware", hardware);
  napi_create_string_utf8(env, impl_names[impl], NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, exports, "crc32cImpl", name);
  /* Every backend this CPU can run, best first: the values the 4th argument of crc32c() accepts. */
  napi_create_array_with_length(env, (size_t)best_impl + 1, &names);
  for (int i = (int)best_impl; i >= 0; i--) {
    napi_create_string_utf8(env, impl_names[i], NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, names, (uint32_t)(best_impl - i), name);
  }
  napi_set_named_property(env, exports, "crc32cImpls", names);
}
