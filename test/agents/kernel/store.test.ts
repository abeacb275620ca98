import { describe, expect, it } from 'vitest';
import { sameData } from '../../../src/agents/kernel/same-data.js';
import { AgentStore } from '../../../src/agents/kernel/store.js';

describe('store', () => {
  it('bumps the version only on a real change', () => {
    const store = new AgentStore<{ n: number }>('a', { now: () => 7 });
    let notified = 0;
    store.subscribe(() => notified++);
    expect(store.getSnapshot().version).toBe(0);
    expect(store.update({ state: { n: 1 }, summary: 'one' })).toBe(true);
    expect(store.getSnapshot().version).toBe(1);
    expect(store.update({ state: { n: 1 } })).toBe(false);
    expect(store.update({ summary: 'one', state: undefined })).toBe(false);
    expect(store.getSnapshot().version).toBe(1);
    expect(store.update({ state: { n: 2 } })).toBe(true);
    expect(store.getSnapshot()).toMatchObject({ version: 2, state: { n: 2 }, summary: 'one', updatedAt: 7 });
    expect(notified).toBe(2);
  });

  it('compares states by value, key order aside, and finds a change deep inside', () => {
    const pods = (phase: string) => [
      { name: 'p0', labels: { a: '1' } },
      { name: 'p1', phase },
    ];
    expect(sameData({ pods: pods('Running'), n: 1 }, { n: 1, pods: pods('Running') })).toBe(true);
    expect(sameData({ pods: pods('Running') }, { pods: pods('Pending') })).toBe(false);
    expect(sameData({ pods: pods('Running') }, { pods: [...pods('Running'), { name: 'p2' }] })).toBe(false);
    expect(sameData({ a: undefined }, { b: undefined })).toBe(false);
    expect(sameData({ a: [1, 2] }, { a: { 0: 1, 1: 2 } })).toBe(false);
    expect(sameData([null], [{}])).toBe(false);
    expect(sameData({ a: null }, { a: null })).toBe(true);
    const store = new AgentStore<{ pods: unknown[] }>('a');
    expect(store.update({ state: { pods: pods('Running') } })).toBe(true);
    expect(store.update({ state: { pods: pods('Running') } })).toBe(false);
    expect(store.update({ state: { pods: pods('Failed') } })).toBe(true);
  });

  it('keeps snapshots immutable and replaces them rather than mutating', () => {
    const store = new AgentStore('a');
    const before = store.getSnapshot();
    store.update({ summary: 'changed' });
    expect(before.summary).toBe('starting');
    expect(Object.isFrozen(store.getSnapshot())).toBe(true);
  });

  it('notifies on journal events and serves them through events()', () => {
    const store = new AgentStore('a', { journalCapacity: 3 });
    let notified = 0;
    const off = store.subscribe(() => notified++);
    for (let i = 0; i < 5; i++) store.record({ severity: 'info', kind: 'x', message: String(i) });
    off();
    store.record({ severity: 'info', kind: 'x', message: 'late' });
    expect(notified).toBe(5);
    expect(store.events(0)).toMatchObject({ gap: true, lastSeq: 6 });
    expect(store.events(3).events.map((e) => e.seq)).toEqual([4, 5, 6]);
  });

  it('replace() takes a remote snapshot as it is, version included', () => {
    const remote = new AgentStore('remote');
    remote.update({ summary: 's1' });
    remote.update({ summary: 's2' });
    const mirror = new AgentStore('remote', {
      source: { mode: 'attached', connected: true, stale: false, url: 'http://x' },
    });
    mirror.replace(remote.getSnapshot());
    expect(mirror.getSnapshot()).toMatchObject({ version: 2, summary: 's2' });
  });
});
