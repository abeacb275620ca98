import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { ActionPreview } from '../../src/agents/kernel/snapshot.js';
import type { ConsoleLauncher, LaunchOutcome } from '../../src/ui/launcher.js';
import { waitFor } from '../helpers/wait-for.js';
import { daemonView } from '../fixtures/ui/failover-state.js';
import { showConsole, startDaemons, type Daemon } from './console-harness.js';

let daemons: Daemon[] = [];
afterEach(async () => {
  cleanup();
  await Promise.all(daemons.map((d) => d.close()));
  daemons = [];
});

const cluster = (name: string): Promise<Daemon[]> =>
  startDaemons(['pg0', 'pg1', 'pg2'].map((m) => daemonView(name, m)));

/**
 * A launcher as main hands one in: its preview, and a launch that reports progress, waits until the
 * test lets it finish, and then hands over the real kernel runtimes of a second cluster.
 */
function launcher(preview: Partial<ActionPreview> = {}) {
  let release: (outcome: 'ok' | 'fail') => void = () => undefined;
  const gate = new Promise<'ok' | 'fail'>((resolve) => (release = resolve));
  const launched: string[] = [];
  const l: ConsoleLauncher = {
    id: 'lab',
    keys: ['L'],
    label: 'L',
    description: 'set up the local lab (pgdeck lab up) and attach to it',
    hint: 'lab',
    views: ['lab'],
    preview: () =>
      Promise.resolve({
        action: 'lab up',
        allowed: true,
        summary: 'pgdeck lab up in /tmp/x, directly',
        effects: [],
        ...preview,
      }),
    launch: async (progress): Promise<LaunchOutcome> => {
      launched.push('launch');
      progress('etcd ready (0.4 s)');
      if ((await gate) === 'fail') return { kind: 'failed', message: 'etcd: port in use' };
      const more = await cluster('b');
      daemons.push(...more);
      await waitFor(() => more.every((d) => d.reader.getSnapshot().state !== undefined), 'b to publish', 5000);
      return {
        kind: 'attached',
        message: 'attached (:lab)',
        sources: more.map((d) => ({ reader: d.reader, control: d.control })),
      };
    },
  };
  return { l, release, launched };
}

async function console_(l: ConsoleLauncher, readonly = false) {
  daemons = await cluster('a');
  await waitFor(() => daemons.every((d) => d.reader.getSnapshot().state !== undefined), 'a to publish', 5000);
  return showConsole(
    daemons.map((d) => ({ reader: d.reader, control: d.control })),
    { launchers: [l], readonly },
  );
}

describe('a console-level launcher (the lab’s L outside lab mode)', () => {
  it('is not a source: the header counts only the daemons; help lists L under this console', async () => {
    const { l } = launcher();
    const c = await console_(l);
    await waitFor(() => /sources 3\/3 live/.test(c.frame()), 'three live sources', 3000);
    await c.press('?');
    expect(c.frame()).toMatch(
      /│ This console\s+│\n│\s+L\s+set up the local lab \(pgdeck lab up\) and attach to it \(asks first\)/,
    );
    await c.press('\x1b');
    await c.press(':lab\r');
    expect(c.frame()).toMatch(/<L> lab|L lab/);
  });

  it('asks first, shows progress in the status line, then attaches what it brought up', async () => {
    const { l, release, launched } = launcher();
    const c = await console_(l);
    await c.press('L');
    await waitFor(() => c.frame().includes('Proceed?'), 'the question', 3000);
    expect(c.frame()).toContain('set up the local lab (pgdeck lab up) and attach to it (from this console)');
    expect(c.frame()).toContain('pgdeck lab up in /tmp/x, directly');
    expect(launched).toEqual([]);
    await c.press('y');
    await waitFor(() => c.frame().includes('lab: etcd ready (0.4 s)'), 'the progress', 3000);
    expect(launched).toEqual(['launch']);
    expect(c.frame()).toMatch(/sources 3\/3 live/);
    release('ok');
    await waitFor(() => c.frame().includes('lab: done: attached (:lab)'), 'the outcome', 5000);
    await waitFor(() => /sources 6\/6 live/.test(c.frame()), 'six live sources', 3000);
    expect(c.frame()).toMatch(/^▶ failover a\s+ok\s+3\/3/m);
    expect(c.frame()).toMatch(/^ {2}failover b\s+ok\s+3\/3/m);
    expect(c.frame()).toMatch(/in-process b\/pg2\s+live/);
  });

  it('n cancels without launching; a failed launch says why and attaches nothing', async () => {
    const { l, release, launched } = launcher();
    const c = await console_(l);
    await c.press('L');
    await waitFor(() => c.frame().includes('Proceed?'), 'the question', 3000);
    await c.press('n');
    expect(c.frame()).toContain('lab cancelled');
    expect(launched).toEqual([]);
    await c.press('L');
    await waitFor(() => c.frame().includes('Proceed?'), 'the question again', 3000);
    await c.press('\r');
    release('fail');
    await waitFor(() => c.frame().includes('lab failed: etcd: port in use'), 'the failure', 3000);
    expect(launched).toEqual(['launch']);
    expect(c.frame()).toMatch(/sources 3\/3 live/);
  });

  it('a preview that refuses shows why, and y does not launch', async () => {
    const { l, launched } = launcher({ allowed: false, reason: 'this console is attached to the lab already' });
    const c = await console_(l);
    await c.press('L');
    await waitFor(() => c.frame().includes('Not possible now'), 'the refusal', 3000);
    expect(c.frame()).toContain('this console is attached to the lab already');
    await c.press('y');
    expect(c.frame()).not.toContain('Not possible now');
    expect(launched).toEqual([]);
  });

  it('read-only mode removes it: not in help, L does nothing', async () => {
    const { l, launched } = launcher();
    const c = await console_(l, true);
    await c.press('?');
    expect(c.frame()).not.toContain('set up the local lab');
    await c.press('\x1b');
    await c.press('L');
    expect(c.frame()).not.toContain('Proceed?');
    expect(launched).toEqual([]);
  });
});
