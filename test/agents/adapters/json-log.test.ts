import { describe, expect, it } from 'vitest';
import { jsonLineSink } from '../../../src/agents/adapters/json-log.js';

function capture(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('jsonLineSink', () => {
  it('writes one JSON object per line with level, time and fields, secrets masked', () => {
    const out = capture();
    const sink = jsonLineSink('info', out);
    sink('info', 'connecting to postgres://app:hunter2@db/x', {
      agent: 'failover',
      password: 'hunter2',
      nested: { token: 't' },
    });
    sink('warn', 'lag high', { lagBytes: 10 });
    expect(out.lines).toHaveLength(2);
    expect(out.lines[0]).toMatchObject({
      level: 'info',
      agent: 'failover',
      password: '********',
      nested: { token: '********' },
    });
    expect(out.lines[0]?.['msg']).toBe('connecting to postgres://app:********@db/x');
    expect(typeof out.lines[0]?.['time']).toBe('string');
    expect(JSON.stringify(out.lines)).not.toContain('hunter2');
    expect(out.lines[1]).toMatchObject({ level: 'warn', lagBytes: 10 });
  });

  it('drops lines below its level', () => {
    const out = capture();
    const sink = jsonLineSink('warn', out);
    sink('debug', 'd', {});
    sink('info', 'i', {});
    sink('error', 'e', {});
    expect(out.lines.map((l) => l['msg'])).toEqual(['e']);
  });
});
