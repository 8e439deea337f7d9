/**
 * Named consumer offsets, stored with the log so a queue consumer resumes where it stopped (the role of
 * Kafka's `__consumer_offsets`, for one log). Every commit rewrites one small file atomically (temp file,
 * fsync, rename, fsync of the directory), so after a crash the file holds either the old or the new set.
 * Concurrent commits are coalesced: a commit made while a write runs joins the next write.
 *
 * File `consumer-offsets-checkpoint`, UTF-8 lines, Kafka's checkpoint shape plus a checksum line (the
 * rename makes torn writes impossible; the CRC catches bit rot, which would otherwise move a consumer):
 *
 * ```text
 *  0                 version
 *  2                 number of entries
 *  billing 1042      <name> <offset>
 *  audit 977
 *  crc32c 8a3f09c1   CRC-32C of every byte before this line, 8 hex digits
 * ```
 */
import path from 'node:path';
import { CorruptCheckpointError, InvalidArgumentError } from '../errors.js';
import type { FileSystem } from '../io/file-system.js';
import { LOG_NAME_LENGTH_MAX } from '../limits.js';
import { crc32c } from '../record/crc32c.js';
import { readWholeFile, writeFileAtomic } from './checkpoint-file.js';

export const CONSUMER_OFFSETS_FILE = 'consumer-offsets-checkpoint';
const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** Checks a consumer name: Kafka's topic-name characters, at most 249 of them. */
export function checkConsumerName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > LOG_NAME_LENGTH_MAX || !NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(`consumer name must be 1-${LOG_NAME_LENGTH_MAX} characters of [A-Za-z0-9._-]`, { actual: name });
  }
  return name;
}

export function encodeConsumerOffsets(offsets: ReadonlyMap<string, number>): Uint8Array {
  const body = `0\n${offsets.size}\n${[...offsets].map(([name, offset]) => `${name} ${offset}\n`).join('')}`;
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([bytes, Buffer.from(`crc32c ${crc32c(bytes).toString(16).padStart(8, '0')}\n`)]);
}

export function decodeConsumerOffsets(file: string, bytes: Uint8Array): Map<string, number> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const crcLine = text.lastIndexOf('crc32c ');
  const fail = (what: string, position: number): never => {
    throw new CorruptCheckpointError(`consumer offsets: ${what}`, { file, position });
  };
  if (crcLine < 0 || !text.endsWith('\n')) fail('missing checksum line', text.length);
  const stored = text.slice(crcLine + 7, -1);
  const computed = crc32c(bytes, 0, Buffer.byteLength(text.slice(0, crcLine))).toString(16).padStart(8, '0');
  if (stored !== computed) fail(`checksum ${stored} does not match ${computed}`, crcLine);
  const lines = text.slice(0, crcLine).split('\n');
  if (lines[0] !== '0') fail('unknown version', 0);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || lines.length !== count + 3) fail('entry count does not match', 2);
  const offsets = new Map<string, number>();
  for (const line of lines.slice(2, 2 + count)) {
    const [name, value] = line.split(' ');
    const offset = Number(value);
    if (name === undefined || !NAME_PATTERN.test(name) || !Number.isSafeInteger(offset) || offset < 0) fail(`bad entry ${JSON.stringify(line)}`, 0);
    offsets.set(name!, offset);
  }
  return offsets;
}

export class ConsumerOffsets {
  readonly #fs: FileSystem;
  readonly #dir: string;
  #offsets: Map<string, number>;
  #writing: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  private constructor(fs: FileSystem, dir: string, offsets: Map<string, number>) {
    this.#fs = fs;
    this.#dir = dir;
    this.#offsets = offsets;
  }

  /** Loads the file if present. Throws `ERR_CORRUPT_CHECKPOINT` if it is damaged and `repair` is off. */
  static load(fs: FileSystem, dir: string, repair: boolean): ConsumerOffsets {
    const file = path.join(dir, CONSUMER_OFFSETS_FILE);
    const bytes = readWholeFile(fs, file);
    let offsets = new Map<string, number>();
    try {
      if (bytes !== undefined) offsets = decodeConsumerOffsets(file, bytes);
    } catch (error) {
      if (!repair) throw error;
    }
    return new ConsumerOffsets(fs, dir, offsets);
  }

  get(name: string): number | undefined {
    return this.#offsets.get(name);
  }

  all(): ReadonlyMap<string, number> {
    return this.#offsets;
  }

  /** Sets `name` and resolves once the file holding it is durable. */
  commit(name: string, offset: number): Promise<void> {
    this.#offsets.set(name, offset);
    return this.#schedule();
  }

  /** Removes `name` and resolves once durable. */
  remove(name: string): Promise<void> {
    this.#offsets.delete(name);
    return this.#schedule();
  }

  #schedule(): Promise<void> {
    if (this.#writing === undefined) {
      this.#writing = this.#write().finally(() => (this.#writing = undefined));
      return this.#writing;
    }
    // A write with an older set is running: this commit joins the write that starts after it.
    this.#next ??= this.#writing
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.#schedule();
      });
    return this.#next;
  }

  #write(): Promise<void> {
    return writeFileAtomic(this.#fs, this.#dir, CONSUMER_OFFSETS_FILE, encodeConsumerOffsets(this.#offsets));
  }
}
