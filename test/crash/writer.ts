/**
 * Crash-test child process: appends to the log in argv[2] until it is killed, and reports on stdout each
 * offset it was acknowledged (`ack <lastOffset>`), each committed consumer offset (`commit <offset>`) and
 * each retention pass (`start <startOffset>`). Every record's value is derived from its offset, so the
 * parent can tell a right record from a wrong one. Modes stress the moments a crash is most dangerous;
 * 'batch' appends pre-encoded batches of 300-500 KB (verified on the addon's worker thread beside their
 * write) into segments that reserve disk space ahead (`preallocateBytes`).
 */
import { Log, encodeBatch, type LogOptions } from '../../src/main.js';
import { mulberry32 } from '../helpers/random.js';
import { expectedValue } from './values.js';

const [dir, seedText, mode = 'plain', durability = 'fsync'] = process.argv.slice(2);
const random = mulberry32(Number(seedText));
const options: LogOptions = {
  durability: durability as 'fsync' | 'os',
  segmentBytes: mode === 'roll' || mode === 'retention' ? 2048 : mode === 'batch' ? 4 << 20 : 64 * 1024,
  ...(mode === 'batch' ? { preallocateBytes: 256 * 1024, maxMessageBytes: 1 << 20 } : {}),
  indexIntervalBytes: 256,
  segmentIndexBytes: 4096,
  ...(mode === 'retention' ? { retentionBytes: 8192, fileDeleteDelayMs: 0 } : {}),
  ...(mode === 'checkpoint' ? { flushIntervalMessages: 7, recoveryPointCheckpointIntervalMs: 1 } : {}),
};
const log = await Log.open(dir!, options);
process.stdout.write(`open ${log.startOffset} ${log.endOffset}\n`);
for (let round = 0; ; round++) {
  const base = log.endOffset;
  const n = mode === 'batch' ? 5000 + Math.floor(random() * 3000) : 1 + Math.floor(random() * 5);
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${base + i}`, value: expectedValue(base + i) }));
  const compression = random() < 0.3 ? 'lz4' : 'none';
  const { lastOffset } =
    mode === 'batch'
      ? await log.appendBatch(encodeBatch(records, { compression }), { expectedOffset: base })
      : await log.append(records, { expectedOffset: base, compression });
  process.stdout.write(`ack ${lastOffset}\n`);
  if (mode === 'checkpoint' && round % 3 === 0) {
    await log.commitOffset('consumer', lastOffset + 1);
    process.stdout.write(`commit ${lastOffset + 1}\n`);
  }
  if (mode === 'retention' && round % 5 === 0) {
    await log.applyRetention();
    process.stdout.write(`start ${log.startOffset}\n`);
  }
}
