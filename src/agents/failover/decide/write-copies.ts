import type { DynamicConfig, MemberReport, WriteCopies } from '../types.js';
import { acknowledgingStates } from './sync-standbys.js';

/**
 * Where the primary's writes live, from its own report (pg_stat_replication): a write has a single
 * copy when no standby acknowledges it in synchronous mode, or no standby streams at all in
 * asynchronous mode; in strict mode it waits instead. Null when the primary's report is not at hand.
 */
export function writeCopies(dyn: DynamicConfig, primary: MemberReport | undefined): WriteCopies | null {
  if (primary === undefined || primary.role !== 'primary' || primary.state !== 'running') return null;
  const streaming = primary.replication.filter((r) => r.state === 'streaming');
  const synchronous = streaming.filter((r) => acknowledgingStates.includes(r.syncState)).length;
  const mode = !dyn.synchronousMode ? 'async' : dyn.synchronousStrict === true ? 'strict' : 'synchronous';
  const warning =
    mode === 'async'
      ? streaming.length === 0
        ? `writes to ${primary.name} have a single copy: no standby streams from it`
        : null
      : synchronous > 0
        ? null
        : mode === 'strict'
          ? `writes to ${primary.name} wait: no synchronous standby acknowledges them (strict synchronous mode)`
          : `writes to ${primary.name} have a single copy: no synchronous standby acknowledges them`;
  return { mode, synchronous, streaming: streaming.length, warning };
}
