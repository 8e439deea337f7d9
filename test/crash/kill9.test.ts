/**
 * Kill -9 rounds in the default suite (bounded: tens of rounds). `npm run test:crash` runs hundreds
 * (CRASH_ROUNDS); `SEED=n` replays a run.
 */
import { describe, expect, it } from 'vitest';
import { testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';
import { crashRounds } from './crash-harness.js';

const ROUNDS = Number(process.env['CRASH_ROUNDS'] ?? 16);

describe('crash consistency with real processes killed by SIGKILL', () => {
  it(`${ROUNDS} seeded rounds: acknowledged records survive, none is wrong, offsets stay contiguous, appends continue`, async () => {
    const seed = testSeed('kill -9 rounds');
    const results = await crashRounds(tempDir(), seed, ROUNDS);
    expect(results).toHaveLength(ROUNDS);
    console.log(`[crash] ${ROUNDS} rounds, offsets up to ${results.at(-1)!.endOffset} checked, ${results.filter((r) => r.truncatedBytes > 0).length} torn tails repaired, modes: ${JSON.stringify(countBy(results.map((r) => r.mode)))}`);
    expect(new Set(results.map((r) => r.mode)).size).toBeGreaterThan(2);
  }, 600_000);
});

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}
