import { beforeAll, describe, expect, it } from 'vitest';
import { inkOutputClass, speedUpInkOutput, type InkOutputClass } from '../../src/ui/ink-output.js';

type Write = [x: number, y: number, text: string, transformers?: ((s: string, i: number) => string)[]];

const red = (s: string): string => `\x1b[31m${s}\x1b[39m`;
const inverse = (s: string): string => `\x1b[7m${s}\x1b[27m`;
const bold = (s: string): string => `\x1b[1m${s}\x1b[22m`;
const onYellow = (s: string): string => `\x1b[43m${s}\x1b[49m`;

/** Frames the console draws: plain and styled rows, padding, overlaps, wide characters, cut-offs. */
const frames: { name: string; width: number; height: number; writes: Write[] }[] = [
  { name: 'empty', width: 20, height: 4, writes: [] },
  {
    name: 'plain rows with padding',
    width: 40,
    height: 5,
    writes: [
      [0, 0, '  TIME     SOURCE KIND  MESSAGE'],
      [0, 1, '  16:01:02 pg0    tick  event 1      '],
      [0, 3, 'last line'],
    ],
  },
  {
    name: 'styled: colour, inverse selection, bold header, background badge, styled trailing blank',
    width: 50,
    height: 6,
    writes: [
      [0, 0, `${bold(red('pgdeck'))} Events ${onYellow(' READ-ONLY ')} · sources 6/6`],
      [0, 1, inverse('▶ 16:01:02 a/pg0 decided   ')],
      [2, 2, red('error: boom') + ' then plain'],
      [0, 3, `${red('a')}${red('b')}${bold(red('c'))}${red('d')}`],
      [45, 4, inverse('   ')],
    ],
  },
  {
    name: 'multi-line text, overlap, beyond the width and the height',
    width: 12,
    height: 3,
    writes: [
      [0, 0, 'first line that is too long\nsecond\nthird\nfourth'],
      [3, 1, red('XY')],
      [10, 2, 'spill over the edge'],
    ],
  },
  {
    name: 'wide characters and emoji',
    width: 16,
    height: 2,
    writes: [
      [0, 0, `漢字 ${red('表')} ok`],
      [0, 1, '👍 done ✓'],
    ],
  },
  {
    name: 'transformers',
    width: 30,
    height: 2,
    writes: [[1, 0, 'one\ntwo', [(s, i) => (i === 0 ? red(s) : s.toUpperCase())]]],
  },
];

describe("Ink's Output with the faster get()", () => {
  let Output: InkOutputClass;
  let original: InkOutputClass['prototype']['get'];

  beforeAll(async () => {
    Output = await inkOutputClass();
    original = Output.prototype.get;
    await speedUpInkOutput();
  });

  it('is installed on the Output class Ink renders with', () => {
    expect(Output.prototype.get).not.toBe(original);
  });

  it.each(frames)('gives the frame Ink gives: $name', ({ width, height, writes }) => {
    const output = new Output({ width, height });
    for (const [x, y, text, transformers] of writes) output.write(x, y, text, { transformers: transformers ?? [] });
    const fast = output.get();
    expect(fast).toEqual(original.call(output as never));
    expect(fast.height).toBe(height);
  });

  it('gives the same frames again from the lines it kept from the last frame', () => {
    const draw = (): { output: string; height: number }[] => {
      const output = new Output({ width: 40, height: 3 });
      output.write(0, 0, `${red('x')} plain ~ line`, { transformers: [] });
      output.write(0, 1, '▶ 16:01:02 …', { transformers: [] });
      output.write(0, 2, 'plain ~ line', { transformers: [] });
      return [output.get(), original.call(output as never)];
    };
    const [first, expected] = draw();
    const [again] = draw();
    expect(first).toEqual(expected);
    expect(again).toEqual(expected);
  });

  it('leaves frames with clipping to Ink', () => {
    const output = new Output({ width: 10, height: 2 });
    output.clip({ x1: 2, x2: 6, y1: 0, y2: 1 });
    output.write(0, 0, red('clipped text'), { transformers: [] });
    output.unclip();
    expect(output.get()).toEqual(original.call(output as never));
    expect(output.get().output).not.toContain('clipped');
  });
});
