import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { labHandle } from '../../src/lab/console-handle.js';
import type { ChaosReport } from '../../src/lab/stack/chaos.js';
import { serveControl } from '../../src/lab/stack/control.js';
import type { ComponentState, LabState } from '../../src/lab/stack/state.js';
import { waitFor } from '../helpers/wait-for.js';
import { showConsole } from './console-harness.js';

/**
 * The Lab view's partition (i) and heal (m) keys, over the lab's real console handle and a control
 * socket that answers as a supervisor does (its state, and a drill's report for every chaos call).
 */
const open: { server: Server; dir: string; close: () => Promise<void> }[] = [];
afterEach(async () => {
  cleanup();
  for (const o of open.splice(0)) {
    await o.close();
    await new Promise((resolve) => o.server.close(resolve));
    rmSync(o.dir, { recursive: true, force: true });
  }
});

const component = (name: string): ComponentState => ({
  name,
  phase: 'ready',
  detail: '',
  endpoints: {},
  logs: {},
  since: '',
});

async function labConsole(netns: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'pgdeck-labkeys-'));
  const state: LabState = {
    version: 1,
    dir,
    pid: process.pid,
    startedAt: new Date(0).toISOString(),
    token: 'secret-token-never-shown',
    netns,
    components: ['etcd', 'failover', 'haproxy', 'redis'].map(component),
  };
  const calls: Record<string, unknown>[] = [];
  const server = await serveControl(dir, {
    'GET /state': () => Promise.resolve({ status: 200, body: state }),
    'POST /chaos': (body) => {
      calls.push(body);
      const report: ChaosReport = {
        action: body.action as ChaosReport['action'],
        target: 'pg0',
        at: new Date(0).toISOString(),
        recoveryMs: 1200,
        outageMs: 1300,
        healedMs: null,
        writesAcked: 40,
        writesFailed: 3,
        writesLost: 0,
        failover: null,
        detail: `${String(body.action)} done`,
      };
      return Promise.resolve({ status: 200, body: report });
    },
  });
  const handle = labHandle(dir, 100);
  open.push({ server, dir, close: () => handle.close() });
  await waitFor(() => handle.reader.getSnapshot().state !== undefined, 'the lab state', 3000);
  const c = await showConsole([handle], { view: 'lab', size: { columns: 140, rows: 40 } });
  return { ...c, calls };
}

describe('the Lab view’s partition and heal keys', () => {
  it('are offered with --netns: i asks before it cuts the primary off, y runs the drill and shows its numbers', async () => {
    const c = await labConsole(true);
    await c.press('?');
    expect(c.frame()).toMatch(/\bi\s+cut the primary's node off the network \(partition\)/);
    expect(c.frame()).toMatch(/\bm\s+bring the cut node's link up again \(heal\)/);
    await c.press('?');
    await c.press('i');
    await waitFor(() => c.frame().includes('Proceed?'), 'the confirmation', 3000);
    expect(c.frame()).toContain('chaos-partition');
    expect(c.calls).toEqual([]);
    await c.press('y');
    await waitFor(() => c.calls.length === 1, 'the drill', 3000);
    expect(c.calls).toEqual([{ action: 'partition', node: '' }]);
    await waitFor(() => /chaos-partition: done/.test(c.frame()), 'the report', 3000);
    expect(c.frame()).not.toContain('secret-token-never-shown');
  });

  it('m asks too, and escape leaves the lab alone', async () => {
    const c = await labConsole(true);
    await c.press('m');
    await waitFor(() => c.frame().includes('Proceed?'), 'the confirmation', 3000);
    expect(c.frame()).toContain('chaos-heal');
    await c.press('\u001b');
    await waitFor(() => !c.frame().includes('Proceed?'), 'the confirmation to close', 3000);
    await c.press('m');
    await waitFor(() => c.frame().includes('Proceed?'), 'the confirmation again', 3000);
    await c.press('y');
    await waitFor(() => c.calls.length === 1, 'the drill', 3000);
    expect(c.calls).toEqual([{ action: 'heal', node: '' }]);
  });

  it('are not offered without --netns: neither in the help nor on a press', async () => {
    const c = await labConsole(false);
    await c.press('?');
    expect(c.frame()).toMatch(/\bh\s+freeze the primary's node/);
    expect(c.frame()).not.toMatch(/\(partition\)|\(heal\)/);
    await c.press('?');
    await c.press('i');
    await c.press('m');
    expect(c.frame()).not.toContain('Proceed?');
    expect(c.calls).toEqual([]);
  });
});
