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
