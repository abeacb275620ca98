import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { attachAgent, type AttachedHandle } from '../../../src/agents/wire/attach.js';
import type { CounterState } from '../../fixtures/counter-agent.js';
import { TOKEN } from '../../helpers/served-counter.js';
import { waitFor } from '../../helpers/wait-for.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const children = new Set<ChildProcess>();
let handle: AttachedHandle<CounterState> | undefined;

afterEach(async () => {
  await handle?.close();
  handle = undefined;
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

/** Starts test/fixtures/headless-counter.ts as its own process and returns the URL it prints. */
async function startHeadless(port: number, target: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/fixtures/headless-counter.ts',
      '--port',
      String(port),
      '--token',
      TOKEN,
      '--target',
      String(target),
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`headless-counter exited with ${String(code)} before printing its URL`);
  });
  const [url] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  lines.close();
  return { child, url };
}

describe('attachAgent against a headless process', () => {
  it('reads state, invokes actions, and survives kill -9 and a restart on the same port', async () => {
    const first = await startHeadless(0, 3);
    const port = Number(new URL(first.url).port);
    handle = attachAgent<CounterState>(first.url, { token: TOKEN, backoff: { baseMs: 50, maxMs: 250, jitter: 0.2 } });
    const h = handle;
    await waitFor(() => h.reader.getSnapshot().state?.count === 3, 'count 3 from the process', 5000);
    expect(h.name).toBe('counter');
    expect(h.reader.getSnapshot().source).toMatchObject({ mode: 'attached', connected: true, stale: false });

    expect(await h.control.invoke('bump', { by: 2 }, { who: 'carol', via: 'cli' })).toMatchObject({
      ok: true,
      message: 'target is now 5',
    });
    await waitFor(() => h.reader.getSnapshot().state?.count === 5, 'count 5 after the bump');
    const res = await fetch(`${first.url}/count`);
    expect(await res.json()).toEqual({ count: 5 });

    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    await waitFor(() => h.reader.getSnapshot().source.stale, 'stale after kill -9', 3000);
    expect(h.reader.getSnapshot().source.connected).toBe(false);
    expect(h.reader.getSnapshot().state?.count).toBe(5);
    const seqBefore = h.reader.events(0).lastSeq;
    expect(seqBefore).toBeGreaterThan(3);

    const second = await startHeadless(port, 7);
    expect(second.url).toBe(first.url);
    await waitFor(() => h.reader.getSnapshot().state?.count === 7, 'count 7 from the restarted process', 8000);
    expect(h.reader.getSnapshot().source).toMatchObject({ connected: true, stale: false });
    const events = h.reader.events(0).events;
    expect(events.every((e) => e.kind !== 'action-invoked')).toBe(true);
    expect(events[0]?.seq).toBe(1);
    expect(await h.control.preview('bump', { by: 1 })).toMatchObject({ summary: 'raise target from 7 to 8' });
  }, 30_000);
});
