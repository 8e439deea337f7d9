/**
 * Many named logs under one root directory (Kafka `LogManager`, with log names in the role of
 * topic-partition directories): one scheduler runs flushing, retention and checkpoints for all of them,
 * and one cap bounds the descriptors and mappings their segments hold.
 *
 * ```text
 *  root/
 *    orders/      a log directory (segments, indexes, checkpoints; see docs/format.md)
 *    payments/
 *    .lock        the manager's lock (each log also locks its own directory)
 * ```
 *
 * Names follow Kafka's topic-name rule: letters, digits, `.`, `_`, `-`, at most 249 characters, never `.`
 * or `..`. So a name can never be a path: no separator, no parent reference; it is checked before anything
 * touches the disk. Deleting a log first renames its directory to `<name>.<random>-delete` (one atomic
 * step: a crash mid-delete leaves no half-deleted log that would open), then removes it; leftovers are
 * removed at the next open, as Kafka does.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { InvalidArgumentError, LogClosedError, LogExistsError, LogNotFoundError, ioError } from '../errors.js';
import { LOG_NAME_LENGTH_MAX } from '../limits.js';
import { DirLock } from './dir-lock.js';
import { Log } from './log.js';
import { resolveLogConfig, type LogOptions } from './log-options.js';
import { OpenFileCache } from './open-file-cache.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;
const DELETE_SUFFIX = '-delete';

/** Options of `LogManager.open`: defaults for every log, plus the manager's own. */
export interface LogManagerOptions extends LogOptions {
  /**
   * Most file descriptors the logs' inactive segments may hold together; least recently used segments
   * release theirs (and their mappings) and reopen on demand. Each segment counts for 3 (its `.log` and
   * two indexes). Active segments are always open and not counted against the cap.
   * @defaultValue 3000 (1000 inactive segments; `ulimit -n` is often 1024 or more, Kafka asks for 100000)
   */
  readonly maxOpenFiles?: number;
  /** How often the scheduler runs each log's due tasks (flush, retention, checkpoint). @defaultValue 1000 */
  readonly schedulerIntervalMs?: number;
}

/** Throws `ERR_INVALID_ARGUMENT` unless `name` is a valid log name (Kafka's topic-name rule). */
export function checkLogName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > LOG_NAME_LENGTH_MAX || !NAME_PATTERN.test(name) || name === '.' || name === '..') {
    throw new InvalidArgumentError(`log name must be 1-${LOG_NAME_LENGTH_MAX} characters of [A-Za-z0-9._-], not '.' or '..'`, { actual: name });
  }
  return name;
}

export class LogManager {
  /** The root directory. */
  readonly root: string;
  readonly #defaults: LogOptions;
  readonly #cache: OpenFileCache;
  readonly #lock: DirLock;
  readonly #logs = new Map<string, Log>();
  readonly #opening = new Map<string, Promise<Log>>();
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  private constructor(root: string, defaults: LogOptions, cache: OpenFileCache, lock: DirLock) {
    this.root = root;
    this.#defaults = defaults;
    this.#cache = cache;
    this.#lock = lock;
  }

  /**
   * Opens (creating if needed) the root directory and every log in it.
   *
   * @throws `ERR_INVALID_ARGUMENT` (bad options), `ERR_LOG_LOCKED`, and whatever opening a log throws.
   * @example
   * ```ts
   * await using logs = await LogManager.open('/var/lib/app/logs', { retentionMs: 7 * 86_400_000 });
   * const orders = await logs.create('orders');
   * ```
   */
  static async open(root: string, defaults: LogManagerOptions = {}): Promise<LogManager> {
    if (typeof root !== 'string' || root.length === 0) throw new InvalidArgumentError('root must be a non-empty string');
    const { maxOpenFiles = 3000, schedulerIntervalMs = 1000, ...logDefaults } = defaults;
    if (!Number.isSafeInteger(maxOpenFiles) || maxOpenFiles < 3) throw new InvalidArgumentError('maxOpenFiles must be an integer >= 3', { actual: maxOpenFiles });
    if (!Number.isSafeInteger(schedulerIntervalMs) || schedulerIntervalMs < 1) throw new InvalidArgumentError('schedulerIntervalMs must be a positive integer', { actual: schedulerIntervalMs });
    const config = resolveLogConfig(logDefaults); // validates the defaults before anything touches the disk
    const absolute = path.resolve(root);
    try {
      config.fileSystem.mkdir(absolute, config.dirMode);
    } catch (error) {
      throw ioError('mkdir', absolute, error);
    }
    const lock = DirLock.acquire(absolute);
    const manager = new LogManager(absolute, { ...logDefaults, backgroundTasks: false }, new OpenFileCache(Math.floor(maxOpenFiles / 3)), lock);
    try {
      await manager.#loadAll();
    } catch (error) {
      await manager.close().catch(() => undefined);
      throw error;
    }
    manager.#timer = setInterval(() => void manager.#runScheduledTasks(), schedulerIntervalMs);
    manager.#timer.unref();
    return manager;
  }

