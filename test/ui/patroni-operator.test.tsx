import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentDefinition } from '../../src/agents/kernel/agent.js';
import { startAgent, type RunningAgent } from '../../src/agents/kernel/runtime.js';
import { operatorActions } from '../../src/agents/patroni-operator/actions.js';
import type { OperatorState } from '../../src/agents/patroni-operator/types.js';
import { waitFor } from '../helpers/wait-for.js';
import { selectRow, showConsole } from './console-harness.js';

const state: OperatorState = {
  synced: true,
  clusters: [
    {
      namespace: 'prod',
      name: 'orders',
      phase: 'Running',
      replicas: 3,
      readyReplicas: 3,
      primaryPod: 'orders-0',
      paused: false,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'primary orders-0, 3/3 ready' }],
      members: [
        { name: 'orders-0', role: 'master', ready: true },
        { name: 'orders-1', role: 'replica', ready: true },
        { name: 'orders-2', role: 'replica', ready: false },
      ],
    },
    {
      namespace: 'prod',
      name: 'broken',
      phase: 'Failed',
      replicas: 1,
      readyReplicas: 0,
      primaryPod: null,
      paused: false,
      // as the operator publishes them (Ready, Progressing, Degraded, ConfigurationValid, ReplicasReady): the view names the cause first
      conditions: [
        { type: 'Ready', status: 'False', reason: 'Failed', message: 'phase Failed: 0/1 members ready' },
        { type: 'Degraded', status: 'True', reason: 'Failed', message: 'no ready primary' },
        {
          type: 'ConfigurationValid',
          status: 'False',
          reason: 'InvalidSpec',
          message: 'spec.version 9 is not supported: use one of 13, 14, 15, 16, 17',
        },
      ],
      members: [],
    },
  ],
};

interface Recorder {
  readonly calls: { action: string; args: unknown }[];
}

type Definition = AgentDefinition<{ instance: string }, Recorder, OperatorState, { kind: 'none' }, OperatorState>;

/**
 * The operator's published face over the real kernel: its snapshot is `state`, its scale preview is the
 * operator's own (it reads only the snapshot), and invokes are recorded instead of reaching a cluster.
 */
const operatorDouble: Definition = {
  name: 'patroni-operator',
  description: 'test double publishing an operator state',
  identify: ({ instance }) => ({ entity: 'prod', instance, label: instance }),
  configSchema: z.object({ instance: z.string() }),
  cliOptions: [],
  connect: () => Promise.resolve({ calls: [] }),
  observe: () => Promise.resolve(state),
  decide: (observed) => ({ actions: [], summary: 'in step', publish: observed }),
  act: () => Promise.resolve(),
  reachability: () => ({ kubernetes: true }),
  actions: {
    scale: {
      ...operatorActions.scale!,
      preview: (ctx, args) => operatorActions.scale!.preview(ctx as never, args),
      invoke: (ctx, args: unknown) => {
        ctx.deps.calls.push({ action: 'scale', args });
        return Promise.resolve({ action: 'scale', ok: true, message: 'scaled' });
      },
    },
  },
  close: () => Promise.resolve(),
};

let running: RunningAgent<{ instance: string }, Recorder, OperatorState> | undefined;
afterEach(async () => {
  cleanup();
  await running?.close();
});

describe('the patroni-operator console module', () => {
  it('shows the Clusters view (phase, conditions, members), previews - without acting when cancelled, and scales a cluster with + after its preview', async () => {
    running = await startAgent(operatorDouble, { instance: 'operator-a' });
    await waitFor(() => running?.reader.getSnapshot().state !== undefined, 'the operator to publish', 5000);
    const c = await showConsole([{ reader: running.reader, control: running.control }], { view: 'pgclusters' });
    await waitFor(() => c.frame().includes('prod/orders'), 'the Clusters view', 3000);
    const frame = c.frame();
    expect(frame).toMatch(/prod\/orders\s+Running\s+3\/3\s+orders-0\s+all conditions met/);
    expect(frame).toMatch(
      /prod\/broken\s+Failed\s+0\/1\s+-\s+ConfigurationValid=False: spec\.version 9 is not supported/,
    );
    expect(frame).toMatch(/prod\/orders\s+orders-0\s+primary\s+ready/);
    expect(frame).toMatch(/prod\/orders\s+orders-2\s+replica\s+not ready/);

    expect(await selectRow(c, /^▶ prod\/orders\s/)).toMatch(/orders/);
    await c.press('-');
    await waitFor(() => c.frame().includes('Proceed?'), 'the scale-down preview', 3000);
    expect(c.frame()).toContain('prod/orders: 3 -> 2 members');
    expect(c.frame()).toContain('the highest-numbered 1 pod(s) stop; their volumes stay');
    await c.press('n');
    await waitFor(() => !c.frame().includes('Proceed?'), 'the preview to close', 3000);
    expect(running.deps.calls).toEqual([]);

    await c.press('+');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    expect(c.frame()).toContain('prod/orders: 3 -> 4 members');
    expect(running.deps.calls).toEqual([]);
    await c.press('y');
    await waitFor(() => running!.deps.calls.length > 0, 'the invoke', 3000);
    expect(running.deps.calls).toEqual([{ action: 'scale', args: { cluster: 'prod/orders', replicas: 4 } }]);
  });
});
