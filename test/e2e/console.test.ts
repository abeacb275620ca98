import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFailoverCluster, type FailoverCluster } from '../../src/lab/procs/failover-cluster.js';
import { history, until } from '../helpers/failover.js';
import { TmuxTerminal } from '../helpers/tmux.js';

const root = join(import.meta.dirname, '..', '..');

/**
 * One whole frame on the screen: the header on the first line and nowhere else. Lines left over from
 * an earlier frame (seen when Ink's incremental renderer was on) break this.
 */
const wellFormed = (screen: string): boolean =>
  screen.startsWith('pgdeck ') && screen.split('\n').filter((l) => l.startsWith('pgdeck ')).length === 1;

/** The Failover view's row of `member` ("▶ pg1*  primary  running ..."): the role, and whether it is selected. */
function memberRow(screen: string, member: string): { role: string; selected: boolean } | null {
  for (const line of screen.split('\n')) {
    const m = new RegExp(`^(▶ |  )${member}\\*?\\s+(primary|sync replica|replica)\\s`).exec(line);
    if (m !== null) return { role: m[2]!, selected: m[1] === '▶ ' };
  }
  return null;
}

const selectedMember = (screen: string): string | undefined =>
  /^▶ (\S+?)\*?\s+(primary|sync replica|replica)\s/m.exec(screen)?.[1];

const roleOf = (screen: string, member: string): string | undefined => memberRow(screen, member)?.role;

describe('pgdeck console end to end (built CLI in tmux, real failover cluster)', () => {
  let cluster: FailoverCluster | undefined;
  let term: TmuxTerminal | undefined;

  afterEach(async () => {
    term?.kill();
    term = undefined;
    await cluster?.stop();
    cluster = undefined;
  });

  it('shows the members, switches over to the selected replica on s + y, and shows the new primary and its history entry', async () => {
    expect(existsSync(join(root, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build` first').toBe(true);
    cluster = await startFailoverCluster();
    const c = cluster;
    const primary = await c.waitHealthy(120_000);
    const names = c.members.map((m) => m.name);
    const replicas = names.filter((n) => n !== primary);
    // The member listed last is never the default cursor row, so reaching it takes j presses.
    const target = replicas[replicas.length - 1]!;
    const attachTo = c.member(replicas[0]!);

    const cli = `env -u CI PGDECK_TOKEN=${c.token} NODE_ENV=production node dist/main.js attach ${attachTo.apiUrl}`;
    term = TmuxTerminal.start(
      `printf 'before the console\\n'; ${cli}; status=$?; printf 'console exited %s\\n' $status; exit $status`,
      { cwd: root, columns: 160, rows: 48, prefix: 'pgdeck-console' },
    );
    const t = term;
    try {
      await t.waitFor(
        'the console header with the attached agent',
        (s) => wellFormed(s) && /^pgdeck\b.*\bOverview\b.*\(attached\)/.test(s),
        30_000,
      );
      expect(t.pane('alternate_on')).toBe('1');

      t.keys('2');
      const members = await t.waitFor(
        `the Failover view with ${names.join(', ')} and ${primary} as primary`,
        (s) =>
          wellFormed(s) &&
          /^pgdeck\b.*\bFailover cluster\b/.test(s) &&
          names.every((n) => memberRow(s, n) !== null) &&
          roleOf(s, primary) === 'primary' &&
          replicas.every((r) => roleOf(s, r)?.endsWith('replica') === true),
        30_000,
      );
      // The leader (the * row) is the daemon that decides, by design a replica's; the leader line names the primary.
      expect(members).toMatch(new RegExp(`^lab: leader pg\\d, lease [\\d.]+ s, primary ${primary}\\b`, 'm'));
      expect(members).toMatch(/MEMBER\s+ROLE\s+STATE\s+TL\s+LSN/);

      // Select the target with j (k is checked on the way back); the ▶ marks the selected row.
      for (let i = 0; i < names.length && selectedMember(t.screen()) !== target; i++) {
        const before = selectedMember(t.last);
        t.keys('j');
        await t.waitFor(
          `the selection to move down from ${before ?? 'none'}`,
          (s) => selectedMember(s) !== before,
          10_000,
        );
      }
      await t.waitFor(`${target} selected`, (s) => selectedMember(s) === target, 10_000);
      t.keys('k');
      await t.waitFor(
        `the selection to move up off ${target}`,
        (s) => memberRow(s, target)?.selected === false,
        10_000,
      );
      t.keys('j');
      await t.waitFor(`${target} selected again`, (s) => memberRow(s, target)?.selected === true, 10_000);

      t.keys('s');
      const preview = await t.waitFor(
        'the switchover preview and question',
        (s) => /switch over from \S+ to \S+/.test(s) && s.includes('Proceed? y/enter = yes'),
        30_000,
      );
      expect(preview).toContain(`switchover candidate=${target} on`);
      expect(preview).toContain(`switch over from ${primary} to ${target}`);
      expect(preview).toContain('expected data loss: 0 B');
      expect(preview).toContain(`restarts: ${primary}`);
      t.keys('y');

      const switched = await t.waitFor(
        `${target} shown as primary and ${primary} as a replica`,
        (s) => wellFormed(s) && roleOf(s, target) === 'primary' && roleOf(s, primary)?.endsWith('replica') === true,
        60_000,
      );
      expect(switched).toMatch(new RegExp(`^lab: leader pg\\d, lease [\\d.]+ s, primary ${target}\\b`, 'm'));
      expect(await until('the cluster to report a primary', () => c.primary(), 10_000, 100)).toBe(target);

      t.keys('3');
      const hist = await t.waitFor(
        `a switchover ${primary} -> ${target} in the History view`,
        (s) =>
          wellFormed(s) &&
          /^pgdeck\b.*\bHistory\b/.test(s) &&
          new RegExp(`\\bswitchover\\s+${primary} -> ${target}\\b`).test(s),
        30_000,
      );
      expect(hist).toMatch(/WHEN\s+KIND\s+CHANGE/);
      expect(
        (await history(c)).some((h) => h.kind === 'switchover' && h.oldPrimary === primary && h.newPrimary === target),
      ).toBe(true);

      t.keys('q');
      const status = await t.waitForExit(15_000);
      // With remain-on-exit tmux adds a line when the program ends, which can scroll the first line off: read the history too.
      const after = t.screen({ history: true });
      expect(status, `the console's exit status; the screen was:\n${after}`).toBe(0);
      // The alternate screen is left: the shell's lines are back and no console frame remains.
      expect(t.pane('alternate_on')).toBe('0');
      expect(after).toContain('before the console');
      expect(after).toContain('console exited 0');
      expect(after).not.toContain('Failover cluster');
      expect(after).not.toContain('MEMBER');
    } catch (error) {
      const message = (error as Error).message;
      const torn =
        /^pgdeck /m.test(t.last) && !wellFormed(t.last)
          ? '\n(note: the screen is not one whole frame: lines of an earlier frame were left on it)'
          : '';
      (error as Error).message = message.includes('the screen was:')
        ? `${message}${torn}`
        : `${message}${torn}\nthe last screen was:\n${t.last}`;
      throw error;
    }
  }, 240_000);
});
