/**
 * Time, injected (STYLE 21): `log/` never calls `Date.now()` itself, so retention, time-based rolling and
 * flush intervals can be tested with a clock that the test moves.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch, as record timestamps use. */
  nowMs(): number;
}

/** The system clock. */
export const systemClock: Clock = Object.freeze({ nowMs: () => Date.now() });
