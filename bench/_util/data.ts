/**
 * Seeded benchmark data (STYLE 23): the same seed gives the same bytes on every machine and every run.
 *
 * - "random" bytes do not compress at all: the worst case for a codec (it must notice and store them).
 * - "repetitive" bytes are 100-byte JSON-like events whose fields are drawn by the PRNG from small
 *   vocabularies, plus a random 8-hex-digit session id and a rising timestamp. They compress the way real
 *   event streams do (gzip ~4-6x), not the way one string repeated a thousand times does (~300x, which
 *   flatters every codec and says nothing).
 */

/** mulberry32: a small, fast 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type PayloadKind = 'random' | 'repetitive';

/** Bytes per generated event in a "repetitive" payload: Kafka's typical small record value. */
export const EVENT_BYTES = 100;

const EVENTS = ['page_view', 'add_to_cart', 'checkout', 'search', 'login', 'logout'] as const;
const PATHS = ['/', '/products', '/cart', '/search', '/account', '/help'] as const;

/** One event of exactly {@link EVENT_BYTES} characters (ASCII), the `i`-th of its payload. */
function event(next: () => number, i: number): string {
  const int = (n: number) => Math.floor(next() * n);
  const session = int(0x1_0000_0000).toString(16).padStart(8, '0');
  const text =
    `{"user":${int(10_000)},"event":"${EVENTS[int(EVENTS.length)]}","path":"${PATHS[int(PATHS.length)]}/${int(100)}",` +
    `"ts":${1_700_000_000_000 + i * 37 + int(1000)},"session":"${session}"}`;
  return text.padEnd(EVENT_BYTES).slice(0, EVENT_BYTES);
}

/** `bytes` bytes of the given kind, from `seed`. */
export function payload(kind: PayloadKind, bytes: number, seed: number): Buffer {
  const next = mulberry32(seed);
  const out = Buffer.allocUnsafe(bytes);
  if (kind === 'random') {
    for (let i = 0; i < bytes; i++) out[i] = (next() * 256) | 0;
    return out;
  }
  for (let at = 0, i = 0; at < bytes; at += EVENT_BYTES, i++) out.write(event(next, i), at, Math.min(EVENT_BYTES, bytes - at), 'latin1');
  return out;
}

/** `count` records of `valueBytes`-byte values (one value shared by all records; random: no compression gain). */
export function records(count: number, valueBytes: number, seed: number, kind: PayloadKind = 'random') {
  const value = payload(kind, valueBytes, seed);
  return Array.from({ length: count }, (_, i) => ({ key: null, value, timestamp: 1_700_000_000_000 + i }));
}
