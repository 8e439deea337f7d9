/**
 * Seeded benchmark data (STYLE 23): the same seed gives the same bytes on every machine. "random" bytes
 * do not compress; "repetitive" bytes (a short text pattern with a counter) compress like real JSON events.
 */
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

export function payload(kind: PayloadKind, bytes: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  if (kind === 'random') {
    const next = mulberry32(seed);
    for (let i = 0; i < bytes; i++) out[i] = (next() * 256) | 0;
    return out;
  }
  const text = `{"user":${seed % 1000},"event":"page_view","path":"/products/${seed % 97}","ts":${1_700_000_000_000 + seed}}`;
  for (let i = 0; i < bytes; i++) out[i] = text.charCodeAt(i % text.length);
  return out;
}

/** `count` records of `valueBytes`-byte values (random bytes: compression gains nothing). */
export function records(count: number, valueBytes: number, seed: number, kind: PayloadKind = 'random') {
  const value = payload(kind, valueBytes, seed);
  return Array.from({ length: count }, (_, i) => ({ key: null, value, timestamp: 1_700_000_000_000 + i }));
}
