import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { AgentStore } from '../../src/agents/kernel/store.js';
import { NOW, daemonView } from '../fixtures/ui/failover-state.js';
import { daemonStore, showConsole } from './console-harness.js';

afterEach(() => cleanup());

const stores = (): AgentStore[] =>
  ['a', 'b'].flatMap((c) => ['pg0', 'pg1', 'pg2'].map((m) => daemonStore(daemonView(c, m))));

/**
 * Frames written for: `events` journal entries (after the store flushed them), then one `j`. The
 * `j` frame comes after any frame of the flush, so the count holds whether the flush drew or not.
 */
async function framesFor(view: string, events: number): Promise<{ withEvents: number; keyAlone: number }> {
  const daemons = stores();
  const c = await showConsole(
    daemons.map((reader) => ({ reader })),
    { view },
  );
  let before = c.frames.length;
  await c.press('j');
  const keyAlone = c.frames.length - before;
  before = c.frames.length;
  const flushed = new Promise<void>((resolve) => {
    const stop = c.ui.subscribe(() => {
      stop();
      resolve();
    });
  });
  for (let i = 0; i < events; i++)
    daemons[i % daemons.length]!.record({ severity: 'info', kind: 'tick', message: `event ${i}`, time: NOW + i });
  await flushed;
  expect(c.ui.getSnapshot().events.length).toBeGreaterThanOrEqual(events);
  await c.press('j');
  return { withEvents: c.frames.length - before, keyAlone };
}

describe('frames: a flush that changes nothing drawn draws nothing', () => {
  it('the Overview draws no frame for journal events (it shows none of them)', async () => {
    const { withEvents, keyAlone } = await framesFor('overview', 12);
    expect(keyAlone).toBeGreaterThan(0);
    expect(withEvents).toBe(keyAlone);
  });

  it('the Events view draws the same events (the count above proves a drawing flush is seen)', async () => {
    const { withEvents, keyAlone } = await framesFor('events', 12);
    expect(withEvents).toBeGreaterThan(keyAlone);
  });
});
