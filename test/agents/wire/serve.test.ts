import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serveAgent } from '../../../src/agents/wire/serve.js';
import { TOKEN, serveCounter, type ServedCounter } from '../../helpers/served-counter.js';
import { waitFor } from '../../helpers/wait-for.js';

let served: ServedCounter | undefined;

afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function start(...args: Parameters<typeof serveCounter>): Promise<ServedCounter> {
  served = await serveCounter(...args);
  return served;
}

interface Answer {
  readonly status: number;
  readonly body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown>;
  readonly headers: Headers;
}

async function call(url: string, init: RequestInit & { token?: string | null } = {}): Promise<Answer> {
  const { token = TOKEN, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(url, { ...rest, headers });
  return { status: res.status, body: (await res.json()) as Answer['body'], headers: res.headers };
}

const post = (url: string, body: string, init: RequestInit & { token?: string | null } = {}): Promise<Answer> =>
  call(url, { method: 'POST', body, ...init, headers: { 'content-type': 'application/json', ...init.headers } });

describe('serveAgent: auth', () => {
  it('answers 401 with a JSON error without a token or with a wrong one, 200 with the right one', async () => {
    const { server, agent } = await start();
    const missing = await post(`${server.url}/actions/bump`, '{"by":1}', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('missing bearer token'),
    });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await post(`${server.url}/actions/bump`, '{"by":1}', { token: 'nope' });
    expect(wrong).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'wrong bearer token' } },
    });
    const almost = await post(`${server.url}/actions/bump/preview`, '{"by":1}', { token: `${TOKEN}x` });
    expect(almost.status).toBe(401);
    expect(agent.deps.target).toBe(0);
    const right = await post(`${server.url}/actions/bump`, '{"by":2}');
    expect(right).toMatchObject({ status: 200, body: { action: 'bump', ok: true, message: 'target is now 2' } });
  });

  it('protects state, events and the action list too unless reads are opened', async () => {
    const { server } = await start();
    expect((await call(`${server.url}/state`, { token: null })).status).toBe(401);
    expect((await call(`${server.url}/actions`, { token: null })).status).toBe(401);
    expect((await fetch(`${server.url}/events`)).status).toBe(401);
    const state = await call(`${server.url}/state`);
    expect(state).toMatchObject({ status: 200, body: { agent: 'counter', summary: expect.any(String) } });
    expect(state.headers.get('x-pgdeck-instance')).toBe(server.instance);
    const list = await call(`${server.url}/actions`);
    expect(list.body).toMatchObject({
      agent: 'counter',
      actions: [
        { name: 'bump', dangerous: true },
        { name: 'note', dangerous: false },
      ],
    });
    await served?.close();
    const open = await start({}, { token: TOKEN, openReads: true });
    expect((await call(`${open.server.url}/state`, { token: null })).status).toBe(200);
    expect((await post(`${open.server.url}/actions/note`, '{"text":"x"}', { token: null })).status).toBe(401);
  });

  it('refuses every protected call when no token is configured', async () => {
    const { server } = await start({}, {});
    expect(await post(`${server.url}/actions/note`, '{"text":"x"}', { token: 'anything' })).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthorized', message: expect.stringContaining('no API token') } },
    });
    expect((await call(`${server.url}/health`, { token: null })).status).toBe(200);
  });

  it('records the sanitized actor in the audit trail', async () => {
    const { server, agent } = await start();
    await post(`${server.url}/actions/note`, '{"text":"hello"}', { headers: { 'x-pgdeck-actor': 'alice <script>\t' } });
    const invoked = agent.store.events(0).events.find((e) => e.kind === 'action-invoked');
    expect(invoked?.fields).toMatchObject({ actor: { who: 'alice script', via: 'api' } });
    await post(`${server.url}/actions/note`, '{"text":"again"}');
    const last = agent.store.events(0).events.filter((e) => e.kind === 'action-invoked')[1];
    expect(last?.fields).toMatchObject({ actor: { who: 'api', via: 'api' } });
  });
});

