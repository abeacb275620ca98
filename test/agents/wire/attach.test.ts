import { afterEach, describe, expect, it } from 'vitest';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import { attachAgent, type AttachedHandle } from '../../../src/agents/wire/attach.js';
import type { CounterState } from '../../fixtures/counter-agent.js';
import { TOKEN, serveCounter, type ServedCounter } from '../../helpers/served-counter.js';
import { waitFor } from '../../helpers/wait-for.js';

let served: ServedCounter | undefined;
let handle: AttachedHandle<CounterState> | undefined;

afterEach(async () => {
  await handle?.close();
  handle = undefined;
  await served?.close();
  served = undefined;
});

const fastBackoff = { baseMs: 20, maxMs: 100, jitter: 0.2 };

async function rejection(promise: Promise<unknown>): Promise<PgdeckError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PgdeckError)) throw new Error(`expected a PgdeckError, got ${String(error)}`);
  return error;
}

describe('attachAgent against a served agent', () => {
  it('mirrors the snapshot and the journal and learns the agent name', async () => {
    served = await serveCounter({ target: 3 });
    const s = served;
    handle = attachAgent<CounterState>(`${s.server.url}/`, { token: TOKEN, backoff: fastBackoff });
    const h = handle;
    expect(h.name).toBe(new URL(s.server.url).host);
    expect(h.reader.getSnapshot().source).toMatchObject({
      mode: 'attached',
      url: s.server.url,
      connected: false,
      stale: true,
    });
    await waitFor(() => h.reader.getSnapshot().state?.count === 3, 'count 3 in the mirror');
    expect(h.name).toBe('counter');
    expect(h.reader.name).toBe('counter');
    expect(h.reader.getSnapshot().source).toMatchObject({ connected: true, stale: false });
    await waitFor(() => h.reader.events(0).lastSeq === s.agent.store.journal.lastSeq, 'the journal');
    expect(h.reader.events(0).events.map((e) => e.seq)).toEqual(s.agent.store.events(0).events.map((e) => e.seq));
    let notified = 0;
    h.reader.subscribe(() => notified++);
    s.agent.store.update({ summary: 'remote change' });
    await waitFor(() => h.reader.getSnapshot().summary === 'remote change', 'the remote change');
    expect(notified).toBeGreaterThan(0);
  });

  it('previews and invokes over HTTP with the actor, and maps errors back to their kind', async () => {
    served = await serveCounter();
    const s = served;
    handle = attachAgent<CounterState>(s.server.url, { token: TOKEN, backoff: fastBackoff });
    const h = handle;
    expect(await h.control.preview('bump', { by: 4 })).toMatchObject({
      action: 'bump',
      allowed: true,
      summary: 'raise target from 0 to 4',
    });
    expect(await h.control.invoke('bump', { by: 4 }, { who: 'bob', via: 'tui' })).toMatchObject({
      ok: true,
      message: 'target is now 4',
    });
    await waitFor(() => h.reader.getSnapshot().state?.count === 4, 'count 4 in the mirror');
    await waitFor(
      () => h.reader.events(0).events.some((e) => e.kind === 'action-invoked'),
      'the audit event in the mirror',
    );
    expect(h.reader.events(0).events.find((e) => e.kind === 'action-invoked')?.fields).toMatchObject({
      actor: { who: 'bob', via: 'api' },
    });
    expect(await rejection(h.control.invoke('explode', {}))).toMatchObject({ kind: 'not-found' });
    expect(await rejection(h.control.invoke('bump', { by: -1 }))).toMatchObject({
      kind: 'invalid-argument',
      field: 'by',
    });
    expect(await rejection(h.control.invoke('note', { text: 'explode' }))).toMatchObject({
      kind: 'internal',
      message: 'internal error',
    });
    const wrong = attachAgent(s.server.url, { token: 'wrong', backoff: fastBackoff });
    try {
      expect(await rejection(wrong.control.invoke('note', { text: 'x' }))).toMatchObject({ kind: 'unauthorized' });
      await waitFor(
        () => wrong.reader.getSnapshot().source.lastError === '401: wrong token',
        'the stream error in the source',
      );
      expect(wrong.reader.getSnapshot().source).toMatchObject({ connected: false, stale: true });
    } finally {
      await wrong.close();
    }
  });

  it('is stale while the agent is away and fresh again after it comes back', async () => {
    served = await serveCounter({ target: 2 });
    const port = served.server.port;
    handle = attachAgent<CounterState>(served.server.url, { token: TOKEN, backoff: fastBackoff });
    const h = handle;
    await waitFor(() => h.reader.getSnapshot().state?.count === 2, 'count 2');
    await served.close();
    served = undefined;
    await waitFor(() => h.reader.getSnapshot().source.stale, 'stale');
    expect(h.reader.getSnapshot().source.connected).toBe(false);
    expect(h.reader.getSnapshot().state?.count).toBe(2);
    await waitFor(
      () => /^(refused|closed by the agent)$/.test(h.reader.getSnapshot().source.lastError ?? ''),
      'a connection error',
    );
    served = await serveCounter({ target: 5 }, { token: TOKEN, port });
    await waitFor(() => h.reader.getSnapshot().state?.count === 5, 'the new instance state', 3000);
    expect(h.reader.getSnapshot().source).toMatchObject({ connected: true, stale: false });
    expect(h.reader.getSnapshot().source.lastError).toBeUndefined();
  });

  it('stops following on close or when its signal aborts', async () => {
    served = await serveCounter();
    const abort = new AbortController();
    const h = attachAgent(served.server.url, { token: TOKEN, signal: abort.signal });
    await waitFor(() => h.reader.getSnapshot().source.connected, 'connected');
    abort.abort();
    await h.close();
    expect(h.reader.getSnapshot().source).toMatchObject({ connected: false, stale: true });
  });
});
