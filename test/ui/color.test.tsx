import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { colorEnabled } from '../../src/ui/theme.js';
import { waitFor } from '../helpers/wait-for.js';
import type * as Harness from './console-harness.js';
import type * as Testing from 'ink-testing-library';
import type * as Start from '../../src/ui/start.js';
import { daemonView } from '../fixtures/ui/failover-state.js';

// Colour support is decided when Ink's colour library loads: force it on, then load the console.
process.env.FORCE_COLOR = '1';
// Ink writes only the last frame when it believes it runs in CI (read when it loads); CI runs this test with CI=true.
process.env.CI = 'false';
type Harness = typeof Harness;
type Testing = typeof Testing;
type Start = typeof Start;
let harness: Harness;
let testing: Testing;
let start: Start;
beforeAll(async () => {
  harness = await import('./console-harness.js');
  testing = await import('ink-testing-library');
  start = await import('../../src/ui/start.js');
});
afterEach(() => testing.cleanup());

/** SGR colour codes: foreground, background, bright, 256 and true colour, and their resets. */
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`);

const sources = () => ['pg0', 'pg1', 'pg2'].map((m) => ({ reader: harness.daemonStore(daemonView('main', m)) }));

describe('colour', () => {
  it('is on by default and off with color: false: no ANSI colour codes at all', async () => {
    const on = await harness.showConsole(sources(), { view: 'failover' });
    expect(on.frame()).toMatch(COLOUR);
    on.unmount();
    const off = await harness.showConsole(sources(), { view: 'failover', color: false });
    await off.press('?');
    await off.press('\x1b');
    await off.press('s');
    expect(off.frames.join('')).not.toMatch(COLOUR);
    expect(off.frame()).toContain('MEMBER');
  });

  it('NO_COLOR set to anything but empty turns it off, whatever the option says', () => {
    expect(colorEnabled(undefined, {})).toBe(true);
    expect(colorEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(undefined, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
  });
});

/** Ink's view of a terminal's input, as ink-testing-library builds it. */
class TerminalIn extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  type(chunk: string): void {
    this.data = chunk;
    this.emit('readable');
    this.emit('data', chunk);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

async function runConsole(options: { env: NodeJS.ProcessEnv; color?: boolean }): Promise<string> {
  const written: string[] = [];
  const stdout = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        written.push(String(chunk));
        done();
      },
    }),
    { columns: 120, rows: 30, isTTY: true },
  ) as unknown as NodeJS.WriteStream;
  const stdin = new TerminalIn();
  const handles = sources().map(({ reader }) => ({
    name: reader.name,
    reader,
    control: { preview: () => Promise.reject(new Error('none')), invoke: () => Promise.reject(new Error('none')) },
    close: async () => undefined,
  }));
  const done = start.startUi({
    handles,
    readonly: false,
    context: {},
    env: options.env,
    ...(options.color === undefined ? {} : { color: options.color }),
    stdout,
    stdin: stdin as unknown as NodeJS.ReadStream,
  });
  await waitFor(() => written.join('').includes('ENTITIES'), 'the first frame', 5000);
  stdin.type('2');
  await waitFor(() => written.join('').includes('MEMBER'), 'the Failover view', 5000);
  stdin.type(':q\r');
  await done;
  return written.join('');
}

describe('startUi', () => {
  it('honours NO_COLOR and the color option; :q⏎ quits', async () => {
    const coloured = await runConsole({ env: {} });
    expect(coloured).toContain('MEMBER');
    expect(coloured).toMatch(COLOUR);
    const plain = await runConsole({ env: { NO_COLOR: '1' } });
    expect(plain).toContain('MEMBER');
    expect(plain).not.toMatch(COLOUR);
    expect(await runConsole({ env: {}, color: false })).not.toMatch(COLOUR);
  });
});
