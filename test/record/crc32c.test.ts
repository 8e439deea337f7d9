import { describe, expect, it } from 'vitest';
import { crc32, crc32c } from '../../src/record/crc32c.js';

// Reference section 13: standard check values and Kafka's Crc32CTest vector.
describe('checksums', () => {
  it('CRC-32C check value and Kafka test vector', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.from('Some String'))).toBe(608512271);
  });
  it('CRC-32 (IEEE) check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
  it('covers exactly the requested range', () => {
    const buf = Buffer.from('xx123456789yy');
    expect(crc32c(buf, 2, 11)).toBe(0xe3069283);
    expect(crc32(buf, 2, 11)).toBe(0xcbf43926);
  });
});