  async #loadAll(): Promise<void> {
    const fs = resolveLogConfig(this.#defaults).fileSystem;
    for (const name of fs.readdir(this.root)) {
      const dir = path.join(this.root, name);
      if (!fs.stat(dir)?.isDirectory) continue;
      if (name.endsWith(DELETE_SUFFIX)) {
        fs.removeDir(dir); // an interrupted delete
        continue;
      }
      if (!NAME_PATTERN.test(name) || name.length > LOG_NAME_LENGTH_MAX) continue;
      this.#logs.set(name, await Log.open(dir, this.#optionsFor({})));
    }
  }

  #optionsFor(options: LogOptions): LogOptions {
    return { ...this.#defaults, ...options, backgroundTasks: false, openFileCache: this.#cache };
  }

  #ensureOpen(): void {
    if (this.#closing !== undefined) throw new LogClosedError(`log manager ${this.root} is closed`, { file: this.root });
  }

  /**
   * Creates the log `name` (options override the manager's defaults) and returns it, open.
   *
   * @throws `ERR_INVALID_ARGUMENT` (bad name or options), `ERR_LOG_EXISTS`, `ERR_LOG_CLOSED`.
   */
  async create(name: string, options: LogOptions = {}): Promise<Log> {
    this.#ensureOpen();
    checkLogName(name);
    const dir = path.join(this.root, name);
    if (this.#logs.has(name) || this.#opening.has(name) || resolveLogConfig(this.#defaults).fileSystem.stat(dir) !== undefined) {
      throw new LogExistsError(`log ${name} already exists`, { file: dir });
    }
    const opening = Log.open(dir, this.#optionsFor(options));
    this.#opening.set(name, opening);
    try {
      const log = await opening;
      this.#logs.set(name, log);
      return log;
    } finally {
      this.#opening.delete(name);
    }
  }

  /**
   * The open log `name`.
   *
   * @throws `ERR_LOG_NOT_FOUND`, `ERR_INVALID_ARGUMENT` (bad name), `ERR_LOG_CLOSED`.
   */
  get(name: string): Log {
    this.#ensureOpen();
    const log = this.#logs.get(checkLogName(name));
    if (log === undefined) throw new LogNotFoundError(`no log named ${name}`, { file: path.join(this.root, name) });
    return log;
  }

  has(name: string): boolean {
    return this.#logs.has(name);
  }

  /** Names of the logs, sorted. */
  list(): string[] {
    this.#ensureOpen();
    return [...this.#logs.keys()].sort();
  }

  /**
   * Closes the log `name` and deletes its directory and everything in it.
   *
   * @throws `ERR_LOG_NOT_FOUND`, `ERR_INVALID_ARGUMENT`, `ERR_LOG_CLOSED`, `ERR_IO`.
   */
  async delete(name: string): Promise<void> {
    const log = this.get(name);
    this.#logs.delete(name);
    await log.close().catch(() => log.abandon());
    const fs = resolveLogConfig(this.#defaults).fileSystem;
    const doomed = path.join(this.root, `${name}.${randomBytes(8).toString('hex')}${DELETE_SUFFIX}`);
    try {
      fs.rename(log.dir, doomed);
      await fs.syncDir(this.root);
      fs.removeDir(doomed);
    } catch (error) {
      throw ioError('delete log', log.dir, error);
    }
  }

  /** Segments whose descriptors the cap currently counts, and how many were released so far. */
  get openFiles(): { segments: number; maxSegments: number; evictions: number } {
    return { segments: this.#cache.size, maxSegments: this.#cache.maxSegments, evictions: this.#cache.evictions };
  }

  async #runScheduledTasks(): Promise<void> {
    this.#cache.trim();
    for (const log of this.#logs.values()) {
      // A failing log reports through its own 'failed' event and refuses writes; the others go on.
      await log.runScheduledTasks().catch(() => undefined);
    }
  }

  /** Closes every log (reporting failures together) and releases the root. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await Promise.allSettled(this.#opening.values());
    const results = await Promise.allSettled([...this.#logs.values()].map((log) => log.close()));
    this.#logs.clear();
    this.#lock.release();
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `closing log manager ${this.root} failed`);
  }
}
