/**
 * The addon's record-length walk (native/record-lengths.c) against a JS definition of the same rule, on
 * valid uncompressed batch payloads and on mutated ones, with record counts too low, right and too high.
 */
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/addon.js';
import { encodeBatch } from '../../src/main.js';
import * as L from '../../src/record/layout.js';
import { Rng, testSeed } from '../helpers/random.js';
import { walkDefinition } from '../helpers/record-walk.js';

const addon = nativeAddon();

describe('record-length walk (addon)', () => {
  it('is built here', () => {
    expect(addon).toBeDefined();
  });

  it('agrees with the definition on valid and mutated payloads (seeded)', () => {
    const rng = new Rng(testSeed('record lengths native'));
    for (let round = 0; round < 500; round++) {
      const records = Array.from({ length: rng.int(1, 60) }, () => ({ value: rng.bytes(rng.int(0, rng.bool(0.1) ? 9000 : 120)) }));
      const bytes = new Uint8Array(encodeBatch(records));
      const mutations = rng.int(0, 3);
      for (let m = 0; m < mutations; m++) bytes[rng.int(L.RECORDS_OFFSET, bytes.length - 1)] = rng.int(0, 255);
      const end = rng.bool(0.2) ? rng.int(L.RECORDS_OFFSET, bytes.length) : bytes.length;
      const count = records.length + rng.int(-2, 2);
      if (count < 0) continue;
      expect(addon!.recordLengthsEnd(bytes, L.RECORDS_OFFSET, end, count)).toBe(walkDefinition(bytes, L.RECORDS_OFFSET, end, count));
    }
  });

  it('rejects varints longer than 5 bytes or wider than 32 bits', () => {
    const five = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x10, 0, 0);
    expect(addon!.recordLengthsEnd(five, 0, five.length, 1)).toBe(-1);
    const six = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
    expect(addon!.recordLengthsEnd(six, 0, six.length, 1)).toBe(-1);
  });

  it('refuses bad arguments with typed errors', () => {
    const bytes = new Uint8Array(8);
    expect(() => addon!.recordLengthsEnd([] as unknown as Uint8Array, 0, 0, 0)).toThrow(TypeError);
    expect(() => addon!.recordLengthsEnd(bytes, 0, 9, 1)).toThrow(RangeError);
    expect(() => addon!.recordLengthsEnd(bytes, 3, 2, 1)).toThrow(RangeError);
    expect(() => addon!.recordLengthsEnd(bytes, 0, 8, -1)).toThrow(RangeError);
  });
});
