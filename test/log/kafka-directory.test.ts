/**
 * A partition directory laid down as a Kafka broker leaves it, from batches another implementation
 * (KafkaJS) encoded: segments named by 20-digit base offset holding batches with absolute offsets, no
 * index files, no seglog checkpoints, plus the broker's own files that seglog must ignore.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Log, type LogRecord } from '../../src/main.js';
import { KAFKA_PY_V0, KAFKA_PY_V1 } from '../fixtures/vectors.js';
import { tempDir } from '../helpers/temp-dir.js';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const KafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: Record<string, unknown>) => unknown;

async function kafkajsBatch(baseOffset: number, values: string[]): Promise<Buffer> {
  const records = values.map((value, i) => KafkaRecord({ offsetDelta: i, key: Buffer.from(`k${baseOffset + i}`), value: Buffer.from(value), headers: { src: 'kafkajs' } }));
  const batch = Buffer.from((await RecordBatch({ records, firstTimestamp: 1_600_000_000_000 + baseOffset, maxTimestamp: 1_600_000_000_000 + baseOffset + values.length, lastOffsetDelta: values.length - 1 })).buffer);
  batch.writeBigInt64BE(BigInt(baseOffset), 0); // the broker assigns offsets outside the CRC
  return batch;
}

const name = (offset: number, suffix: string) => `${String(offset).padStart(20, '0')}${suffix}`;

async function readEverything(log: Log): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let offset = log.startOffset;
  while (offset < log.endOffset) {
    const got = [...(await log.read(offset, { maxBytes: 2048 })).records()];
    out.push(...got);
    offset = got[got.length - 1]!.offset + 1;
  }
  return out;
}

describe('a directory written as a Kafka broker would', () => {
  it('opens without index files, reads every record, appends and reopens', async () => {
    const dir = tempDir('orders-0-');
    const expected: string[] = [];
    let offset = 0;
    for (let segment = 0; segment < 4; segment++) {
      const base = offset;
      const batches: Buffer[] = [];
      for (let b = 0; b < 15; b++) {
        const values = Array.from({ length: 1 + ((b * 7) % 5) }, (_, i) => `segment ${segment} batch ${b} record ${i}`);
        batches.push(await kafkajsBatch(offset, values));
        expected.push(...values);
        offset += values.length;
      }
      fs.writeFileSync(path.join(dir, name(base, '.log')), Buffer.concat(batches));
    }
    fs.writeFileSync(path.join(dir, 'leader-epoch-checkpoint'), '0\n1\n0 0\n');
    fs.writeFileSync(path.join(dir, 'partition.metadata'), 'version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n');
    fs.writeFileSync(path.join(dir, name(0, '.snapshot')), Buffer.alloc(0));

    const log = await Log.open(dir, { durability: 'os' });
    expect(log.recoveryReport.clean).toBe(false);
    expect(log.recoveryReport.truncations).toEqual([]);
    expect(log.startOffset).toBe(0);
    expect(log.endOffset).toBe(expected.length);
    const records = await readEverything(log);
    expect(records.map((r) => Buffer.from(r.value!).toString())).toEqual(expected);
    expect(records.map((r) => r.offset)).toEqual(expected.map((_, i) => i));
    expect(records[0]!.headers.map((h) => [h.key, Buffer.from(h.value!).toString()])).toEqual([['src', 'kafkajs']]);
    expect(await log.offsetForTimestamp(1_600_000_000_000 + 30)).toBe(30);
    await log.append([{ value: 'appended by seglog' }]);
    await log.close();
    for (const file of ['leader-epoch-checkpoint', 'partition.metadata']) expect(fs.existsSync(path.join(dir, file))).toBe(true);
    expect(fs.existsSync(path.join(dir, name(0, '.index')))).toBe(true);

    const reopened = await Log.open(dir);
    expect(reopened.endOffset).toBe(expected.length + 1);
    expect((await readEverything(reopened)).length).toBe(expected.length + 1);
    await reopened.close();
  });

  it('reads a directory of legacy v0 and v1 messages (Kafka 0.10 data)', async () => {
    for (const bytes of [KAFKA_PY_V0, KAFKA_PY_V1]) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, name(0, '.log')), bytes);
      const log = await Log.open(dir, { durability: 'os' });
      expect(log.endOffset).toBe(4);
      expect((await readEverything(log)).map((r) => Buffer.from(r.value!).toString())).toEqual(['123', '', '', '123']);
      await log.append([{ value: 'v2 after legacy' }]);
      expect(log.endOffset).toBe(5);
      await log.close();
    }
  });
});
