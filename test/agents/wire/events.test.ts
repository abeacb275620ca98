import { get, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireGap, WireHello } from '../../../src/agents/wire/protocol.js';
import type { SseMessage } from '../../../src/agents/wire/sse-parser.js';
import { SseParser } from '../../../src/agents/wire/sse-parser.js';
import { TOKEN, openEvents, serveCounter, type EventClient, type ServedCounter } from '../../helpers/served-counter.js';

let served: ServedCounter | undefined;
const clients: EventClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await served?.close();
  served = undefined;
});

async function open(url: string, init?: Parameters<typeof openEvents>[1]): Promise<EventClient> {
  const client = await openEvents(url, init);
  clients.push(client);
  return client;
}

function record(s: ServedCounter, n: number, message = 'tick'): void {
  for (let i = 0; i < n; i++) s.agent.store.record({ severity: 'info', kind: 'tick', message: `${message} ${i}` });
}

const parse = <T>(m: SseMessage | undefined): T => JSON.parse(m?.data ?? 'null') as T;
const lastSeq = (s: ServedCounter): number => s.agent.store.journal.lastSeq;

describe('GET /events', () => {
  it('sends a hello, the snapshot, the journal, then every change', async () => {
    served = await serveCounter();
    const s = served;
    const client = await open(s.server.url);
    await client.until(() => client.journalSeqs().at(-1) === lastSeq(s), 'the journal so far');
    expect(client.messages[0]?.event).toBe('hello');
    expect(parse<WireHello>(client.messages[0])).toMatchObject({
      protocol: 1,
      agent: 'counter',
      instance: s.server.instance,
      resumeFrom: 0,
      reset: false,
    });
    expect(client.messages[1]?.event).toBe('snapshot');
    s.agent.store.update({ summary: 'changed by the test' });
    await client.until(
      (m) => m.some((x) => x.event === 'snapshot' && parse<{ summary: string }>(x).summary === 'changed by the test'),
      'the new snapshot',
    );
    record(s, 1, 'fresh');
    await client.until(() => client.journalSeqs().at(-1) === lastSeq(s), 'the new event');
    const seqs = client.journalSeqs();
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('resumes after a reconnect from Last-Event-ID without duplicates or loss', async () => {
    served = await serveCounter();
    const s = served;
    record(s, 5);
    const first = await open(s.server.url);
    await first.until(() => first.journalSeqs().at(-1) === lastSeq(s), 'the first batch');
    first.close();
    const seen = first.journalSeqs();
    record(s, 7, 'while away');
    const second = await open(s.server.url, { headers: { 'last-event-id': String(seen.at(-1)) } });
    record(s, 3, 'after reconnect');
    await second.until(() => second.journalSeqs().at(-1) === lastSeq(s), 'the rest');
    expect(parse<WireHello>(second.messages[0])).toMatchObject({ resumeFrom: seen.at(-1), reset: false });
    const all = [...seen, ...second.journalSeqs()];
    expect(all).toEqual(Array.from({ length: lastSeq(s) }, (_, i) => i + 1));
    expect(second.messages.some((m) => m.event === 'gap')).toBe(false);
    const viaQuery = await open(s.server.url, { query: `?since=${lastSeq(s) - 2}` });
    await viaQuery.until(() => viaQuery.journalSeqs().length === 2, 'two events via ?since=');
    expect(viaQuery.journalSeqs()).toEqual([lastSeq(s) - 1, lastSeq(s)]);
  });

  it('announces a gap when the ring dropped events the reader missed', async () => {
    served = await serveCounter({}, { token: TOKEN }, { journalCapacity: 10 });
    const s = served;
    const before = lastSeq(s);
    record(s, 25);
    const client = await open(s.server.url, { headers: { 'last-event-id': String(before) } });
    await client.until(() => client.journalSeqs().at(-1) === lastSeq(s), 'the journal');
    const gapIndex = client.messages.findIndex((m) => m.event === 'gap');
    expect(gapIndex).toBeGreaterThan(0);
    const gap = parse<WireGap>(client.messages[gapIndex]);
    expect(gap).toEqual({ after: before, firstSeq: lastSeq(s) - 9 });
    expect(client.journalSeqs()).toEqual(Array.from({ length: 10 }, (_, i) => gap.firstSeq + i));
  });

  it('starts over when the resume point belongs to another instance', async () => {
    served = await serveCounter();
    const s = served;
    record(s, 3);
    const client = await open(s.server.url, { query: `?since=2&instance=someone-else` });
    await client.until(() => client.journalSeqs().at(-1) === lastSeq(s), 'the journal');
    expect(parse<WireHello>(client.messages[0])).toMatchObject({ resumeFrom: 0, reset: true });
    expect(client.journalSeqs()[0]).toBe(1);
    const future = await open(s.server.url, { headers: { 'last-event-id': '999999' } });
    await future.until(() => future.journalSeqs().length > 0, 'events from the start');
    expect(parse<WireHello>(future.messages[0]).reset).toBe(true);
  });

  it('sends heartbeat comments while idle', async () => {
    served = await serveCounter({}, { token: TOKEN, heartbeatMs: 30 });
    const client = await open(served.server.url);
    await client.until(() => (client.raw().match(/^: heartbeat$/gm) ?? []).length >= 2, 'two heartbeats');
  });

  it('coalesces while a slow reader is not reading, then catches up with the newest snapshot and announces what it lost', async () => {
    served = await serveCounter({}, { token: TOKEN }, { journalCapacity: 200 });
    const s = served;
    const parser = new SseParser();
    const messages: SseMessage[] = [];
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      get(`${s.server.url}/events`, { headers: { authorization: `Bearer ${TOKEN}` } }, resolve).on('error', reject);
    });
    res.pause();
    const padding = 'p'.repeat(8192);
    for (let round = 0; round < 200; round++) {
      record(s, 10, padding);
      s.agent.store.update({ summary: `round ${round}` });
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.setEncoding('utf8');
    const done = new Promise<void>((resolve) => {
      res.on('data', (chunk: string) => {
        messages.push(...parser.push(chunk));
        const seqs = messages.filter((m) => m.event === 'journal').map((m) => Number(m.id));
        if (seqs.at(-1) === lastSeq(s)) resolve();
      });
    });
    res.resume();
    await done;
    res.destroy();
    const snapshots = messages
      .filter((m) => m.event === 'snapshot')
      .map((m) => parse<{ summary: string; version: number }>(m));
    expect(snapshots.length).toBeLessThan(150);
    expect(snapshots.at(-1)?.summary).toBe('round 199');
    const seqs = messages.filter((m) => m.event === 'journal').map((m) => Number(m.id));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const gaps = messages.filter((m) => m.event === 'gap').map((m) => parse<WireGap>(m));
    expect(gaps.length).toBeGreaterThan(0);
    for (const gap of gaps) expect(seqs).not.toContain(gap.firstSeq - 1);
    const accounted = seqs.length + gaps.reduce((n, g) => n + g.firstSeq - 1 - g.after, 0);
    expect(accounted).toBe(lastSeq(s));
  });
});
