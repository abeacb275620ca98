import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fetchStatus, parseOutputFormat, renderStatus } from '../../src/cli/status.js';
import { freePort } from '../../src/lab/procs/ports.js';
import { TOKEN, serveCounter, type ServedCounter } from '../helpers/served-counter.js';
import { waitFor } from '../helpers/wait-for.js';

let served: ServedCounter;
let good = '';
let refused = '';

beforeAll(async () => {
  served = await serveCounter({ target: 2 });
  good = served.server.url;
  refused = `http://127.0.0.1:${await freePort()}`;
  await waitFor(() => served.agent.store.getSnapshot().state?.count === 2, 'count 2');
});

afterAll(async () => {
  await served.close();
});

/** The CLI as a separate process (it must not share this process's event loop: the agent serves from here). */
async function pgdeck(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

describe('pgdeck status', () => {
  it('reports every source: what answered, and why the others did not', async () => {
    const entries = await fetchStatus([good, refused, `${good}/`], 'wrong-token');
    expect(entries.map((e) => (e.kind === 'unreachable' ? e.reason : e.kind))).toEqual([
      '401: wrong token',
      'refused',
      '401: wrong token',
    ]);
    const ok = await fetchStatus([good, refused], TOKEN);
    expect(ok[0]).toMatchObject({ kind: 'answered', snapshot: { agent: 'counter', state: { count: 2 } } });
    const table = renderStatus(ok, 'table').split('\n');
    expect(table[0]).toMatch(/^AGENT\s+SOURCE\s+HEALTH\s+READY\s+SUMMARY$/);
    expect(table[1]).toMatch(new RegExp(`^counter\\s+${good.replace(/\./g, '\\.')}\\s+\\w+\\s+(yes|no)\\s+count 2`));
    expect(table[2]).toMatch(new RegExp(`^-\\s+${refused.replace(/\./g, '\\.')}\\s+UNREACHABLE\\s+-\\s+refused$`));
    const json = JSON.parse(renderStatus(ok, 'json')) as { agent?: string; source: Record<string, unknown> }[];
    expect(json[0]).toMatchObject({ agent: 'counter', source: { mode: 'attached', url: good, connected: true } });
    expect(json[1]).toEqual({
      source: { mode: 'attached', url: refused, connected: false, stale: true, lastError: 'refused' },
    });
    expect(parse(renderStatus(ok, 'yaml'))).toEqual(json);
  });

  it('prints the good sources and marks the refused one, exiting 1', async () => {
    const result = await pgdeck(['status', good, refused], { PGDECK_TOKEN: TOKEN });
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines[1]).toMatch(/^counter\s/);
    expect(lines[2]).toMatch(/UNREACHABLE\s+-\s+refused$/);
    expect(result.stderr.trimEnd().split('\n')).toEqual([`pgdeck: status: ${refused}: refused`]);
    const fine = await pgdeck(['status', good, '-o', 'json'], { PGDECK_TOKEN: TOKEN });
    expect(fine.code).toBe(0);
    expect(fine.stderr).toBe('');
  });

  it('names the valid choices for a bad -o (exit 2)', async () => {
    expect(() => parseOutputFormat('xml')).toThrow('-o/--output: expected one of table, json, yaml, got "xml"');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'status', good, '-o', 'xml'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('pgdeck: -o/--output: expected one of table, json, yaml, got "xml"\n');
    expect(result.stdout).toBe('');
  });
});
