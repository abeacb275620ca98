import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogSource } from '../../../src/agents/kernel/agent.js';
import { startAgent } from '../../../src/agents/kernel/runtime.js';
import { AgentStore } from '../../../src/agents/kernel/store.js';
import { attachAgent } from '../../../src/agents/wire/attach.js';
import { agentLogs, maskLogLine, tailFile } from '../../../src/agents/wire/logs.js';
import { serveAgent, type AgentServer } from '../../../src/agents/wire/serve.js';
import { counterAgent, counterConfig } from '../../fixtures/counter-agent.js';
import { TOKEN } from '../../helpers/served-counter.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logFile(lines: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgdeck-logs-'));
  dirs.push(dir);
  const path = join(dir, 'postgres.log');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function serveWithLogs(
  sources: Readonly<Record<string, LogSource>>,
  openReads = false,
): Promise<{ server: AgentServer; record: (message: string, fields?: Record<string, unknown>) => void }> {
  const agent = await startAgent(counterAgent, counterConfig(), { loop: { resyncMs: 60_000 } });
  const server = await serveAgent({ ...agent, logSources: sources }, { token: TOKEN, openReads });
  cleanups.push(async () => {
    await server.close();
    await agent.close();
  });
  return {
    server,
    record: (message, fields) =>
      agent.store.record({ severity: 'info', kind: 'note', message, ...(fields === undefined ? {} : { fields }) }),
  };
}

async function getLogs(url: string, query: string, token: string | null = TOKEN) {
  const res = await fetch(
    `${url}/logs${query}`,
    token === null ? {} : { headers: { authorization: `Bearer ${token}` } },
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /logs', () => {
  it('needs the token even when reads are open', async () => {
    const { server } = await serveWithLogs({}, true);
    expect((await getLogs(server.url, '', null)).status).toBe(401);
    expect((await getLogs(server.url, '', 'wrong')).status).toBe(401);
    expect((await getLogs(server.url, '')).status).toBe(200);
  });

  it('serves the daemon journal as masked lines, at most 500, and says what is wrong with a bad query', async () => {
    const { server, record } = await serveWithLogs({});
    for (let i = 0; i < 600; i++) record(`line ${i}`);
    record('connecting', { conninfo: "host=pg1 user=rep password='s3cr3t pass' port=5432" });
    const answer = await getLogs(server.url, '?source=daemon&lines=3');
    expect(answer.status).toBe(200);
    const lines = answer.body.lines as string[];
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO note: line 598$/);
    expect(lines[2]).toContain('connecting');
    expect(lines[2]).toContain('password=********');
    expect(lines[2]).not.toContain('s3cr3t');
    expect(answer.body).toMatchObject({ source: 'daemon', sources: ['daemon'] });
    expect(((await getLogs(server.url, '?lines=100000')).body.lines as string[]).length).toBe(500);
    expect(((await getLogs(server.url, '')).body.lines as string[]).length).toBe(100);
    expect(await getLogs(server.url, '?lines=abc')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid-argument', field: 'lines' } },
    });
    expect(await getLogs(server.url, '?source=kernel')).toMatchObject({
      status: 404,
      body: { error: { code: 'not-found', message: 'no log source "kernel"; this agent has daemon' } },
    });
  });

  it('tails a file source by bytes, and reads the same in-process and attached', async () => {
    const path = logFile([
      ...Array.from({ length: 2000 }, (_, i) => `2026-01-01 LOG:  checkpoint ${i}`),
      "2026-01-01 LOG:  statement: ALTER ROLE app PASSWORD 'hunter2'",
      'FATAL:  could not connect to the primary server: postgresql://rep:hunter2@pg0:5432/postgres',
    ]);
    const sources: Record<string, LogSource> = {
      postgres: { kind: 'file', path },
      echo: { kind: 'lines', read: async (n) => Array.from({ length: n + 5 }, (_, i) => `echo ${i} token=abc`) },
    };
    const { server } = await serveWithLogs(sources);
    const attached = attachAgent(server.url, { token: TOKEN });
    cleanups.push(() => attached.close());
    const remote = await attached.logs('postgres', 3);
    expect(remote).toEqual({
      source: 'postgres',
      sources: ['daemon', 'postgres', 'echo'],
      lines: [
        '2026-01-01 LOG:  checkpoint 1999',
        "2026-01-01 LOG:  statement: ALTER ROLE app PASSWORD '********'",
        'FATAL:  could not connect to the primary server: postgresql://rep:********@pg0:5432/postgres',
      ],
    });
    const local = agentLogs(new AgentStore('in-process'), sources);
    expect(await local.logs('postgres', 3)).toEqual(remote);
    expect((await attached.logs('echo', 2)).lines).toEqual(['echo 5 token=********', 'echo 6 token=********']);
    await expect(attached.logs('nope', 2)).rejects.toMatchObject({ kind: 'not-found' });
  });
});

describe('tailFile and maskLogLine', () => {
  it('reads no more than the byte budget and drops the partial first line', async () => {
    const path = logFile(Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}`));
    expect(await tailFile(path, 50, 30)).toEqual(['line 097', 'line 098', 'line 099']);
    expect(await tailFile(path, 50, 27)).toEqual(['line 097', 'line 098', 'line 099']);
    expect(await tailFile(path, 50, 26)).toEqual(['line 098', 'line 099']);
    expect(await tailFile(path, 2)).toEqual(['line 098', 'line 099']);
    expect(await tailFile(join(dirs[0]!, 'missing.log'), 5)).toEqual([]);
  });

  it('masks conninfo, URLs, SQL and JSON secrets and keeps the rest', () => {
    expect(maskLogLine(`primary_conninfo = 'host=pg0 password=abc user=x'`)).toBe(
      `primary_conninfo = 'host=pg0 password=******** user=x'`,
    );
    expect(maskLogLine(`{"conninfo":"password=abc","passes":3,"apiToken":"t0k"}`)).toBe(
      `{"conninfo":"password=********","passes":3,"apiToken":"********"}`,
    );
    expect(maskLogLine(`password = 'a b c' next`)).toBe('password = ******** next');
    expect(maskLogLine('create user u with password $$x$$')).toBe('create user u with password $$x$$');
  });
});
