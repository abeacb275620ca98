/** One round of the writable sampler: the members that would have taken a write when asked at `at`. */
export interface WritableSample {
  readonly at: number;
  readonly writable: readonly string[];
}

export interface DoubleWritable {
  /** Samples in which more than one member would have taken a write. */
  readonly samples: number;
  /**
   * The longest such stretch: from its first sample to the first sample after it with one writable
   * member or none (to its own last sample when the window ends first), in ms.
   */
  readonly longestMs: number;
}

/** Counts the samples with `from < at <= to` that saw two writable servers or more. Pure. */
export function doubleWritable(samples: readonly WritableSample[], from: number, to: number): DoubleWritable {
  const window = samples.filter((s) => s.at > from && s.at <= to).sort((a, b) => a.at - b.at);
  let count = 0;
  let longestMs = 0;
  let runStart: number | null = null;
  let runLast = 0;
  for (const s of window) {
    if (s.writable.length > 1) {
      count += 1;
      runStart ??= s.at;
      runLast = s.at;
      continue;
    }
    if (runStart !== null) longestMs = Math.max(longestMs, s.at - runStart);
    runStart = null;
  }
  if (runStart !== null) longestMs = Math.max(longestMs, runLast - runStart);
  return { samples: count, longestMs };
}

/** What a sampler inside one member's namespace saw: whether it was writable at `t` (null: no answer). */
export interface InsideSample {
  readonly t: number;
  readonly writable: boolean | null;
}

/** How old an inside sample may be and still stand for the member at a round (two of its 50 ms periods). */
const INSIDE_STALE_MS = 100;

/**
 * The rounds with `member` counted writable wherever its own namespace's sampler last saw it writable
 * (within 100 ms before the round): a member cut off from the host still takes writes from inside. Pure.
 */
export function withInsideView(
  samples: readonly WritableSample[],
  member: string,
  inside: readonly InsideSample[],
): WritableSample[] {
  const seen = [...inside].sort((a, b) => a.t - b.t);
  let next = 0;
  let last: InsideSample | undefined;
  return [...samples]
    .sort((a, b) => a.at - b.at)
    .map((s) => {
      while (next < seen.length && seen[next]!.t <= s.at) last = seen[next++];
      const writableInside = last !== undefined && s.at - last.t <= INSIDE_STALE_MS && last.writable === true;
      return writableInside && !s.writable.includes(member) ? { at: s.at, writable: [...s.writable, member] } : s;
    });
}
