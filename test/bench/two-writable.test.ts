import { describe, expect, it } from 'vitest';
import { doubleWritable, withInsideView, type WritableSample } from '../../bench/lib/two-writable.js';

const at = (t: number, ...writable: string[]): WritableSample => ({ at: t, writable });

describe('doubleWritable counts the sampler rounds that saw more than one writable server', () => {
  it.each([
    {
      name: 'one primary throughout',
      samples: [at(50, 'a'), at(100, 'a'), at(150, 'b')],
      want: { samples: 0, longestMs: 0 },
    },
    {
      name: 'no primary (an outage) is not two',
      samples: [at(50), at(100), at(150, 'b')],
      want: { samples: 0, longestMs: 0 },
    },
    {
      name: 'one round of two lasts until the next round with one',
      samples: [at(50, 'a'), at(100, 'a', 'b'), at(150, 'b')],
      want: { samples: 1, longestMs: 50 },
    },
    {
      name: 'the longest of two stretches, with three writable counted too',
      samples: [
        at(50, 'a', 'b'),
        at(100, 'a'),
        at(150, 'a', 'b'),
        at(200, 'a', 'b', 'c'),
        at(250, 'a', 'b'),
        at(300, 'b'),
      ],
      want: { samples: 4, longestMs: 150 },
    },
    {
      name: 'a stretch that runs to the end of the window ends at its last round',
      samples: [at(50, 'a'), at(100, 'a', 'b'), at(150, 'a', 'b'), at(200, 'a', 'b')],
      want: { samples: 3, longestMs: 100 },
    },
    {
      name: 'rounds that answered out of order are put back in order of asking',
      samples: [at(150, 'b'), at(50, 'a'), at(100, 'a', 'b')],
      want: { samples: 1, longestMs: 50 },
    },
  ])('$name', ({ samples, want }) => {
    expect(doubleWritable(samples, 0, 1000)).toEqual(want);
  });

  it('counts only the rounds in (from, to]', () => {
    const samples = [at(50, 'a', 'b'), at(100, 'a', 'b'), at(150, 'a', 'b'), at(200, 'a')];
    expect(doubleWritable(samples, 50, 150)).toEqual({ samples: 2, longestMs: 50 });
    expect(doubleWritable(samples, 150, 1000)).toEqual({ samples: 0, longestMs: 0 });
  });
});

describe('withInsideView counts a member writable where its own namespace saw it so', () => {
  it('adds the cut-off member to the rounds its recent inside samples were writable in, and only those', () => {
    const rounds = [at(100, 'a'), at(150, 'b'), at(200, 'b'), at(400, 'b')];
    // inside a's namespace: writable until 160, then no answer (fenced, stopped)
    const inside = [
      { t: 90, writable: true },
      { t: 140, writable: true },
      { t: 160, writable: true },
      { t: 210, writable: null },
    ];
    const seen = withInsideView(rounds, 'a', inside);
    expect(seen).toEqual([at(100, 'a'), at(150, 'b', 'a'), at(200, 'b', 'a'), at(400, 'b')]);
    expect(doubleWritable(seen, 0, 500)).toEqual({ samples: 2, longestMs: 250 });
  });

  it('ignores an inside sample older than two of its periods, and a false one', () => {
    const rounds = [at(100, 'b'), at(300, 'b')];
    expect(
      withInsideView(rounds, 'a', [
        { t: -1, writable: true },
        { t: 280, writable: false },
      ]),
    ).toEqual(rounds);
  });
});
