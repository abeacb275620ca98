import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { withRedis } from '../helpers/services.js';

function pgdeck(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'autoscaler', 'send', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pgdeck autoscaler send', () => {
  const redis = withRedis();

  it('adds the event in the replaced tool’s format to REDIS_STREAM on REDIS_HOST:REDIS_PORT', async () => {
    const server = redis();
    const env = { REDIS_HOST: server.host, REDIS_PORT: String(server.port), REDIS_STREAM: 'otto:scale:events' };
    const sent = pgdeck(['--type', 'scale_up', '--pod-count', '3', '--task-id', 't1'], env);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const id = sent.stdout.trim();
    const client = new Redis({ host: server.host, port: server.port });
    try {
      expect(await client.xrange('otto:scale:events', '-', '+')).toEqual([
        [id, ['type', 'scale_up', 'pod_count', '3', 'task_id', 't1']],
      ]);
    } finally {
      client.disconnect();
    }
  });

  it.each([
    [
      ['--type', 'scale_up', '--pod-count', 'abc', '--task-id', 't1'],
      '--pod-count: pod_count must be a whole number, got "abc"',
    ],
    [
      ['--type', 'grow', '--pod-count', '1', '--task-id', 't1'],
      '--type: type must be scale_up or scale_down, got "grow"',
    ],
    [['--type', 'scale_up', '--pod-count', '1', '--task-id', 'has space'], '--task-id: task_id must be lowercase'],
    [['--type', 'scale_up', '--pod-count', '1'], '--task-id: task_id is missing'],
    [
      ['--type', 'scale_up', '--pod-count', '1', '--task-id', 't', '--redis-port', 'x'],
      '--redis-port: expected a port number, got "x"',
    ],
    [['--type', 'scale_up', '--pod-count', '1', '--task-id', 't', '--bogus', '1'], 'Unknown argument: bogus'],
  ])('%j exits 2 with one line naming the flag', (args, line) => {
    const result = pgdeck(args);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`pgdeck: ${line}`);
  });

  it('an unreachable Redis is one line and exit 1', () => {
    const result = pgdeck(['--type', 'scale_up', '--pod-count', '1', '--task-id', 't', '--redis-port', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'pgdeck: redis at 127.0.0.1:1 refused the connection (ECONNREFUSED): is redis-server running there?',
    ]);
  });
});
