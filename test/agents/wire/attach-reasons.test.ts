import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { attachAgent, type AttachedHandle } from '../../../src/agents/wire/attach.js';
import { freePort } from '../../../src/lab/procs/ports.js';
import type { CounterState } from '../../fixtures/counter-agent.js';
import { TOKEN, serveCounter, type ServedCounter } from '../../helpers/served-counter.js';
import { waitFor } from '../../helpers/wait-for.js';

let served: ServedCounter | undefined;
const handles: AttachedHandle[] = [];
const silent: { server: Server; sockets: Set<Socket> }[] = [];

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
  await served?.close();
  served = undefined;
  for (const { server, sockets } of silent.splice(0)) {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

function attach(url: string, opts: Parameters<typeof attachAgent>[1] = {}): AttachedHandle<CounterState> {
  const handle = attachAgent<CounterState>(url, opts);
  handles.push(handle);
  return handle;
}

const reason = (h: AttachedHandle): string | undefined => h.reader.getSnapshot().source.lastError;

/** Accepts connections and never answers. */
async function silentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  silent.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('an attached source says why it is not live', () => {
  it('refused, 401 with a wrong or missing token, TLS, DNS and timeout', async () => {
    served = await serveCounter();
    const refusedPort = await freePort();
    const refused = attach(`http://127.0.0.1:${refusedPort}`);
    const wrong = attach(served.server.url, { token: 'not-the-token' });
    const none = attach(served.server.url);
    const tls = attach(served.server.url.replace(/^http:/, 'https:'), { token: TOKEN });
    const dns = attach('http://pgdeck-no-such-host.invalid:8008', { token: TOKEN });
    const timeout = attach(`http://127.0.0.1:${await silentServer()}`, { token: TOKEN, idleTimeoutMs: 200 });
    await waitFor(
      () => [refused, wrong, none, tls, dns, timeout].every((h) => reason(h) !== undefined),
      'a reason on every source',
      8000,
    );
    expect(reason(refused)).toBe('refused');
    expect(reason(wrong)).toBe('401: wrong token');
    expect(reason(none)).toBe('401: no token sent');
    expect(reason(tls)).toMatch(/^TLS: \S/);
    expect(reason(dns)).toMatch(/^DNS: cannot resolve pgdeck-no-such-host\.invalid/);
    expect(reason(timeout)).toBe('timeout: no data from the agent for 200 ms');
    for (const h of [refused, wrong, none, tls, dns, timeout])
      expect(h.reader.getSnapshot().source).toMatchObject({ connected: false, stale: true });
  });

  it('comes back within 3 s of a restart after a long outage, with the default backoff', async () => {
    served = await serveCounter({ target: 2 });
    const port = served.server.port;
    const h = attach(served.server.url, { token: TOKEN });
    await waitFor(() => h.reader.getSnapshot().state?.count === 2, 'count 2');
    await served.close();
    served = undefined;
    const down = Date.now();
    await waitFor(() => reason(h) === 'refused' && Date.now() - down > 7000, 'seven seconds refused', 9000);
    served = await serveCounter({ target: 4 }, { token: TOKEN, port });
    const restarted = Date.now();
    await waitFor(() => h.reader.getSnapshot().state?.count === 4, 'the restarted agent', 3000);
    expect(Date.now() - restarted).toBeLessThan(3000);
    expect(h.reader.getSnapshot().source).toMatchObject({ connected: true, stale: false });
    expect(reason(h)).toBeUndefined();
  }, 20_000);
});
