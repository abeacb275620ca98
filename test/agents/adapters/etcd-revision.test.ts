import { afterEach, describe, expect, it } from 'vitest';
import { EtcdSession } from '../../../src/agents/adapters/etcd.js';
import { withEtcd } from '../../helpers/services.js';

describe('etcd session: writes on a key revision (real etcd)', () => {
  const etcd = withEtcd();
  const sessions: EtcdSession[] = [];
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
  });
  const open = async (): Promise<EtcdSession> => {
    const session = new EtcdSession({
      endpoints: [etcd().endpoint],
      prefix: `/revision-${sessions.length}-${Date.now()}/`,
      ttlSeconds: 2,
      callTimeoutMs: 2000,
      onChange: () => undefined,
    });
    sessions.push(session);
    const deadline = Date.now() + 10_000;
    while ((await session.readAll()) === null) expect(Date.now()).toBeLessThan(deadline);
    return session;
  };
  const read = async (session: EtcdSession, key: string): Promise<{ value: string; modRevision: number }> => {
    const entry = (await session.readAll())?.get(key);
    if (entry === undefined) throw new Error(`${key} missing`);
    return entry;
  };

  it('writes only while the key is at the given revision, without leadership', async () => {
    const session = await open();
    await session.put('primary', 'a');
    await session.put('switchover', 'request');
    const seen = await read(session, 'primary');

    expect(await session.putIfRevision('primary', seen.modRevision, { primary: 'b' }, ['switchover'], false)).toBe(
      true,
    );
    expect((await read(session, 'primary')).value).toBe('b');
    expect((await session.readAll())?.has('switchover')).toBe(false);
    expect(await session.putIfRevision('primary', seen.modRevision, { primary: 'c' }, [], false)).toBe(false);
    expect((await read(session, 'primary')).value).toBe('b');
  });

  it('as the leader, a changed key refuses the write but leaves the leadership in place', async () => {
    const session = await open();
    await session.put('primary', 'a');
    const seen = await read(session, 'primary');
    expect(await session.putIfRevision('primary', seen.modRevision, { primary: 'x' }, [], true)).toBe(false);
    expect((await read(session, 'primary')).value).toBe('a');

    session.campaignFor('me');
    const deadline = Date.now() + 10_000;
    while (!session.snapshot().leader) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 10));
    }
    await session.put('primary', 'b');
    expect(await session.putIfRevision('primary', seen.modRevision, { primary: 'stale' }, [], true)).toBe(false);
    expect(session.snapshot().leader).toBe(true);
    const now = await read(session, 'primary');
    expect(await session.putIfRevision('primary', now.modRevision, { primary: 'c' }, [], true)).toBe(true);
    expect((await read(session, 'primary')).value).toBe('c');
  });
});
