import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { history, failoverClusters, until } from '../helpers/failover.js';

const root = join(import.meta.dirname, '..', '..');
const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

/** The built pgdeck in a real pseudo-terminal (tmux), read the way a person reads it: the screen. */
class Terminal {
  constructor(readonly session: string) {}

  screen(): string {
    return tmux('capture-pane', '-p', '-t', this.session);
  }

  keys(...keys: string[]): void {
    tmux('send-keys', '-t', this.session, ...keys);
  }

  async waitFor(what: string, test: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
    let last = '';
    try {
      return await until(what, async () => {
        last = this.screen();
        return test(last) ? last : null;
      }, timeoutMs, 100);
    } catch {
      throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
    }
  }

  alive(): boolean {
    try {
      tmux('has-session', '-t', this.session);
      return true;
    } catch {
      return false;
    }
  }

  kill(): void {
    if (this.alive()) tmux('kill-session', '-t', this.session);
  }
}

/** The row of `member` in the Failover view, e.g. "pg1  primary  running ...". */
const row = (screen: string, member: string): string => screen.split('\n').find((l) => new RegExp(`\\b${member}\\*?\\s+(primary|replica)`).test(l)) ?? '';

describe('pgdeck console end to end (built CLI, tmux, real failover cluster)', () => {
  const start = failoverClusters();
  const terminals: Terminal[] = [];
  afterEach(() => terminals.splice(0).forEach((t) => t.kill()));

  it('shows the members, switches over on s + y, and shows the new primary and the history entry', async () => {
    expect(existsSync(join(root, 'dist', 'main.js'))).toBe(true);
    const cluster = await start();
    const primary = await cluster.waitHealthy();
    const replicas = cluster.members.filter((m) => m.name !== primary);
    const attachTo = replicas[0]!;
    const term = new Terminal(`pgdeck-e2e-${process.pid}`);
    terminals.push(term);
    const cmd = `cd ${root} && env -u CI PGDECK_TOKEN=${cluster.token} NODE_ENV=production node dist/main.js attach ${attachTo.apiUrl}`;
    tmux('new-session', '-d', '-s', term.session, '-x', '160', '-y', '48', cmd);

    await term.waitFor('the console header', (s) => s.includes('pgdeck') && s.includes('failover'));
    term.keys('2');
    const members = await term.waitFor('three members with the primary', (s) => cluster.members.every((m) => row(s, m.name) !== '') && /primary/.test(row(s, primary)));
    expect(row(members, replicas[1]!.name)).toMatch(/replica/);

    term.keys('s');
    const preview = await term.waitFor('the switchover preview', (s) => /switch over from/.test(s) && /Proceed\?/.test(s));
    const target = /switch over from (\S+) to (\S+)/.exec(preview)![2]!;
    expect(target).not.toBe(primary);
    term.keys('y');

    await term.waitFor(`${target} shown as primary`, (s) => /primary/.test(row(s, target)) && /replica/.test(row(s, primary)), 30_000);
    expect(await cluster.primary()).toBe(target);

    term.keys('3');
    await term.waitFor('the switchover in the history view', (s) => /switchover/.test(s) && s.includes(target));
    expect((await history(cluster)).some((h) => h.kind === 'switchover' && h.newPrimary === target)).toBe(true);

    term.keys('q');
    await until('the console to exit', async () => !term.alive(), 10_000, 100);
  }, 240_000);
});
