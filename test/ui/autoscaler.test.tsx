import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { AutoscalerState } from '../../src/agents/autoscaler/types.js';
import type { ActionPreview, ActionResult, AgentControl } from '../../src/agents/kernel/snapshot.js';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { waitFor } from '../helpers/wait-for.js';
import { NOW } from '../fixtures/ui/failover-state.js';
import { selectRow, showConsole } from './console-harness.js';

afterEach(() => cleanup());

const phases = (running: number, succeeded = 0, failed = 0) => ({
  Pending: 0,
  Running: running,
  Succeeded: succeeded,
  Failed: failed,
  Unknown: 0,
});

const state: AutoscalerState = {
  stream: 'otto:scale:events',
  group: 'autoscaler',
  consumer: 'scaler-0',
  deadLetterStream: 'otto:scale:events:dead',
  redis: { reachable: true, error: null },
  length: 42,
  lag: 3,
  pending: 2,
  consumers: [
    { name: 'scaler-0', pending: 2, idleMs: 120 },
    { name: 'scaler-1', pending: 0, idleMs: 45_000 },
  ],
  inFlight: 5,
  maxPodsInFlight: 200,
  tasks: [
    { taskId: 'task-123', phases: phases(3), pods: [] },
    { taskId: 'task-124', phases: phases(0, 1, 1), pods: [] },
  ],
  targets: [
    { name: 'workers', kind: 'StatefulSet', replicas: 2, currentReplicas: 2, min: 1, max: 4, resourceVersion: '9' },
  ],
  deadLetters: 1,
  lastDeadLetters: [
    {
      id: '1700000000000-0',
      originalId: '1-0',
      reason: 'pod_count must be 1..50, got "abc"',
      fields: { type: 'scale_up' },
    },
  ],
};

/** The autoscaler's published face, and a control that previews and records what the console sends. */
function scaler(over: Partial<AutoscalerState> = {}): {
  store: AgentStore;
  control: AgentControl;
  calls: { name: string; args: unknown }[];
} {
  const store = new AgentStore('autoscaler', {
    now: () => NOW,
    identity: { kind: 'autoscaler', entity: 'otto:scale:events/autoscaler', instance: 'scaler-0', label: 'scaler-0' },
  });
  store.update({
    state: { ...state, ...over },
    summary: 'lag 3, 2 pending',
    actions: ['scale', 'send-test-event', 'retry-dead-letter', 'drop-dead-letter'].map((name) => ({
      name,
      description: name,
      dangerous: true,
      args: '',
    })),
    health: { status: 'ok', live: true, ready: true, passes: 3, consecutiveErrors: 0, dependencies: {} },
  });
  const calls: { name: string; args: unknown }[] = [];
  const control: AgentControl = {
    preview: (name, args): Promise<ActionPreview> =>
      Promise.resolve({ action: name, allowed: true, summary: `would ${name} ${JSON.stringify(args)}`, effects: [] }),
    invoke: (name, args): Promise<ActionResult> => {
      calls.push({ name, args });
      return Promise.resolve({ action: name, ok: true, message: `${name} sent` });
    },
  };
  return { store, control, calls };
}

describe('the autoscaler console module', () => {
  it('shows the stream, group lag, pending, workers by phase per task, targets, consumers and dead letters', async () => {
    const s = scaler();
    const c = await showConsole([{ reader: s.store, control: s.control }]);
    await c.press(':as\r');
    await waitFor(() => c.frame().includes('WORKERS BY TASK'), 'the autoscaler view', 3000);
    const frame = c.frame();
    expect(frame).toContain('length 42, lag 3, pending 2 · stream otto:scale:events group autoscaler');
    expect(frame).toContain('in flight 5/200 · dead letters 1 · replicas scaler-0');
    expect(frame).toMatch(/task-123\s+0\s+3\s+0\s+0/);
    expect(frame).toMatch(/task-124\s+0\s+0\s+1\s+1/);
    expect(frame).toMatch(/workers\s+StatefulSet\s+2\s+2\s+1\s+4/);
    expect(frame).toMatch(/scaler-1\s+0\s+45/);
    expect(frame).toContain('pod_count must be 1..50, got "abc"');
  });

  it('shows every stream figure on an 80x24 terminal (two banner lines, figures first)', async () => {
    const s = scaler();
    const c = await showConsole([{ reader: s.store, control: s.control }], { size: { columns: 80, rows: 24 } });
    await c.press(':as\r');
    await waitFor(() => c.frame().includes('WORKERS BY TASK'), 'the autoscaler view', 3000);
    const lines = c.frame().split('\n');
    expect(lines.find((l) => l.startsWith('length '))).toBe(
      'length 42, lag 3, pending 2 · stream otto:scale:events group autoscaler',
    );
    expect(lines.find((l) => l.startsWith('in flight '))).toBe('in flight 5/200 · dead letters 1 · replicas scaler-0');
    expect(lines.length).toBeLessThan(24);
  });

  it('shows what only Redis knows as unknown while Redis is unreachable, not as zero', async () => {
    const s = scaler({
      redis: { reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:6390' },
      length: 0,
      lag: null,
      pending: 0,
      deadLetters: 0,
    });
    const c = await showConsole([{ reader: s.store, control: s.control }], { size: { columns: 160, rows: 40 } });
    await c.press(':as\r');
    await waitFor(() => c.frame().includes('WORKERS BY TASK'), 'the autoscaler view', 3000);
    const frame = c.frame();
    expect(frame).toContain(
      'length ?, lag ?, pending ? · stream otto:scale:events group autoscaler · redis unreachable: connect ECONNREFUSED 127.0.0.1:6390',
    );
    expect(frame).toContain('in flight 5/200 · dead letters ? · replicas scaler-0');
  });

  it('+ on a target previews and invokes scale by one; t sends a test event after its preview', async () => {
    const s = scaler();
    const c = await showConsole([{ reader: s.store, control: s.control }]);
    await c.press(':as\r');
    await waitFor(() => c.frame().includes('WORKERS BY TASK'), 'the autoscaler view', 3000);
    await c.press('\t');
    expect(await selectRow(c, /^▶ workers\s/)).toMatch(/^▶ workers/);
    await c.press('+');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    expect(c.frame()).toContain('would scale {"target":"workers","replicas":3}');
    await c.press('y');
    await waitFor(() => s.calls.length === 1, 'the scale invoke', 3000);
    expect(s.calls).toEqual([{ name: 'scale', args: { target: 'workers', replicas: 3 } }]);

    await c.press('t');
    await waitFor(() => c.frame().includes('Proceed?'), 'the test event preview', 3000);
    expect(c.frame()).toContain('would send-test-event {"type":"scale_up","podCount":1,"taskId":"console-test"}');
    await c.press('y');
    await waitFor(() => s.calls.length === 2, 'the send invoke', 3000);
    expect(s.calls[1]).toEqual({
      name: 'send-test-event',
      args: { type: 'scale_up', podCount: 1, taskId: 'console-test' },
    });
  });
});
