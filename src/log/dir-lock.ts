/**
 * One writer per log directory. Kafka takes an OS file lock (`FileChannel.tryLock`) on `.lock`; Node has no
 * portable `flock`, so seglog combines two mechanisms:
 *
 * - in this process, a registry of locked directories (by real path): a second `Log.open` of the same
 *   directory fails at once, whatever path spelling it uses;
 * - across processes, `.lock` is created with O_EXCL and holds the owner's pid and process start time
 *   (from `/proc/<pid>/stat`, so a recycled pid is not mistaken for the owner). A lock whose owner is no
 *   longer running is stale: it is moved aside and the create is retried once, so a crashed process never
 *   blocks the directory. Two processes racing to break the same stale lock both rename it; at most one
 *   then wins the O_EXCL create.
 *
 * Limits: on network file systems the liveness check sees only local processes (README, Limits).
 *
 * This file uses `node:fs` directly, not the injected `FileSystem`: the lock needs the real O_EXCL and
 * process identity, and no fault test needs to fake them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LogLockedError, ioError } from '../errors.js';
import { LOCK_FILE } from './file-names.js';

const locked = new Set<string>();

/** `pid starttime` of this process, or of `pid`; starttime is '' where /proc is missing. */
function identity(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counts after the ")" closing the command name, which may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid} ${fields[19]}`;
  } catch {
    try {
      process.kill(pid, 0);
      return `${pid} `;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM' ? `${pid} ` : undefined;
    }
  }
}

function ownerIsAlive(content: string): boolean {
  const [pidText, start = ''] = content.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false; // our own stale lock: the in-process registry is authoritative
  const current = identity(pid);
  if (current === undefined) return false;
  const currentStart = current.split(' ')[1] ?? '';
  return start === '' || currentStart === '' || start === currentStart;
}

export class DirLock {
  readonly #key: string;
  readonly #file: string;
  #held = true;

  private constructor(key: string, file: string) {
    this.#key = key;
    this.#file = file;
  }

  /** Takes the lock on `dir` (which exists). Throws `ERR_LOG_LOCKED` if a live owner holds it. */
  static acquire(dir: string): DirLock {
    const key = fs.realpathSync(dir);
    if (locked.has(key)) throw new LogLockedError(`${dir} is already open in this process`, { file: dir });
    const file = path.join(dir, LOCK_FILE);
    const me = identity(process.pid) ?? `${process.pid} `;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, `${me}\n`, { flag: 'wx', mode: 0o644 });
        locked.add(key);
        return new DirLock(key, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create lock', file, error);
      }
      const content = readOrEmpty(file);
      if (ownerIsAlive(content)) {
        throw new LogLockedError(`${dir} is locked by process ${content.trim().split(' ')[0]}`, { file, actual: content.trim() });
      }
      breakStaleLock(file);
    }
    throw new LogLockedError(`${dir} is locked by another process that is starting up`, { file });
  }

  /** Releases the lock. Idempotent. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    locked.delete(this.#key);
    try {
      fs.unlinkSync(this.#file);
    } catch {
      // Already gone (the directory was deleted): nothing to release on disk.
    }
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function breakStaleLock(file: string): void {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, aside);
    fs.unlinkSync(aside);
  } catch {
    // Another process broke it first; the retry's O_EXCL create decides.
  }
}
