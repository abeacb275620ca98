import { Client } from 'pg';
import type { WritableSample } from './two-writable.js';

export interface SampledMember {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface WritableSampler {
  readonly samples: WritableSample[];
  stop(): Promise<void>;
}

/** How long one member may take to connect or answer before the round counts it as not writable. */
const ANSWER_TIMEOUT_MS = 1000;
const SAMPLE_INTERVAL_MS = 50;

/**
 * Would the server take a write from a `target_session_attrs=read-write` client: out of recovery and
 * without the read-only default pgdeck's remote fence sets (its own fence stops postgres, which no
 * longer answers). Patroni demotes by restarting the server as a standby.
 */
const WRITABLE_SQL = `SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off' AS w`;

interface MemberState {
  readonly member: SampledMember;
  client: Client | null;
  busy: boolean;
}

function drop(state: MemberState): void {
  const client = state.client;
  state.client = null;
  void client?.end().catch(() => undefined);
}

/** One member's answer to one round; a member still busy with the last round (frozen, slow) counts as not writable. */
async function writable(state: MemberState): Promise<boolean> {
  if (state.busy) return false;
  state.busy = true;
  try {
    if (state.client === null) {
      const client = new Client({
        host: state.member.host,
        port: state.member.port,
        user: 'postgres',
        database: 'postgres',
        application_name: 'bench-writable-sampler',
        connectionTimeoutMillis: ANSWER_TIMEOUT_MS,
        query_timeout: ANSWER_TIMEOUT_MS,
      });
      client.on('error', () => {
        if (state.client === client) drop(state);
      });
      await client.connect().catch((error: unknown) => {
        void client.end().catch(() => undefined);
        throw error;
      });
      state.client = client;
    }
    return (await state.client.query<{ w: boolean }>(WRITABLE_SQL)).rows[0]?.w === true;
  } catch {
    drop(state);
    return false;
  } finally {
    state.busy = false;
  }
}

/** Asks every member every 50 ms whether it would take a write, each over its own session, until stopped. */
export function startWritableSampler(members: readonly SampledMember[]): WritableSampler {
  const states: MemberState[] = members.map((member) => ({ member, client: null, busy: false }));
  const samples: WritableSample[] = [];
  const rounds = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const at = Date.now();
    const round = Promise.all(states.map(writable)).then((answers) => {
      samples.push({ at, writable: states.filter((_, i) => answers[i]).map((s) => s.member.name) });
    });
    rounds.add(round);
    void round.finally(() => rounds.delete(round));
  }, SAMPLE_INTERVAL_MS);
  return {
    samples,
    stop: async () => {
      clearInterval(timer);
      await Promise.all(rounds);
      for (const state of states) drop(state);
    },
  };
}
