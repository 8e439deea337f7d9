/**
 * Small state files written atomically, and Kafka's offset-checkpoint text format.
 *
 * Atomic write (Kafka `CheckpointFile` / `Utils.atomicMoveWithFallback`): write `<name>.tmp`, fsync it,
 * rename it over `<name>`, fsync the directory. A crash at any step leaves either the old file or the new
 * one, never a mix; a leftover `.tmp` is ignored and overwritten next time.
 *
 * Offset checkpoint format (`OffsetCheckpointFile`), UTF-8 lines:
 *
 * ```text
 *  0                      version
 *  1                      number of entries
 *  orders-0 0 368769      <topic> <partition> <offset>, single spaces
 * ```
 *
 * Kafka keeps one such file per log directory listing every partition; seglog keeps one per log, inside
 * the log's own directory, with one entry named after the directory (`<topic>-<partition>` when the name
 * has that shape). Readers check the format strictly and ignore the names.
 */
import path from 'node:path';
import { CorruptCheckpointError, ioError } from '../errors.js';
import type { FileSystem } from '../io/file-system.js';

const TEMP_SUFFIX = '.tmp';

/** Writes `bytes` to `dir/name` atomically and durably. */
export async function writeFileAtomic(fs: FileSystem, dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const target = path.join(dir, name);
  const temp = target + TEMP_SUFFIX;
  try {
    const handle = fs.open(temp, 'create');
    try {
      handle.truncate(0);
      handle.write(bytes, 0);
      await handle.sync();
    } finally {
      handle.close();
    }
    fs.rename(temp, target);
    await fs.syncDir(dir);
  } catch (error) {
    throw ioError('atomic write', target, error);
  }
}

/** The whole content of `file`, or `undefined` if it does not exist. */
export function readWholeFile(fs: FileSystem, file: string): Uint8Array | undefined {
  const stat = fs.stat(file);
  if (stat === undefined) return undefined;
  try {
    const handle = fs.open(file, 'read');
    try {
      const bytes = new Uint8Array(stat.size);
      const n = handle.read(bytes, 0);
      return bytes.subarray(0, n);
    } finally {
      handle.close();
    }
  } catch (error) {
    throw ioError('read', file, error);
  }
}

/** `<topic> <partition>` for a log directory: Kafka's `topic-partition` split, or the name and 0. */
function checkpointKey(dir: string): string {
  const name = path.basename(dir);
  const match = /^(.+)-(\d+)$/.exec(name);
  return match === null ? `${name} 0` : `${match[1]} ${match[2]}`;
}

/** Encodes one offset in Kafka's checkpoint format. */
export function encodeOffsetCheckpoint(dir: string, offset: number): Uint8Array {
  return Buffer.from(`0\n1\n${checkpointKey(dir)} ${offset}\n`, 'utf8');
}

/**
 * Parses a one-entry offset checkpoint. Throws `CorruptCheckpointError` (naming the file and the byte
 * position of the bad line) for anything that is not exactly version 0, count 1 and one valid line.
 */
export function decodeOffsetCheckpoint(file: string, bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const lines = text.split('\n');
  const fail = (line: number, what: string): never => {
    const position = lines.slice(0, line).reduce((sum, l) => sum + l.length + 1, 0);
    throw new CorruptCheckpointError(`malformed checkpoint: ${what}`, { file, position });
  };
  if (lines[0] !== '0') fail(0, `version ${JSON.stringify(lines[0])} is not 0`);
  if (lines[1] !== '1') fail(1, `entry count ${JSON.stringify(lines[1])} is not 1`);
  const fields = (lines[2] ?? '').split(/\s+/);
  if (fields.length !== 3 || !/^\d+$/.test(fields[1]!) || !/^\d+$/.test(fields[2]!)) fail(2, 'bad entry line');
  if (lines.length !== 4 || lines[3] !== '') fail(3, 'unexpected content after the entry');
  const offset = Number(fields[2]);
  if (!Number.isSafeInteger(offset)) fail(2, 'offset is not a safe integer');
  return offset;
}

/** Reads a one-entry offset checkpoint: `undefined` if missing; `CorruptCheckpointError` if malformed. */
export function readOffsetCheckpoint(fs: FileSystem, dir: string, name: string): number | undefined {
  const file = path.join(dir, name);
  const bytes = readWholeFile(fs, file);
  return bytes === undefined ? undefined : decodeOffsetCheckpoint(file, bytes);
}

/** Writes a one-entry offset checkpoint atomically. */
export function writeOffsetCheckpoint(fs: FileSystem, dir: string, name: string, offset: number): Promise<void> {
  return writeFileAtomic(fs, dir, name, encodeOffsetCheckpoint(dir, offset));
}
