/**
 * Programmer-error assertions (STYLE 9): a failed assert is a bug in seglog, never a condition the caller
 * can cause, so it throws a plain `Error` and is not part of the error-code contract.
 */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new Error(`seglog internal assertion: ${message}`);
}

/** Exhaustiveness check for switch statements over unions. */
export function assertNever(value: never, message = 'unexpected value'): never {
  throw new Error(`seglog internal assertion: ${message}: ${String(value)}`);
}

/** Asserts a non-negative safe integer; for hot private helpers that take plain numbers (STYLE 8). */
export function assertUint(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`seglog internal assertion: ${name} must be a non-negative safe integer, got ${value}`);
  }
}
