import { fenceAfterMs } from '../failover-policy.js';
import type { DynamicConfig, FailoverObserved, PrimaryRecord } from '../types.js';
import { step, warn, type Step } from './step.js';

/**
 * What a server that cannot read etcd does: a primary keeps serving until its lease could have run
 * out, minus a margin (`within-margin`). After that it fences itself unless every peer daemon answers
 * that it cannot reach etcd either (`failsafe`): then nobody can be promoted (promotion needs etcd),
 * so an etcd outage causes no demotion storm. A client-side "lease lost" during the outage is not
 * proof: etcd extends leases when it comes back. Anything that is not a writable primary holds.
 */
export type OutageVerdict =
  | { readonly kind: 'hold' }
  | { readonly kind: 'within-margin'; readonly silentMs: number; readonly marginMs: number }
  | { readonly kind: 'failsafe'; readonly peers: number }
  | { readonly kind: 'fence'; readonly reason: string };

export function outageVerdict(o: FailoverObserved, dyn: DynamicConfig, now: number): OutageVerdict {
  const s = o.local.status;
  if (s === null || s.inRecovery || s.readOnly) return { kind: 'hold' };
  const silentMs = o.etcd.renewedAt === null ? Infinity : now - o.etcd.renewedAt;
  const marginMs = fenceAfterMs(dyn);
  if (silentMs <= marginMs) return { kind: 'within-margin', silentMs, marginMs };
  const peers = o.peers;
  if (peers.length > 0 && peers.every((p) => p.apiEtcdReachable === false))
    return { kind: 'failsafe', peers: peers.length };
  return {
    kind: 'fence',
    reason: `no lease renewal for ${Math.round(silentMs)} ms and not every peer confirms etcd is down`,
  };
}

/** Whether the verdict keeps this server the writable primary (what its health endpoints answer). */
export function servesWithoutEtcd(verdict: OutageVerdict): boolean {
  switch (verdict.kind) {
    case 'within-margin':
    case 'failsafe':
      return true;
    case 'hold':
    case 'fence':
      return false;
  }
}

/** The pass without etcd: the verdict's sentence, and the fence when it says so. */
export function withoutEtcd(verdict: OutageVerdict): readonly Step[] {
  const hold = step('self-protection', {
    summary: 'etcd unreachable: holding position (nothing can be promoted without etcd)',
    problem: 'etcd unreachable',
  });
  switch (verdict.kind) {
    case 'hold':
      return [hold];
    case 'within-margin':
      return [
        {
          ...hold,
          summary: `etcd unreachable for ${Math.round(verdict.silentMs)} ms: primary keeps serving until ${verdict.marginMs} ms`,
        },
      ];
    case 'failsafe':
      return [
        step('self-protection', {
          summary: `etcd unreachable; all ${verdict.peers} peers confirm they cannot reach it either, so none can be promoted: primary keeps serving (failsafe)`,
          problem: 'etcd unreachable (failsafe: primary kept)',
        }),
      ];
    case 'fence': {
      const summary = `fencing this primary: ${verdict.reason}`;
      return [
        step('self-protection', {
          actions: [{ kind: 'fence', reason: verdict.reason }],
          summary,
          problem: `primary fenced: ${verdict.reason}`,
          events: [warn('fenced', summary)],
        }),
      ];
    }
  }
}

/** A writable server that the record does not name is a second primary: it fences itself at once. */
export function fenceIfNotPrimary(o: FailoverObserved, record: PrimaryRecord, me: string): readonly Step[] | null {
  const s = o.local.status;
  if (s === null || s.inRecovery || s.readOnly || record.demoting !== null) return null;
  const summary = `fencing ${me}: it is writable but ${record.name} is the primary`;
  return [
    step('self-protection', {
      actions: [{ kind: 'fence', reason: `${record.name} is the primary (generation ${record.generation})` }],
      summary,
      events: [warn('fenced', summary)],
    }),
  ];
}

/**
 * The stopped server of the record's primary that served this generation crashed: it is not
 * restarted here (the leader fails over, or restarts it in place); the crash is remembered, so the
 * report says so even after a restart of this daemon.
 */
export function detectCrash(o: FailoverObserved, record: PrimaryRecord): readonly Step[] | null {
  const { crashedGeneration, servedGeneration } = o.memory;
  if (crashedGeneration !== record.generation && servedGeneration !== record.generation) return null;
  const summary = `postgres of primary ${record.name} crashed: waiting for the leader (failover, or restart in place)`;
  const first = crashedGeneration !== record.generation;
  return [
    step('self-protection', {
      actions: first ? [{ kind: 'remember-crash', generation: record.generation }] : [],
      summary,
      problem: `postgres of ${record.name} crashed`,
      events: first ? [{ severity: 'error', kind: 'primary-crashed', message: summary }] : [],
    }),
  ];
}
