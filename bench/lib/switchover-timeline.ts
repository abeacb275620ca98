import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FailoverMember } from '../../src/lab/procs/failover-cluster.js';
import type { Attempt } from '../../src/lab/workload/write-probe.js';

/** One dated line of a daemon's JSON log or of a postgres log (log_line_prefix '%m [%p] '). */
interface Line {
  readonly at: number;
  readonly member: string;
  readonly source: 'daemon' | 'postgres';
  readonly text: string;
  /** A daemon pass's duration: its `decided` line is written when the pass ends. */
  readonly passMs?: number;
  readonly catchUpWaitMs?: number;
}

function daemonLines(m: FailoverMember): Line[] {
  const out: Line[] = [];
  for (const raw of readFileSync(m.logFile, 'utf8').split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const j = JSON.parse(raw) as {
        time?: string;
        msg?: string;
        passMs?: number;
        catchUpWaitMs?: number;
      };
      if (j.time === undefined || j.msg === undefined) continue;
      out.push({
        at: Date.parse(j.time),
        member: m.name,
        source: 'daemon',
        text: j.msg,
        ...(j.passMs === undefined ? {} : { passMs: j.passMs }),
        ...(j.catchUpWaitMs === undefined ? {} : { catchUpWaitMs: j.catchUpWaitMs }),
      });
    } catch {
      continue;
    }
  }
  return out;
}

function postgresLines(m: FailoverMember): Line[] {
  const file = join(dirname(m.dataDir), `${m.name}-postgres.log`);
  const out: Line[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC \[\d+\] (.*)$/.exec(raw);
    if (match === null) continue;
    out.push({ at: Date.parse(`${match[1]}T${match[2]}Z`), member: m.name, source: 'postgres', text: match[3]! });
  }
  return out;
}

function linesAround(members: readonly FailoverMember[], from: number): Line[] {
  return members
    .flatMap((m) => [...daemonLines(m), ...postgresLines(m)])
    .filter((l) => l.at >= from - 5 && l.at <= from + 5000)
    .sort((a, b) => a.at - b.at);
}

/** Every member's log lines in the 5 s after `from`, merged and dated in ms after it (`--trace`). */
export function mergedLog(members: readonly FailoverMember[], from: number): string[] {
  return linesAround(members, from).map(
    (l) =>
      `${String(l.at - from).padStart(5)} ${l.member} ${l.source.padEnd(8)} ${l.text}${l.passMs === undefined ? '' : ` (pass ${l.passMs} ms)`}`,
  );
}

/** The phases of one switchover, each in ms after the request was sent (null: not seen). */
export interface SwitchoverPhases {
  readonly [phase: string]: number | null;
}

/**
 * Reads every member's logs and the probe's attempts after `from` and dates the switchover's steps:
 * request, leader's demote record, old primary's pass and shutdown checkpoint, demotion reported,
 * leader's promote record, candidate's promote request, new timeline, end of recovery, first write
 * (daemon's and the probe's).
 */
export function switchoverPhases(
  members: readonly FailoverMember[],
  attempts: readonly Attempt[],
  from: number,
  oldPrimary: string,
  newPrimary: string,
): SwitchoverPhases {
  const lines = linesAround(members, from);
  const first = (member: string, source: Line['source'], pattern: RegExp, passStart = false): number | null => {
    const l = lines.find((x) => x.member === member && x.source === source && pattern.test(x.text));
    if (l === undefined) return null;
    return (passStart ? l.at - (l.passMs ?? 0) : l.at) - from;
  };
  const byLeader = (pattern: RegExp, passStart = false): number | null => {
    const found = members
      .map((m) => first(m.name, 'daemon', pattern, passStart))
      .filter((t): t is number => t !== null);
    return found.length === 0 ? null : Math.min(...found);
  };
  const leader = lines.find(
    (x) => x.source === 'daemon' && /has received .* shutdown checkpoint; promoting/.test(x.text),
  );
  const wrote = lines.find((x) => x.member === newPrimary && /first write \d+ ms after the decision/.test(x.text));
  const promoteBegan =
    wrote === undefined ? null : wrote.at - Number(/first write (\d+) ms/.exec(wrote.text)![1]) - from;
  const checkpointStart = first(oldPrimary, 'postgres', /checkpoint starting: shutdown/);
  const checkpointDone = lines.find(
    (x) =>
      x.member === oldPrimary &&
      x.source === 'postgres' &&
      checkpointStart !== null &&
      x.at - from >= checkpointStart &&
      /checkpoint complete/.test(x.text),
  );
  const newPort = members.find((m) => m.name === newPrimary)?.pgPort;
  const oldPort = members.find((m) => m.name === oldPrimary)?.pgPort;
  const lastOld = [...attempts].reverse().find((a) => a.ok && a.port === oldPort && a.end <= from + 5000);
  const firstNew = attempts.find((a) => a.ok && a.port === newPort && a.end >= from);
  return {
    leaderDemotePassStart: byLeader(/^switchover: demoting \S+ for /, true),
    leaderDemoteRecord: byLeader(/^switchover: demoting \S+ for /),
    oldPrimaryDemotePassStart: first(oldPrimary, 'daemon', /^switchover: demoting .*clean shutdown/, true),
    shutdownRequest: first(oldPrimary, 'postgres', /received fast shutdown request/),
    shutdownCheckpointStart: checkpointStart,
    shutdownCheckpointDone: checkpointDone === undefined ? null : checkpointDone.at - from,
    oldPrimaryDemotePassEnd: first(oldPrimary, 'daemon', /^switchover: demoting .*clean shutdown/),
    oldPostgresExited: first(oldPrimary, 'postgres', /database system is shut down/),
    leaderPromotePassStart: byLeader(/has received .* shutdown checkpoint; promoting/, true),
    leaderIsCandidate: leader === undefined ? null : leader.member === newPrimary ? 1 : 0,
    promoteActStart: promoteBegan,
    catchUpWait: wrote?.catchUpWaitMs ?? null,
    candidatePromotePassStart: first(newPrimary, 'daemon', /^promoting \S+ \(generation/, true),
    promoteRequest: first(newPrimary, 'postgres', /received promote request/),
    newTimeline: first(newPrimary, 'postgres', /selected new timeline ID/),
    recoveryComplete: first(newPrimary, 'postgres', /archive recovery complete/),
    acceptingWrites: first(newPrimary, 'postgres', /database system is ready to accept connections/),
    daemonFirstWrite: first(newPrimary, 'daemon', /first write .* after the decision/),
    probeLastOldWrite: lastOld === undefined ? null : lastOld.end - from,
    probeFirstNewWrite: firstNew === undefined ? null : firstNew.end - from,
  };
}
