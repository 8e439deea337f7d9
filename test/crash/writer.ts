/**
 * Crash-test child process: appends to the log in argv[2] until it is killed, and reports on stdout each
 * offset it was acknowledged (`ack <lastOffset>`), each committed consumer offset (`commit <offset>`) and
 * each retention pass (`start <startOffset>`). Every record's value is derived from its offset, so the
 * parent can tell a right record from a wrong one. Modes stress the moments a crash is most dangerous.
 */
import { Log, type LogOptions } from '../../src/main.js';
import { mulberry32 } from '../helpers/random.js';
import { expectedValue } from './values.js';

const [dir, seedText, mode = 'plain', durability = 'fsync'] = process.argv.slice(2);
const random = mulberry32(Number(seedText));
const options: LogOptions = {
  durability: durability as 'fsync' | 'os',
  segmentBytes: mode === 'roll' || mode === 'retention' ? 2048 : 64 * 1024,
  indexIntervalBytes: 256,
  segmentIndexBytes: 4096,
  ...(mode === 'retention' ? { retentionBytes: 8192, fileDeleteDelayMs: 0 } : {}),
  ...(mode === 'checkpoint' ? { flushIntervalMessages: 7, recoveryPointCheckpointIntervalMs: 1 } : {}),
};
const log = await Log.open(dir!, options);
process.stdout.write(`open ${log.startOffset} ${log.endOffset}\n`);
for (let round = 0; ; round++) {
  const base = log.endOffset;
  const n = 1 + Math.floor(random() * 5);
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${base + i}`, value: expectedValue(base + i) }));
  const { lastOffset } = await log.append(records, { expectedOffset: base, compression: random() < 0.3 ? 'lz4' : 'none' });
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
