import { ansiCodesToString, diffAnsiCodes, type AnsiCode } from '@alcalzone/ansi-tokenize';
import { loadInkOutputModule } from './ink-output-module.js';

/**
 * A faster `get()` for Ink 6.8's Output (build/output.js), the same frame out. Ink builds every frame
 * as a grid of width x height cell objects and turns each line back into a string cell by cell,
 * diffing the styles of each cell and the next with three new Sets: at 160x48 that is 7,680 cells,
 * about 15 MB of garbage and a third of the busy time of a loaded console. This version fills the
 * grid with one shared blank cell, skips the trailing blanks (Ink trims them anyway) and diffs
 * styles only where they change, and does not tokenize again a line of the last frame or a line of
 * plain ASCII. Frames with clipping (no view uses `overflow`) take Ink's own path.
 */

interface StyledChar {
  readonly type: 'char';
  readonly value: string;
  readonly fullWidth: boolean;
  readonly styles: AnsiCode[];
}

type Operation =
  | { readonly type: 'write'; x: number; y: number; text: string; transformers: ((s: string, i: number) => string)[] }
  | { readonly type: 'clip' }
  | { readonly type: 'unclip' };

interface OutputLike {
  width: number;
  height: number;
  operations: Operation[];
  caches: { getStyledChars(line: string): StyledChar[]; getStringWidth(text: string): number };
}

type Get = (this: OutputLike) => { output: string; height: number };

/** Never changed: Ink only replaces cells of its grid, it does not write into them. */
const BLANK: StyledChar = Object.freeze({ type: 'char', value: ' ', fullWidth: false, styles: [] });

function sameStyles(a: AnsiCode[], b: AnsiCode[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.code !== b[i]!.code || a[i]!.endCode !== b[i]!.endCode) return false;
  return true;
}

/** One grid line as Ink's styledCharsToString(...).trimEnd() makes it. */
export function lineToString(line: readonly (StyledChar | undefined)[]): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === BLANK || line[end - 1] === undefined)) end--;
  let out = '';
  let previous: AnsiCode[] | undefined;
  for (let i = 0; i < end; i++) {
    const char = line[i];
    if (char === undefined) continue;
    if (previous === undefined) out += ansiCodesToString(char.styles);
    else if (!sameStyles(previous, char.styles)) out += ansiCodesToString(diffAnsiCodes(previous, char.styles));
    out += char.value;
    previous = char.styles;
  }
  if (previous !== undefined && previous.length > 0) out += ansiCodesToString(diffAnsiCodes(previous, []));
  return out.trimEnd();
}

/** Printable ASCII and nothing else: one cell per character, no styles. */
const PLAIN = /^[\x20-\x7e]*$/;

/** The lines of this frame and of the one before, tokenized: most lines of a frame were in the last one. */
let lastFrame = new Map<string, StyledChar[]>();
let thisFrame = new Map<string, StyledChar[]>();

/** A line's cells as Ink's tokenizer makes them, without tokenizing plain or already seen lines again. */
function styledChars(line: string, output: OutputLike): StyledChar[] {
  let chars = thisFrame.get(line) ?? lastFrame.get(line);
  if (chars === undefined)
    chars = PLAIN.test(line)
      ? Array.from(line, (value): StyledChar => ({ type: 'char', value, fullWidth: false, styles: [] }))
      : output.caches.getStyledChars(line);
  thisFrame.set(line, chars);
  return chars;
}

function writeLines(grid: StyledChar[][], output: OutputLike, op: Extract<Operation, { type: 'write' }>): void {
  const lines = op.text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const row = grid[op.y + index];
    if (row === undefined) continue;
    let line = lines[index]!;
    for (const transformer of op.transformers) line = transformer(line, index);
    let x = op.x;
    for (const char of styledChars(line, output)) {
      row[x] = char;
      const width = Math.max(1, output.caches.getStringWidth(char.value));
      for (let k = 1; k < width; k++) row[x + k] = { type: 'char', value: '', fullWidth: false, styles: char.styles };
      x += width;
    }
  }
}

function fastGet(original: Get): Get {
  return function get(this: OutputLike) {
    if (this.operations.some((op) => op.type === 'clip')) return original.call(this);
    const grid: StyledChar[][] = [];
    for (let y = 0; y < this.height; y++) grid.push(new Array<StyledChar>(this.width).fill(BLANK));
    for (const op of this.operations) if (op.type === 'write' && op.text !== '') writeLines(grid, this, op);
    lastFrame = thisFrame;
    thisFrame = new Map();
    return { output: grid.map(lineToString).join('\n'), height: grid.length };
  };
}

let installed: Promise<void> | undefined;

export interface InkOutput {
  write(x: number, y: number, text: string, options: { transformers: ((s: string, i: number) => string)[] }): void;
  clip(clip: { x1?: number; x2?: number; y1?: number; y2?: number }): void;
  unclip(): void;
  get(): { output: string; height: number };
}

export interface InkOutputClass {
  new (options: { width: number; height: number }): InkOutput;
  prototype: { get: Get };
}

/** Ink's Output class, the module instance Ink itself renders with (the file Ink imports). */
export async function inkOutputClass(): Promise<InkOutputClass> {
  const module = (await loadInkOutputModule()) as { default: InkOutputClass };
  return module.default;
}

/** Puts the faster `get()` on Ink's Output, once, before the console renders. */
export function speedUpInkOutput(): Promise<void> {
  installed ??= inkOutputClass().then((Output) => {
    Output.prototype.get = fastGet(Output.prototype.get);
  });
  return installed;
}
