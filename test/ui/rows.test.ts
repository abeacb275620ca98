import { describe, expect, it } from 'vitest';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { agentRows } from '../../src/ui/rows/agent-rows.js';
import { eventRows, fit } from '../../src/ui/rows/event-rows.js';
import { KEYMAP, commandFor, keyName, visibleBindings } from '../../src/ui/keys/keymap.js';
import { windowStart } from '../../src/ui/rows/window.js';

describe('rows', () => {
  it('agent rows carry the tone and the last error', () => {
    const store = new AgentStore('failover');
    store.update({
      health: {
        status: 'failing',
        live: true,
        ready: false,
        passes: 5,
        consecutiveErrors: 3,
        lastError: { kind: 'unavailable', message: 'etcd down' },
        dependencies: {},
      },
    });
    expect(agentRows([store.getSnapshot()])).toEqual([
      {
        key: 'failover@local',
        name: 'failover',
        source: 'in-process',
        health: 'failing',
        ready: 'no',
        summary: 'starting [unavailable: etcd down]',
        tone: 'bad',
      },
    ]);
  });

  it('event rows: newest first, no debug, limited', () => {
    const store = new AgentStore('a');
    for (let i = 0; i < 5; i++) store.record({ severity: i === 2 ? 'debug' : 'info', kind: 'k', message: `m${i}` });
    expect(eventRows(store.events(0).events, 3).map((r) => r.message)).toEqual(['m4', 'm3', 'm1']);
  });

  it('fit pads and cuts', () => {
    expect(fit('abc', 5)).toBe('abc  ');
    expect(fit('abcdef', 4)).toBe('abc…');
  });
});

describe('keymap', () => {
  it('maps keys to commands and generates help from one table', () => {
    expect(commandFor(keyName('j', {}), false)).toBe('down');
    expect(commandFor(keyName('', { upArrow: true }), false)).toBe('up');
    expect(commandFor(keyName('c', { ctrl: true }), false)).toBe('quit');
    expect(commandFor('x', false)).toBeUndefined();
    expect(new Set(KEYMAP.flatMap((b) => b.keys)).size).toBe(KEYMAP.flatMap((b) => b.keys).length);
  });

  it('read-only mode drops dangerous bindings', () => {
    const table = [
      ...KEYMAP,
      { command: 'quit' as const, keys: ['F'], label: 'F', description: 'fail over', dangerous: true },
    ];
    expect(commandFor('F', false, table)).toBe('quit');
    expect(commandFor('F', true, table)).toBeUndefined();
    expect(visibleBindings(true, table).some((b) => b.dangerous)).toBe(false);
  });
});

describe('windowStart', () => {
  it('keeps the selection in view and never scrolls past the end', () => {
    expect(windowStart(100, 0, 10)).toBe(0);
    expect(windowStart(100, 9, 10)).toBe(0);
    expect(windowStart(100, 10, 10)).toBe(1);
    expect(windowStart(100, 99, 10)).toBe(90);
    expect(windowStart(5, 4, 10)).toBe(0);
  });
});