describe('serveAgent: errors', () => {
  it('answers 400 for bad JSON and non-JSON bodies, naming the field for bad arguments', async () => {
    const { server, agent } = await start();
    expect(await post(`${server.url}/actions/bump`, '{"by":')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid-argument', message: 'request body is not valid JSON' } },
    });
    const text = await post(`${server.url}/actions/bump`, 'by=1', { headers: { 'content-type': 'text/plain' } });
    expect(text).toMatchObject({ status: 400, body: { error: { code: 'invalid-argument' } } });
    const bad = await post(`${server.url}/actions/bump`, '{"by":"ten"}');
    expect(bad).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid-argument', field: 'by', message: expect.stringMatching(/^by: /) } },
    });
    const preview = await post(`${server.url}/actions/bump/preview`, '{"by":0}');
    expect(preview.body.error?.field).toBe('by');
    expect(agent.deps.target).toBe(0);
  });

  it('answers 404 for unknown actions and paths, 405 for the wrong method', async () => {
    const { server } = await start();
    expect(await post(`${server.url}/actions/explode`, '{}')).toMatchObject({
      status: 404,
      body: { error: { code: 'not-found', message: 'agent counter has no action "explode"' } },
    });
    expect(await call(`${server.url}/nowhere`)).toMatchObject({ status: 404, body: { error: { code: 'not-found' } } });
    expect(await post(`${server.url}/actions/%E0%A4%A`, '{}')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid-argument' } },
    });
    const wrongMethod = await call(`${server.url}/actions/bump`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('answers 500 with a generic message and no detail when an action throws unexpectedly', async () => {
    const { server } = await start();
    const answer = await post(`${server.url}/actions/note`, '{"text":"explode"}');
    expect(answer).toMatchObject({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
    expect(JSON.stringify(answer.body)).not.toContain('detail');
  });

  it('answers 413 for an oversized body, declared or streamed', async () => {
    const { server, agent } = await start({}, { token: TOKEN, maxBodyBytes: 1024 });
    const big = JSON.stringify({ text: 'x'.repeat(2000) });
    expect(await post(`${server.url}/actions/note`, big)).toMatchObject({
      status: 413,
      body: { error: { code: 'invalid-argument' } },
    });
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${server.url}/actions/note`,
        { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"text":"');
      for (let i = 0; i < 4; i++) req.write('y'.repeat(512));
      req.end('"}');
    });
    expect(streamed).toBe(413);
    expect(agent.deps.notes).toEqual([]);
  });
});

describe('serveAgent: probes and routes', () => {
  it('serves /health and /ready with the health, 503 when not ready or not live', async () => {
    const { server, agent } = await start({ down: ['disk'] });
    await waitFor(() => agent.store.getSnapshot().health.passes > 0, 'first pass');
    const health = await call(`${server.url}/health`, { token: null });
    expect(health).toMatchObject({
      status: 200,
      body: { agent: 'counter', protocol: 1, health: { live: true, ready: false } },
    });
    expect((await call(`${server.url}/ready`, { token: null })).status).toBe(503);
    agent.deps.reachable = { memory: true, disk: true };
    agent.wake();
    await waitFor(() => agent.store.getSnapshot().health.ready, 'ready');
    expect((await call(`${server.url}/ready`, { token: null })).status).toBe(200);
    await agent.close();
    expect(await call(`${server.url}/health`, { token: null })).toMatchObject({
      status: 503,
      body: { health: { live: false, status: 'stopped' } },
    });
  });

  it('serves /metrics in Prometheus text without a token', async () => {
    const { server, agent } = await start();
    await waitFor(() => agent.store.getSnapshot().health.passes > 0, 'first pass');
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/pgdeck_agent_passes_total\{agent="counter",outcome="ok"\} [1-9]/);
  });

  it('serves the agent routes as open GETs', async () => {
    const { server, agent } = await start({ target: 2 });
    await waitFor(() => agent.store.getSnapshot().state?.count === 2, 'count 2');
    expect(await call(`${server.url}/count`, { token: null })).toMatchObject({ status: 200, body: { count: 2 } });
  });

  it('fails with unavailable when the port is taken', async () => {
    const { server, agent } = await start();
    const error: unknown = await serveAgent(agent, { port: server.port, token: TOKEN }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('EADDRINUSE') });
  });
});
