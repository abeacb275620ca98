import { setTimeout as delay } from 'node:timers/promises';
import { PgdeckError } from '../../agents/kernel/errors.js';
import type { HistoryEntry } from '../../agents/failover/types.js';
import type { FailoverCluster, FailoverMember } from '../procs/failover-cluster.js';
import { probeSeqs, resetProbeTable } from '../workload/probe-table.js';
import { lostWrites, startWriteProbe, unavailabilityWindow, type Attempt } from '../workload/write-probe.js';
import { nodeOf, type Stack } from './stack.js';

export const CHAOS_ACTIONS = [
  'kill-node',
  'kill-postgres',
  'freeze',
  'thaw',
  'partition',
  'heal',
  'restart-etcd',
  'restart-redis',
  'restart-apiserver',
] as const;
export type ChaosAction = (typeof CHAOS_ACTIONS)[number];

/** What a drill did, in numbers from the write probe (through the write port) and the flight recorder. */
export interface ChaosReport {
  readonly action: ChaosAction;
  readonly target: string;
  readonly at: string;
  /** Fault to the first write that started after it was injected and was acknowledged (ms); null when writes did not come back in time. */
  readonly recoveryMs: number | null;
  /** The widest gap between two acknowledged writes from the fault on: the outage a client saw (ms). */
  readonly outageMs: number;
  /** Fault to the cluster healthy again: a primary with every member streaming (ms). */
  readonly healedMs: number | null;
  readonly writesAcked: number;
  readonly writesFailed: number;
  /** Acknowledged writes missing on the primary afterwards. */
  readonly writesLost: number;
  /** The failover or switchover the flight recorder holds for this drill, if one happened. */
  readonly failover: { readonly from: string | null; readonly to: string | null; readonly signal: string } | null;
  readonly detail: string;
}

export function parseChaosAction(name: unknown): ChaosAction {
  const found = CHAOS_ACTIONS.find((a) => a === name);
  if (found === undefined)
    throw new PgdeckError(
      'invalid-argument',
      `unknown chaos action ${String(name)}; one of ${CHAOS_ACTIONS.join(', ')}`,
    );
  return found;
}

const RECOVERY_TIMEOUT_MS = 30_000;

/** Runs one drill against the running stack and measures it. */
export async function runChaos(stack: Stack, action: ChaosAction, node: string | undefined): Promise<ChaosReport> {
  const cluster = need(stack.failover, 'the failover cluster');
  const proxy = need(stack.haproxy, 'haproxy');
  if ((action === 'partition' || action === 'heal') && stack.network === undefined)
    throw new PgdeckError(
      'invalid-argument',
      `chaos ${action} needs a lab whose nodes run in network namespaces: \`pgdeck lab up --netns\` (as root)`,
    );
  const target = await pickTarget(cluster, stack, action, node);
  await resetProbeTable(proxy.writePort);
  const probe = startWriteProbe('127.0.0.1', String(proxy.writePort));
  await waitFor(() => probe.attempts.filter((a) => a.ok).length >= 10, 15_000, 'the write probe to start');
  const at = Date.now();
  const detail = await inject(stack, action, target);
  const injected = Date.now();
  const recovered = await waitFor(
    () => firstAckAfter(probe.attempts, injected) !== undefined,
    RECOVERY_TIMEOUT_MS,
    '',
  ).then(
    () => true,
    () => false,
  );
  const healed = await heal(stack, action, target);
  await delay(500);
  await probe.stop();
  const after = probe.attempts.filter((a) => a.start >= at);
  const lost = lostWrites(probe.attempts, await probeSeqs(proxy.writePort));
  const ack = firstAckAfter(probe.attempts, injected);
  return {
    action,
    target: target?.name ?? targetOf(action),
    at: new Date(at).toISOString(),
    recoveryMs: recovered && ack !== undefined ? Math.round(ack.end - at) : null,
    healedMs: healed === null ? null : Math.round(healed - at),
    outageMs: Math.round(unavailabilityWindow(probe.attempts, at, Date.now())),
    writesAcked: after.filter((a) => a.ok).length,
    writesFailed: after.filter((a) => !a.ok).length,
    writesLost: lost.length,
    failover: await flightRecord(cluster, at),
    detail,
  };
}

function need<T>(part: T | undefined, what: string): T {
  if (part === undefined) throw new PgdeckError('unavailable', `${what} is not running in this lab`);
  return part;
}

const targetOf = (action: ChaosAction): string =>
  action === 'restart-etcd' ? 'etcd' : action === 'restart-redis' ? 'redis' : 'kube-apiserver';

const nodeActions: readonly ChaosAction[] = ['kill-node', 'kill-postgres', 'freeze', 'thaw', 'partition', 'heal'];

