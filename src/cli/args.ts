/**
 * Argument handling shared by the commands: `node:util` parseArgs with typed errors turned into a usage
 * message and exit code 2 (never a stack trace), as a command-line tool should.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A problem with the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(argv: string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A positive integer option, or `fallback`. */
export function intOption(values: Record<string, unknown>, name: string, fallback: number, min = 1): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${String(raw)}`);
  return value;
}

/** One of `allowed`, or `fallback`. */
export function choiceOption<T extends string>(values: Record<string, unknown>, name: string, allowed: readonly T[], fallback: T): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${String(raw)}`);
  return raw as T;
}

/** Output goes through this, so commands can be tested without a terminal. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}
