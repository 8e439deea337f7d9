/**
 * Which segments retention deletes (Kafka `UnifiedLog.deleteOldSegments`): a pure policy over a snapshot
 * of the segments, so it can be tested without files. The log applies the result.
 *
 * Rules, applied in Kafka's order, each walking from the oldest segment and stopping at the first one
 * that does not qualify (only a prefix of the log is ever deleted):
 *
 * | rule         | a segment qualifies when                                                  | option           |
 * | ------------ | ------------------------------------------------------------------------- | ---------------- |
 * | start offset | the next segment's base offset <= the log start offset                    | `deleteRecordsBefore` |
 * | size         | deleting it keeps the log at or above `retentionBytes` (`diff - size >= 0`) | `retentionBytes` |
 * | time         | `now - largestTimestamp > retentionMs`                                    | `retentionMs`    |
 *
 * `largestTimestamp` is the segment's largest record timestamp, or its file's mtime when its records have
 * none (v0 data), as in Kafka. The active (last) segment qualifies too; the log then rolls first so an
 * empty active segment remains. An empty last segment is never deleted.
 */

/** What the policy needs to know of one segment. */
export interface RetentionSegment {
  readonly baseOffset: number;
  readonly size: number;
  /** Largest record timestamp, or the mtime fallback; -1 if neither is known. */
  readonly largestTimestamp: number;
}

export interface RetentionPolicy {
  readonly nowMs: number;
  /** Infinity = no time limit. */
  readonly retentionMs: number;
  /** Infinity = no size limit. */
  readonly retentionBytes: number;
  readonly logStartOffset: number;
  /** The log's end offset: the "next segment base" of the last segment. */
  readonly endOffset: number;
}

/** Why a segment goes. */
export type RetentionReason = 'start-offset' | 'size' | 'time';

/** The oldest-first prefix of `segments` to delete, each with the rule that selected it. */
export function segmentsToDelete(segments: readonly RetentionSegment[], policy: RetentionPolicy): { count: number; reasons: RetentionReason[] } {
  const reasons: RetentionReason[] = [];
  const nextBase = (i: number): number => segments[i + 1]?.baseOffset ?? policy.endOffset;
  const deletable = (i: number): boolean => {
    const segment = segments[i]!;
    const isLast = i === segments.length - 1;
    return !(isLast && segment.size === 0);
  };
  let i = 0;
  while (i < segments.length && deletable(i) && nextBase(i) <= policy.logStartOffset) {
    reasons.push('start-offset');
    i++;
  }
  if (Number.isFinite(policy.retentionBytes)) {
    // Kafka applies the rules one after the other, deleting in between: sizes count what is left.
    let total = 0;
    for (const s of segments.slice(i)) total += s.size;
    let diff = total - policy.retentionBytes;
    while (i < segments.length && deletable(i) && diff - segments[i]!.size >= 0) {
      diff -= segments[i]!.size;
      reasons.push('size');
      i++;
    }
  }
  if (Number.isFinite(policy.retentionMs)) {
    while (i < segments.length && deletable(i)) {
      const largest = segments[i]!.largestTimestamp;
      if (largest < 0 || policy.nowMs - largest <= policy.retentionMs) break;
      reasons.push('time');
      i++;
    }
  }
  return { count: i, reasons };
}
