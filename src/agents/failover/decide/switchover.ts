import { chooseCandidate, mib, primaryFailure } from '../failover-policy.js';
import type {
  ClusterView,
  DynamicConfig,
  FailoverAction,
  FailoverObserved,
  PrimaryRecord,
  SwitchoverRequest,
} from '../types.js';
import { historyEntry } from './history.js';
import { step, type Step } from './step.js';
import { promoteOptions } from './sync-standbys.js';

/** A primary that has not shut down yet gets this long beyond failoverTimeoutMs before the switchover is aborted. */
const demoteGraceMs = 5000;
/**
 * How soon a candidate looks at its own server again once the former primary has reported its
 * shutdown checkpoint: nothing wakes a daemon when its standby receives WAL, and the checkpoint
 * arrives within milliseconds (the WAL senders send it before the postmaster exits).
 */
const ownReceiptPollMs = 5;

const done = (parts: Parameters<typeof step>[1]): readonly Step[] => [step('switchover', parts)];

/**
 * Every step away from a demoting record is written on the record's revision: the leader's promotion
 * or abort and the candidate's own take-over can race, and only the first of them lands.
 */
export function onRevision(cluster: ClusterView): { readonly expectRevision?: number } {
  return cluster.primaryRevision === undefined ? {} : { expectRevision: cluster.primaryRevision };
}

/** A request against the current primary: refuse it, replace a primary that is down, or start the demotion. */
function begin(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  req: SwitchoverRequest,
  dyn: DynamicConfig,
  now: number,
  me: string,
): readonly Step[] {
  const choice = chooseCandidate({
    cluster,
    peers: o.peers,
    oldPrimary: record.name,
    config: dyn,
    requested: req.to,
    planned: req.kind === 'switchover',
    leader: me,
  });
  const requested = `${req.kind} requested by ${req.by}`;
  // A demotion takes the next generation, the promotion after it the one beyond.
  const promotedGeneration = record.generation + 2;
  const entry = { kind: req.kind, oldPrimary: record.name, choice, now } as const;
  if (choice.winner === null) {
    const refused = {
      ...historyEntry({ ...entry, generation: promotedGeneration, winner: req.to ?? '-', signal: requested }),
      newPrimary: null,
      outcome: 'aborted' as const,
      message: `${req.kind} refused: ${choice.reason}`,
    };
    return done({ actions: [{ kind: 'clear-switchover', history: refused }], summary: refused.message });
  }
  const report = cluster.members.find((m) => m.name === record.name);
  const peer = o.peers.find((p) => p.name === record.name);
  if (primaryFailure(record.name, record.generation, report, peer) !== null) {
    const generation = record.generation + 1;
    const oldEndpoint = cluster.endpoints[record.name];
    const fence: FailoverAction[] = oldEndpoint === undefined ? [] : [{ kind: 'remote-fence', member: oldEndpoint }];
    const history = historyEntry({
      ...entry,
      generation,
      winner: choice.winner,
      signal: `${requested} (primary down)`,
    });
    return done({
      actions: [
        ...fence,
        {
          kind: 'set-primary',
          record: { name: choice.winner, generation, since: now, demoting: null },
          history,
          clearSwitchover: true,
          resetSync: dyn.synchronousMode,
        },
      ],
      summary: `manual failover to ${choice.winner}: ${record.name} is down`,
    });
  }
  const history = historyEntry({ ...entry, generation: promotedGeneration, winner: choice.winner, signal: requested });
  return done({
    actions: [
      {
        kind: 'set-primary',
        record: {
          ...record,
          generation: record.generation + 1,
          since: now,
          demoting: { to: choice.winner, requestId: req.id, startedAt: now },
        },
        history,
        clearSwitchover: false,
        resetSync: false,
      },
    ],
    summary: `${req.kind}: demoting ${record.name} for ${choice.winner}`,
  });
}

