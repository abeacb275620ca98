import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentStore } from '../../../src/agents/kernel/store.js';
import type { WireHello } from '../../../src/agents/wire/protocol.js';
import { FlushQueue } from '../../../src/agents/wire/flush-queue.js';
import { streamEvents } from '../../../src/agents/wire/serve-events.js';
import { JournalFrames, SnapshotFeed } from '../../../src/agents/wire/stream-frames.js';
import type { SseMessage } from '../../../src/agents/wire/sse-parser.js';
import { rawNonReader, type RawReader } from '../../helpers/raw-reader.js';
import { TOKEN, openEvents, serveCounter, type EventClient, type ServedCounter } from '../../helpers/served-counter.js';
import { waitFor } from '../../helpers/wait-for.js';

let served: ServedCounter | undefined;
const clients: EventClient[] = [];
const raws: RawReader[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of raws.splice(0)) r.close();
  for (const s of servers.splice(0)) s.closeAllConnections();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await served?.close();
  served = undefined;
});

async function open(url: string, init?: Parameters<typeof openEvents>[1]): Promise<EventClient> {
  const client = await openEvents(url, init);
  clients.push(client);
  return client;
}

function record(store: AgentStore, n: number, message = 'tick'): void {
  for (let i = 0; i < n; i++) store.record({ severity: 'info', kind: 'tick', message: `${message} ${i}` });
}

const parse = <T>(m: SseMessage | undefined): T => JSON.parse(m?.data ?? 'null') as T;
const snapshots = (c: EventClient): SseMessage[] => c.messages.filter((m) => m.event === 'snapshot');

