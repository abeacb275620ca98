import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  peerFor,
  probedInPass,
  probeInBackground,
  probePeer,
  silent,
  type FailoverDeps,
  type PeerProbe,
} from '../../../src/agents/failover/deps.js';
import type { LinkStatus } from '../../../src/agents/failover/types.js';
import type { FailoverConfig } from '../../../src/agents/failover/types.js';

const TIMEOUT_MS = 200;

/** A host that accepts connections and never answers: what a frozen or cut-off peer looks like. */
async function mute(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function deps(): FailoverDeps {
  return {
    config: { pgUser: 'postgres', probeTimeoutMs: TIMEOUT_MS } as FailoverConfig,
    peers: new Map(),
  } as unknown as FailoverDeps;
}

describe('a peer that does not answer', () => {
  it('is probed outside the pass: the call returns at once, one probe at a time, and wakes the loop when its view changes', async () => {
    const host = await mute();
    closers.push(host.close);
    let wakes = 0;
    const d = deps();
    const peer = peerFor(
      d,
      { name: 'pg9', host: '127.0.0.1', port: host.port },
      `http://127.0.0.1:${host.port}`,
      () => undefined,
    );
    closers.push(() => peer.link.close());

    const began = performance.now();
    await probePeer(peer, TIMEOUT_MS);
    expect(performance.now() - began).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(peer.view.api).toBe('timeout');
    expect(silent(peer)).toBe(true);

    const wake = (): void => void (wakes += 1);
    const started = performance.now();
    probeInBackground(peer, TIMEOUT_MS, wake);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS / 4);
    const first = peer.inFlight;
    expect(first).not.toBeNull();
    probeInBackground(peer, TIMEOUT_MS, wake);
    expect(peer.inFlight).toBe(first);

    // Unchanged view (still silent): no wake.
    await first;
    expect(peer.inFlight).toBeNull();
    expect(wakes).toBe(0);

    // The host goes away: the next background probe sees refusals, a changed view, and wakes once.
    await host.close();
    probeInBackground(peer, TIMEOUT_MS, wake);
    await peer.inFlight;
    expect(peer.view.api).toBe('refused');
    expect(silent(peer)).toBe(false);
    expect(wakes).toBe(1);
  });

  /** A peer whose last probe ended with `pg` (its daemon answered). */
  const peer = (name: string, pg: LinkStatus): PeerProbe =>
    ({ endpoint: { name }, view: { name, pg, api: 'ok' } }) as unknown as PeerProbe;

  it('is still waited for while a failover or switchover is decided, unless it is the primary being replaced', () => {
    const cases = [
      { p: peer('pg1', 'timeout'), urgent: true, want: true },
      { p: peer('pg0', 'timeout'), urgent: true, want: false },
      { p: peer('pg1', 'timeout'), urgent: false, want: false },
      { p: peer('pg1', 'ok'), urgent: false, want: true },
      { p: peer('pg0', 'refused'), urgent: true, want: true },
    ];
    expect(cases.map((c) => probedInPass(c.p, c.urgent, 'pg0', null))).toEqual(cases.map((c) => c.want));
  });

  it('while a primary demotes as planned, waits only for the candidate, even a silent one, and never for the demoting primary', () => {
    const cases = [
      { p: peer('pg1', 'ok'), urgent: true, want: true },
      { p: peer('pg1', 'timeout'), urgent: true, want: true },
      { p: peer('pg1', 'timeout'), urgent: false, want: false },
      { p: peer('pg1', 'ok'), urgent: false, want: true },
      { p: peer('pg0', 'ok'), urgent: true, want: false },
      { p: peer('pg2', 'ok'), urgent: true, want: false },
      { p: peer('pg2', 'ok'), urgent: false, want: false },
    ];
    expect(cases.map((c) => probedInPass(c.p, c.urgent, 'pg0', 'pg1'))).toEqual(cases.map((c) => c.want));
  });
});