/** A node drill hits `node`, or the primary when none is named (`thaw`: the frozen one; `heal`: the cut one). */
async function pickTarget(
  cluster: FailoverCluster,
  stack: Stack,
  action: ChaosAction,
  node: string | undefined,
): Promise<FailoverMember | undefined> {
  if (!nodeActions.includes(action)) return undefined;
  if (node !== undefined) {
    const m = cluster.members.find((x) => x.name === node);
    if (m === undefined)
      throw new PgdeckError(
        'invalid-argument',
        `no node ${node}; the lab has ${cluster.members.map((x) => x.name).join(', ')}`,
      );
    return m;
  }
  if (action === 'thaw') return undoing(cluster, stack.frozen, 'frozen', 'freeze');
  if (action === 'heal') return undoing(cluster, stack.partitioned, 'partitioned', 'partition');
  const primary = await cluster.primary();
  if (primary === null) throw new PgdeckError('unavailable', 'the cluster has no primary right now; try again');
  return cluster.member(primary);
}

/** The node an earlier drill left frozen or cut off. */
function undoing(cluster: FailoverCluster, hit: ReadonlySet<string>, state: string, drill: string): FailoverMember {
  const found = cluster.members.find((m) => hit.has(m.name));
  if (found === undefined)
    throw new PgdeckError('invalid-argument', `no node is ${state}; \`chaos ${drill}\` one first`);
  return found;
}

async function inject(stack: Stack, action: ChaosAction, target: FailoverMember | undefined): Promise<string> {
  switch (action) {
    case 'kill-node':
      target!.killNode('SIGKILL');
      return `kill -9 of ${target!.name}'s daemon and server`;
    case 'kill-postgres':
      target!.killPostgres('SIGKILL');
      return `kill -9 of ${target!.name}'s server only`;
    case 'freeze':
      target!.killNode('SIGSTOP');
      stack.frozen.add(target!.name);
      return `SIGSTOP of ${target!.name}'s daemon and server (thaw with \`chaos thaw\`)`;
    case 'thaw':
      target!.killNode('SIGCONT');
      stack.frozen.delete(target!.name);
      return `SIGCONT of ${target!.name}`;
    case 'partition':
      nodeOf(stack, target!.name)!.cut();
      stack.partitioned.add(target!.name);
      return `${target!.name}'s link to the bridge cut: it reaches nothing, nothing reaches it (heal with \`chaos heal\`)`;
    case 'heal':
      nodeOf(stack, target!.name)!.heal();
      stack.partitioned.delete(target!.name);
      return `${target!.name}'s link to the bridge up again`;
    case 'restart-etcd': {
      const etcd = need(stack.etcd, 'etcd');
      const member = await etcd.restart();
      return etcd.members === 1
        ? 'etcd stopped and started on its data'
        : `etcd member ${member} (the leader) of ${etcd.members} stopped and started on its data; quorum kept`;
    }
    case 'restart-redis':
      await need(stack.redis, 'Redis').restart();
      return 'Redis stopped and started on its append-only file';
    case 'restart-apiserver': {
      const kube = need(stack.kube, 'the Kubernetes control plane');
      await kube.stopApiServer('SIGKILL');
      await kube.startApiServer();
      return 'kube-apiserver killed and started again';
    }
  }
}

/** Brings a killed node back (its daemon restarts its server) and waits for a healthy cluster; null on timeout. */
async function heal(stack: Stack, action: ChaosAction, target: FailoverMember | undefined): Promise<number | null> {
  const cluster = stack.failover!;
  if (action === 'freeze' || action === 'partition') return null;
  if (action === 'kill-node' && target !== undefined) await target.startDaemon();
  try {
    await cluster.waitHealthy(60_000);
    return Date.now();
  } catch {
    return null;
  }
}

function firstAckAfter(attempts: readonly Attempt[], at: number): Attempt | undefined {
  return attempts.find((a) => a.ok && a.start >= at);
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new PgdeckError('timeout', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

/** The newest failover or switchover that started after the fault, from any member that answers. */
async function flightRecord(cluster: FailoverCluster, at: number): Promise<ChaosReport['failover']> {
  for (const m of cluster.members) {
    const res = await fetch(`${m.apiUrl}/history`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
    if (res?.status !== 200) continue;
    const history = ((await res.json()) as { history: HistoryEntry[] }).history;
    const entry = history.filter((h) => h.startedAt >= at - 1000).sort((a, b) => b.startedAt - a.startedAt)[0];
    return entry === undefined ? null : { from: entry.oldPrimary, to: entry.newPrimary, signal: entry.signal };
  }
  return null;
}
