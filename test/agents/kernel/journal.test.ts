import { describe, expect, it } from 'vitest';
import { Journal } from '../../../src/agents/kernel/journal.js';

function fill(journal: Journal, n: number): void {
  for (let i = 0; i < n; i++) journal.append({ severity: 'info', kind: 'tick', message: `tick ${i + 1}` });
}

describe('journal', () => {
  it('numbers events from 1 without repeats and stamps agent and time', () => {
    const journal = new Journal('a', 10, () => 42);
    fill(journal, 3);
    const { events, lastSeq, gap } = journal.since(0);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]).toMatchObject({ agent: 'a', time: 42, kind: 'tick', message: 'tick 1' });
    expect(lastSeq).toBe(3);
    expect(gap).toBe(false);
    expect(Object.isFrozen(events[0])).toBe(true);
  });

  it('keeps only the newest `capacity` events in its ring', () => {
    const journal = new Journal('a', 4);
    fill(journal, 10);
    expect(journal.firstSeq).toBe(7);
    expect(journal.since(0).events.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
    expect(() => new Journal('a', 0)).toThrow(RangeError);
  });

  it('resumes with since(lastSeen) and reports a gap only when events after it were dropped', () => {
    const journal = new Journal('a', 4);
    fill(journal, 10);
    expect(journal.since(6)).toMatchObject({ gap: false, lastSeq: 10 });
    expect(journal.since(6).events.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
    expect(journal.since(8).events.map((e) => e.seq)).toEqual([9, 10]);
    expect(journal.since(5).gap).toBe(true);
    expect(journal.since(10)).toMatchObject({ events: [], gap: false });
    expect(journal.since(6, 2).events.map((e) => e.seq)).toEqual([7, 8]);
    expect(new Journal('b', 4).since(0)).toMatchObject({ events: [], gap: false, lastSeq: 0 });
  });

  it('notifies subscribers and stops after unsubscribe', () => {
    const journal = new Journal('a');
    const seen: number[] = [];
    const off = journal.subscribe((e) => seen.push(e.seq));
    fill(journal, 2);
    off();
    fill(journal, 1);
    expect(seen).toEqual([1, 2]);
  });

  it('mirrors events from elsewhere, keeping their numbers and ignoring old ones', () => {
    const source = new Journal('remote', 10);
    fill(source, 5);
    const mirror = new Journal('remote', 10);
    for (const event of source.since(2).events) mirror.mirror(event);
    mirror.mirror(source.since(0).events[0]!);
    expect(mirror.since(0).events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(mirror.lastSeq).toBe(5);
  });

  it('redacts secrets in messages and fields', () => {
    const journal = new Journal('a');
    const event = journal.append({
      severity: 'warn',
      kind: 'log',
      message: 'connect postgres://app:hunter2@db/x password=hunter2',
      fields: { password: 'hunter2', nested: { apiKey: 'k' } },
    });
    expect(JSON.stringify(event)).not.toContain('hunter2');
    expect(event.fields).toEqual({ password: '********', nested: { apiKey: '********' } });
  });
});