describe('GET /events under load', () => {
  it('refuses a stream over the cap with a 503 that says why, and takes one again when a slot frees', async () => {
    served = await serveCounter({}, { token: TOKEN, maxStreams: 2 });
    const s = served;
    const first = await open(s.server.url);
    await open(s.server.url);
    const refused = await fetch(`${s.server.url}/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toEqual({
      error: {
        code: 'unavailable',
        message: 'this agent already serves 2 event streams, its limit: retry later, or read /state once',
      },
    });
    expect((await fetch(`${s.server.url}/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    first.close();
    const deadline = Date.now() + 3000;
    let again = await open(s.server.url);
    while (again.status !== 200 && Date.now() < deadline) again = await open(s.server.url);
    expect(again.status).toBe(200);
    await again.until(() => again.messages.some((m) => m.event === 'snapshot'), 'the new stream served');
  });

  it('starts a stream without Last-Event-ID from the snapshot and the newest events only', async () => {
    served = await serveCounter({}, { token: TOKEN, tailEvents: 50 }, { journalCapacity: 1000 });
    const s = served;
    record(s.agent.store, 400);
    const last = s.agent.store.journal.lastSeq;
    const client = await open(s.server.url);
    await client.until(() => client.journalSeqs().at(-1) === last, 'the tail');
    expect(client.messages.map((m) => m.event).slice(0, 2)).toEqual(['hello', 'snapshot']);
    expect(parse<WireHello>(client.messages[0])).toMatchObject({ resumeFrom: last - 50, reset: false, lastSeq: last });
    expect(client.journalSeqs()).toEqual(Array.from({ length: 50 }, (_, i) => last - 49 + i));
    expect(client.messages.some((m) => m.event === 'gap')).toBe(false);
    const resumed = await open(s.server.url, { headers: { 'last-event-id': '10' } });
    await resumed.until(() => resumed.journalSeqs().at(-1) === last, 'the resumed journal');
    expect(resumed.journalSeqs()).toEqual(Array.from({ length: last - 10 }, (_, i) => 11 + i));
  });

  it('pushes no snapshot when only pass timing changed, and sends the timing on the slow refresh', async () => {
    served = await serveCounter({}, { token: TOKEN, snapshotRefreshMs: 60_000 });
    const s = served;
    await waitFor(() => s.agent.store.getSnapshot().health.passes > 0, 'the first pass');
    const client = await open(s.server.url);
    await client.until(() => snapshots(client).length === 1, 'the first snapshot');
    const passes = s.agent.store.getSnapshot().health.passes;
    for (let i = 0; i < 5; i++) {
      const seq = s.agent.store.journal.lastSeq;
      s.agent.wake();
      await waitFor(() => s.agent.store.journal.lastSeq > seq, `pass ${i}`);
    }
    const after = s.agent.store.getSnapshot();
    expect(after.health.passes).toBeGreaterThanOrEqual(passes + 5);
    await client.until(() => client.journalSeqs().at(-1) === s.agent.store.journal.lastSeq, 'the passes journaled');
    expect(snapshots(client)).toHaveLength(1);
    expect(parse<{ health: { passes: number } }>(snapshots(client)[0]).health.passes).toBe(passes);
    s.agent.store.update({ summary: 'a real change' });
    await client.until(() => snapshots(client).length === 2, 'the real change');
    expect(parse<{ summary: string; health: { passes: number } }>(snapshots(client)[1])).toMatchObject({
      summary: 'a real change',
      health: { passes: after.health.passes },
    });

    await served.close();
    served = await serveCounter({}, { token: TOKEN, snapshotRefreshMs: 100 });
    const t = served;
    const refreshed = await open(t.server.url);
    await refreshed.until(() => snapshots(refreshed).length === 1, 'the first snapshot');
    const before = parse<{ version: number }>(snapshots(refreshed)[0]).version;
    t.agent.wake();
    await refreshed.until(() => snapshots(refreshed).length === 2, 'the refresh with the new timing', 3000);
    const timing = parse<{ version: number; summary: string }>(snapshots(refreshed)[1]);
    expect(timing.version).toBeGreaterThan(before);
    expect(timing.version).toBe(t.agent.store.getSnapshot().version);
  });

  it('serializes each event and each snapshot version once, however many streams send it', async () => {
    const calls: unknown[] = [];
    const serialize = (value: unknown): string => {
      calls.push(value);
      return JSON.stringify(value);
    };
    served = await serveCounter({}, { token: TOKEN, serialize, tailEvents: 1000 }, { journalCapacity: 1000 });
    const s = served;
    record(s.agent.store, 300);
    const streams = await Promise.all(Array.from({ length: 12 }, () => open(s.server.url)));
    record(s.agent.store, 100, 'live');
    s.agent.store.update({ summary: 'after the burst' });
    const last = s.agent.store.journal.lastSeq;
    for (const c of streams) await c.until(() => c.journalSeqs().at(-1) === last, 'every event');
    for (const c of streams) expect(c.journalSeqs()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const events = calls.filter((v): v is { seq: number } => typeof (v as { seq?: unknown }).seq === 'number');
    expect(events.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const versions = calls
      .filter((v) => typeof (v as { identity?: unknown }).identity === 'object')
      .map((v) => (v as { version: number }).version);
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions).size).toBe(versions.length);
    const hellos = calls.filter((v) => typeof (v as { resumeFrom?: unknown }).resumeFrom === 'number');
    expect(hellos).toHaveLength(12);
  });
  it('keeps a bounded frame cache, and holds nothing for streams once they have all gone', async () => {
    served = await serveCounter({}, { token: TOKEN }, { journalCapacity: 3000 });
    const s = served;
    record(s.agent.store, 2000);
    const last = s.agent.store.journal.lastSeq;
    const streams = await Promise.all([
      ...Array.from({ length: 10 }, () => open(s.server.url, { headers: { 'last-event-id': '1' } })),
      ...Array.from({ length: 10 }, () => open(s.server.url)),
    ]);
    for (const c of streams) await c.until(() => c.journalSeqs().at(-1) === last, 'every event', 10_000);
    const load = s.server.streamLoad();
    expect(load.open).toBe(20);
    expect(load.refreshListeners).toBe(20);
    expect(load.cachedFrames).toBeGreaterThan(0);
    expect(load.cachedFrames).toBeLessThanOrEqual(512);
    for (const c of clients.splice(0)) c.close();
    await waitFor(() => s.server.streamLoad().open === 0, 'the streams closed', 5000);
    expect(s.server.streamLoad()).toEqual({ open: 0, refreshListeners: 0, queued: 0, cachedFrames: 0 });
  });
});

describe('readers that stop reading', () => {
  it('drops a reader whose window stays closed, and keeps the ones that read', async () => {
    served = await serveCounter({}, { token: TOKEN, drainTimeoutMs: 400 }, { journalCapacity: 1000 });
    const s = served;
    record(s.agent.store, 400, 'x'.repeat(1500));
    const reader = await open(s.server.url);
    const stuck = await rawNonReader(s.server.url, TOKEN);
    raws.push(stuck);
    expect(await stuck.established()).toBe(true);
    expect(await stuck.dropped(8000)).toBeGreaterThanOrEqual(400);
    record(s.agent.store, 1, 'still here');
    const last = s.agent.store.journal.lastSeq;
    await reader.until(() => reader.journalSeqs().at(-1) === last, 'the reader still served');
  });

  it('drops a stream whose socket buffer has not drained within the timeout', async () => {
    const store = new AgentStore('big', { journalCapacity: 6000 });
    record(store, 4000, 'y'.repeat(1500));
    const frames = new JournalFrames(JSON.stringify);
    const feed = new SnapshotFeed(store, JSON.stringify, 60_000);
    const server = createServer((_req, res) => {
      streamEvents(
        res,
        store,
        { from: 0, reset: false },
        { frames, feed, serialize: JSON.stringify, queue: new FlushQueue() },
        { instance: 'i', heartbeatMs: 60_000, drainTimeoutMs: 300 },
      );
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const stuck = await rawNonReader(`http://127.0.0.1:${port}`, TOKEN);
    raws.push(stuck);
    expect(await stuck.dropped(8000)).toBeGreaterThanOrEqual(300);
    feed.close();
  });
});
