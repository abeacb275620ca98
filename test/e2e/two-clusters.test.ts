import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdServer } from '../../src/lab/procs/etcd.js';
import { startFailoverCluster, type FailoverCluster } from '../../src/lab/procs/failover-cluster.js';
import { until } from '../helpers/failover.js';
import { TmuxTerminal } from '../helpers/tmux.js';
import { bannerOf, captureEvery, checkLayout, membersOf, selectedRow, wellFormed, type Frame } from './screen.js';

const root = join(import.meta.dirname, '..', '..');
const NAMES = ['pg0', 'pg1', 'pg2'];

/**
 * Two 3-node failover clusters whose members have the same names (pg0..pg2), one console attached
 * to all six daemons, in tmux: the console must show two clusters, route each action to the
 * selected row's own cluster, and never show a ghost primary or a dead leader.
 */
describe('pgdeck console attached to two clusters with the same member names (built CLI in tmux)', () => {
  const token = randomBytes(24).toString('hex');
  const clusters: Record<'a' | 'b', FailoverCluster | undefined> = { a: undefined, b: undefined };
  const terms: TmuxTerminal[] = [];
  let etcd: EtcdServer | undefined;
  let t: TmuxTerminal;
  const cluster = (name: 'a' | 'b'): FailoverCluster => clusters[name]!;

  const attach = (columns: number, rows: number): TmuxTerminal => {
    const urls = (['a', 'b'] as const).flatMap((c) => cluster(c).members.map((m) => m.apiUrl));
    const term = TmuxTerminal.start(
      `env -u CI PGDECK_TOKEN=${token} NODE_ENV=production node dist/main.js attach ${urls.join(' ')}`,
      { cwd: root, columns, rows, prefix: 'pgdeck-two' },
    );
    terms.push(term);
    return term;
  };

  /** Presses j (from the top) until the selected member row passes `test`. */
  async function select(what: string, test: (row: NonNullable<ReturnType<typeof selectedRow>>) => boolean) {
    t.keys('g');
    await t.waitFor('the first row selected', (s) => selectedRow(s)?.index === 0, 10_000);
    for (let i = 0; i < 6; i++) {
      const row = selectedRow(t.screen());
      if (row !== undefined && test(row)) return row;
      t.keys('j');
      await t.waitFor('the selection to move down', (s) => selectedRow(s)?.index === (row?.index ?? -1) + 1, 10_000);
    }
    throw new Error(`no row for ${what}; the screen was:\n${t.screen()}`);
  }

  /** Confirms the action whose preview is on screen; returns the preview. */
  async function confirm(what: string, test: (s: string) => boolean): Promise<string> {
    const preview = await t.waitFor(what, (s) => s.includes('Proceed? y/enter = yes') && test(s), 30_000);
    t.keys('y');
    await t.waitFor('the preview to close', (s) => !s.includes('Proceed? y/enter = yes'), 10_000);
    return preview;
  }

  beforeAll(async () => {
    expect(existsSync(join(root, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build` first').toBe(true);
    etcd = await startEtcd();
    const shared = { token, etcd };
    [clusters.a, clusters.b] = await Promise.all([
      startFailoverCluster({ cluster: 'a', ...shared }),
      startFailoverCluster({ cluster: 'b', ...shared }),
    ]);
    await Promise.all([cluster('a').waitHealthy(180_000), cluster('b').waitHealthy(180_000)]);
    t = attach(160, 48);
  }, 400_000);

  afterAll(async () => {
    for (const term of terms) term.kill();
    await Promise.all([clusters.a?.stop(), clusters.b?.stop()]);
    await etcd?.stop();
  }, 60_000);

  it('shows each cluster once, with its three members, and all six daemons live', async () => {
    const overview = await t.waitFor(
      'two failover entities and six live sources',
      (s) => wellFormed(s) && /sources 6\/6 live/.test(s) && /^\s+failover\s+b\s/m.test(s),
      60_000,
    );
    for (const c of ['a', 'b'])
      expect(overview.split('\n').filter((l) => new RegExp(`^(▶ |  )failover\\s+${c}\\s`).test(l))).toHaveLength(1);
    expect(overview).toMatch(/failover ×2/);

    t.keys('2');
    const members = await t.waitFor(
      'the Failover view with three members per cluster, one primary each',
      (s) =>
        wellFormed(s) &&
        (['a', 'b'] as const).every(
          (c) => membersOf(s, c).length === 3 && membersOf(s, c).filter((m) => m.role === 'primary').length === 1,
        ),
      60_000,
    );
    for (const c of ['a', 'b'] as const) {
      expect(
        membersOf(members, c)
          .map((m) => m.member)
          .sort(),
      ).toEqual(NAMES);
      expect(bannerOf(members, c)?.primary).toBe(await cluster(c).primary());
    }
  });

  it('keeps the header, the column headers and the footer in every view, at 160x48 and at 80x24', async () => {
    checkLayout(await viewsOf(t), 160, 48);
    const small = attach(80, 24);
    await small.waitFor('the small console live', (s) => wellFormed(s) && /sources 6\/6/.test(s), 60_000);
    checkLayout(await viewsOf(small), 80, 24);
    small.kill();
    t.keys('2');
  });

  it("shows the events of all six daemons with their source, and /pg2 finds pg2's events", async () => {
    t.keys('8');
    await t.waitFor('the Events view', (s) => wellFormed(s) && /^ {2}TIME\s+SOURCE\s+KIND\s+MESSAGE/m.test(s), 10_000);
    const sourceOf = (line: string): string | undefined => /^(?:▶ | {2})\d\d:\d\d:\d\d\S*\s+(\S+)/.exec(line)?.[1];
    for (const source of ['a/pg0', 'a/pg1', 'a/pg2', 'b/pg0', 'b/pg1', 'b/pg2']) {
      t.keys('/', ...source.split(''), 'Enter');
      const screen = await t.waitFor(
        `events of ${source} under the filter /${source}`,
        (s) => s.includes(`/${source}  (esc clears)`) && s.split('\n').some((l) => sourceOf(l) === source),
        20_000,
      );
      expect(screen).toMatch(/EVENTS \(\d+\) \d+ of \d+/);
      t.keys('Escape');
      await t.waitFor('the filter cleared', (s) => !s.includes('(esc clears)'), 10_000);
    }
    t.keys('/', 'p', 'g', '2', 'Enter');
    const filtered = await t.waitFor(
      '/pg2 applied',
      (s) => s.includes('/pg2  (esc clears)') && ['a/pg2', 'b/pg2'].every((x) => s.includes(x)),
      20_000,
    );
    const rows = filtered.split('\n').filter((l) => sourceOf(l) !== undefined);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/pg2/);
    t.keys('Escape');
    await t.waitFor('the filter cleared', (s) => !s.includes('(esc clears)'), 10_000);
  });

  it('a switchover on B moves only B, and no frame shows two primaries', async () => {
    t.keys('2');
    await t.waitFor('the Failover view', (s) => membersOf(s, 'b').length === 3, 10_000);
    const [aBefore, bBefore] = [await cluster('a').primary(), await cluster('b').primary()];
    const target = await select('a replica of b', (r) => r.cluster === 'b' && r.role.endsWith('replica'));
    t.keys('s');
    const preview = await confirm('the switchover preview naming cluster b', (s) => s.includes('on cluster b'));
    expect(preview).toContain(`switchover candidate=${target.member} on cluster b (via b/`);
    expect(preview).toContain(`switch over from ${bBefore} to ${target.member}`);
    const watch = captureEvery(t, 100);
    await t.waitFor(
      `${target.member} primary of b`,
      (s) => membersOf(s, 'b').find((m) => m.member === target.member)?.role === 'primary',
      90_000,
    );
    const frames = watch.stop();
    expect(await until('b to report a primary', () => cluster('b').primary(), 20_000, 100)).toBe(target.member);
    expect(await cluster('a').primary()).toBe(aBefore);
    expect(bannerOf(t.screen(), 'a')?.primary).toBe(aBefore);
    for (const f of frames)
      for (const c of ['a', 'b'] as const) expect(primaries(f, c), f.screen).toBeLessThanOrEqual(1);
  });

  it('A can be operated too: p pauses and resumes cluster a only', async () => {
    await select('a row of a', (r) => r.cluster === 'a');
    t.keys('p');
    await confirm('the pause preview naming cluster a', (s) => /pause\b.* on cluster a \(via a\//.test(s));
    await t.waitFor(
      'a paused, b not',
      (s) => /^a: .*automatic failover PAUSED/m.test(s) && !/^b: .*PAUSED/m.test(s),
      30_000,
    );
    await select('a row of a', (r) => r.cluster === 'a');
    t.keys('p');
    await confirm('the resume preview naming cluster a', (s) => /resume\b.* on cluster a \(via a\//.test(s));
    await t.waitFor('a resumed', (s) => /^a: /m.test(s) && !/PAUSED/.test(s), 30_000);
  });

  it("after kill -9 of A's primary: never two primaries nor the dead one as leader; it is unreachable within 1 s", async () => {
    const a = cluster('a');
    const dead = (await a.primary())!;
    const before = t.screen();
    expect(bannerOf(before, 'a')?.leader, 'by design the leader is a replica').not.toBe(dead);
    const watch = captureEvery(t, 100);
    const killedAt = Date.now();
    a.member(dead).killNode('SIGKILL');
    await t.waitFor(
      `a new primary of a other than ${dead}`,
      (s) => membersOf(s, 'a').some((m) => m.member !== dead && m.role === 'primary'),
      90_000,
      100,
    );
    const shownAt = Date.now();
    const frames = watch.stop();
    const promoted = await until('a to report a new primary', () => a.primary(), 30_000, 100);
    expect(promoted).not.toBe(dead);
    const after = frames.filter((f) => f.at >= killedAt);
    // captured every 100 ms; a loaded machine's tmux may take a few times that per capture
    expect(after.length, 'frames captured after the kill').toBeGreaterThanOrEqual(
      Math.max(2, Math.floor((shownAt - killedAt) / 500)),
    );
    const unreachable = after.find(
      (f) => membersOf(f.screen, 'a').find((m) => m.member === dead)?.state === 'unreachable',
    );
    expect(unreachable, 'a frame with the dead member unreachable').toBeDefined();
    expect(unreachable!.at - killedAt, unreachable!.screen).toBeLessThanOrEqual(1000);
    process.stdout.write(
      `kill -9 of a/${dead}: unreachable on screen after ${unreachable!.at - killedAt} ms, ${promoted} primary on screen after ${shownAt - killedAt} ms, ${after.length} frames checked\n`,
    );
    for (const f of after) {
      expect(wellFormed(f.screen), f.screen).toBe(true);
      expect(primaries(f, 'a'), f.screen).toBeLessThanOrEqual(1);
      expect(primaries(f, 'b'), f.screen).toBeLessThanOrEqual(1);
      expect(bannerOf(f.screen, 'a')?.leader, f.screen).not.toBe(dead);
      expect(membersOf(f.screen, 'a').find((m) => m.member === dead)?.leader, f.screen).not.toBe(true);
    }
  });
});

const primaries = (f: Frame, c: string): number => membersOf(f.screen, c).filter((m) => m.role === 'primary').length;

/** Every view's screen, by number key, until a key shows no new view. */
async function viewsOf(term: TmuxTerminal): Promise<{ key: string; screen: string }[]> {
  const titles = [
    'Overview',
    'Failover cluster',
    'History',
    'Citus workers',
    'PostgresClusters',
    'Autoscaler',
    'Lab',
    'Events',
  ];
  const out: { key: string; screen: string }[] = [];
  for (const [i, title] of titles.entries()) {
    term.keys(String(i + 1));
    out.push({
      key: title,
      screen: await term.waitFor(
        `the ${title} view`,
        (s) => wellFormed(s) && s.split('\n')[0]!.includes(title),
        10_000,
      ),
    });
  }
  return out;
}