/** The primary is demoting: promote the candidate once it has the shutdown checkpoint, or give up in time. */
function finish(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  demoting: NonNullable<PrimaryRecord['demoting']>,
  dyn: DynamicConfig,
  now: number,
  me: string,
): readonly Step[] {
  const to = demoting.to;
  const generation = record.generation + 1;
  const old = cluster.members.find((m) => m.name === record.name);
  const cand = cluster.members.find((m) => m.name === to);
  const local = o.local.status;
  // A leader that is the candidate reads its own server: its report in etcd is a pass old.
  const own = to === me && local?.inRecovery === true ? local : null;
  const candLsn = own?.receivedLsn ?? o.peers.find((p) => p.name === to)?.receivedLsn ?? cand?.receivedLsn ?? null;
  const waited = now - demoting.startedAt;
  const demoted = old?.demoted?.generation === record.generation ? old.demoted : null;
  const guard = onRevision(cluster);
  if (demoted !== null && candLsn !== null && candLsn > demoted.lsn)
    return done({
      actions: [
        {
          kind: 'set-primary',
          record: { name: to, generation, since: now, demoting: null },
          history: null,
          clearSwitchover: true,
          resetSync: dyn.synchronousMode,
          ...(own === null ? {} : { promote: promoteOptions(dyn) }),
          ...guard,
        },
      ],
      summary: `switchover: ${to} has received ${record.name}'s shutdown checkpoint; promoting it`,
    });
  if (waited > dyn.failoverTimeoutMs + (demoted === null ? demoteGraceMs : 0)) {
    const open = cluster.history.find((h) => h.generation === generation);
    const why = demoted === null ? `${record.name} did not demote` : `${to} did not reach ${mib(demoted.lsn)}`;
    const abort: FailoverAction[] =
      open === undefined
        ? []
        : [
            {
              kind: 'record-history',
              entry: {
                ...open,
                newPrimary: record.name,
                outcome: 'aborted',
                message: `switchover aborted after ${waited} ms: ${why}; ${record.name} restarts as primary`,
              },
            },
          ];
    return done({
      actions: [
        {
          kind: 'set-primary',
          record: { name: record.name, generation, since: now, demoting: null },
          history: null,
          clearSwitchover: true,
          resetSync: false,
          ...guard,
        },
        ...abort,
      ],
      summary: `switchover aborted: ${record.name} stays primary`,
    });
  }
  return done({
    summary:
      demoted === null
        ? `switchover: waiting for ${record.name} to shut down cleanly`
        : `switchover: waiting for ${to} to receive LSN ${demoted.lsn}`,
    ...(demoted !== null && own !== null ? { requeueAfterMs: ownReceiptPollMs } : {}),
  });
}

/** Switchover and manual failover: demote cleanly, wait for the exact LSN, then promote. */
export function switchover(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  dyn: DynamicConfig,
  now: number,
  me: string,
): readonly Step[] {
  if (record.demoting !== null) return finish(o, cluster, record, record.demoting, dyn, now, me);
  const req = cluster.switchover;
  if (req === null) return [];
  if (req.from !== record.name)
    return done({
      actions: [{ kind: 'clear-switchover', history: null }],
      summary: `dropping ${req.kind} request ${req.id}: ${req.from} is no longer the primary`,
    });
  return begin(o, cluster, record, req, dyn, now, me);
}

/**
 * The candidate's own step while another daemon leads: the demoting record names it, so once the
 * former primary reports its clean shutdown and this standby has received past that checkpoint, it
 * writes the promotion itself (on the record's revision: the leader's step from the same record then
 * lands only if this one did not) and promotes in the same pass, instead of waiting for the leader's
 * pass to write it and for a pass of its own to read it.
 */
export function takeOver(
  o: FailoverObserved,
  cluster: ClusterView,
  dyn: DynamicConfig,
  now: number,
  me: string,
): readonly Step[] {
  const record = cluster.primary;
  const local = o.local.status;
  const revision = cluster.primaryRevision;
  if (o.etcd.leader || record?.demoting?.to !== me || revision === undefined || local?.inRecovery !== true) return [];
  const old = cluster.members.find((m) => m.name === record.name);
  const demoted = old?.demoted?.generation === record.generation ? old.demoted : null;
  if (demoted === null) return [];
  if (local.receivedLsn === null || local.receivedLsn <= demoted.lsn)
    return [step('switchover', { requeueAfterMs: ownReceiptPollMs })];
  return done({
    actions: [
      {
        kind: 'set-primary',
        record: { name: me, generation: record.generation + 1, since: now, demoting: null },
        history: null,
        clearSwitchover: true,
        resetSync: dyn.synchronousMode,
        promote: promoteOptions(dyn),
        expectRevision: revision,
        byCandidate: true,
      },
    ],
    summary: `switchover: ${me} has received ${record.name}'s shutdown checkpoint; taking over as the record's candidate`,
  });
}
