import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatroniRest } from '../../src/agents/adapters/patroni-rest.js';
import { KUBE_RESOURCES, type KubeClient } from '../../src/agents/adapters/kube.js';
import { PATRONI_API_ANNOTATION } from '../../src/agents/patroni-operator/observe.js';
import { logTail } from '../../src/lab/procs/daemon.js';
import { startPatroniCluster, type PatroniCluster } from '../../src/lab/procs/patroni.js';
import {
  clusterSpec,
  createCluster,
  createVolumes,
  installCrd,
  labelRoles,
  readCluster,
} from '../agents/patroni-operator/harness.js';
import { adminKube, eventually, withKube } from '../helpers/kube.js';
import { withEtcd } from '../helpers/services.js';
import type { TmuxTerminal } from '../helpers/tmux.js';
import {
  attachConsole,
  clusterRow,
  memberRow,
  memberSelected,
  startOperatorDaemon,
  type OperatorDaemon,
} from './operator-screen.js';
import { wellFormed } from './screen.js';

const NAME = 'ha';
const MEMBERS = ['ha-0', 'ha-1', 'ha-2'];
const CONFIRM = 'Proceed? y/enter = yes';
const REFUSED = /Patroni refused POST \/(switchover|failover) \(503\)/;

/**
 * The operator's keys w (switchover), o (failover), x (restart) and z (pause/resume), pressed in the
 * built console (tmux) attached to a headless operator on a real control plane, whose pods stand for a
 * real Patroni cluster (Debian's patroni on loopback, one member per pod, reached through the pods'
 * `pgdeck.io/patroni-api` annotation). Each key is first cancelled at its confirmation, which must
 * change nothing, then confirmed, and its effect is read from Patroni's REST API or the object.
 */
describe("the console's operator keys against real Patroni (built CLI in tmux, real control plane)", () => {
  const kube = withKube({ nodes: 3 });
  const etcd = withEtcd();
  let admin: KubeClient;
  let namespace: string;
  let patroni: PatroniCluster;
  let operator: OperatorDaemon | undefined;
  let term: TmuxTerminal | undefined;

  beforeAll(async () => {
    admin = adminKube(kube());
    const [, ns, cluster] = await Promise.all([
      installCrd(admin),
      kube().namespace('e2e-pgc-keys'),
      startPatroniCluster({
        etcdEndpoint: etcd().endpoint,
        members: MEMBERS.length,
        names: MEMBERS,
        timing: { ttl: 10, loopWait: 1, retryTimeout: 4 },
      }),
    ]);
    namespace = ns;
    patroni = cluster;
    await createVolumes(admin, `pv-e2e-keys-${process.pid}`, MEMBERS.length);
    // kwok pod IPs cannot be reached: each pod names its real Patroni on loopback by the annotation
    operator = await startOperatorDaemon(kube(), namespace, { extraArgs: ['--patroni-api-annotation'] });
    term = attachConsole(operator);
  }, 300_000);

  afterAll(async () => {
    term?.kill();
    await operator?.daemon.stop(5000);
    operator?.dir.remove();
    await patroni?.destroy();
    await admin?.close();
  }, 60_000);

  const apiPort = (member: string): number => patroni.members.find((m) => m.name === member)!.apiPort;
  const rest = (member: string): PatroniRest => new PatroniRest(`http://127.0.0.1:${apiPort(member)}`);
  const leader = async (): Promise<string | undefined> =>
    (await rest(MEMBERS[0]!).cluster()).members.find((m) => m.role === 'leader')?.name;
  const streaming = async (): Promise<string[]> =>
    (await rest(MEMBERS[0]!).cluster()).members
      .filter((m) => m.role !== 'leader' && (m.state === 'streaming' || m.state === 'running'))
      .map((m) => m.name)
      .sort();
  const patroniState = async (member: string): Promise<{ postmaster_start_time?: string; timeline?: number }> =>
    (await (await fetch(`http://127.0.0.1:${apiPort(member)}/patroni`)).json()) as {
      postmaster_start_time?: string;
      timeline?: number;
    };
  const history = async (): Promise<unknown[]> =>
    (await (await fetch(`http://127.0.0.1:${apiPort(MEMBERS[0]!)}/history`)).json()) as unknown[];
  /** The operator daemon's log lines of one journal kind. */
  const logLines = (kind: string): string[] =>
    readFileSync(operator!.daemon.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"${kind}"`));
  const invoked = (): string[] =>
    logLines('action-invoked').map((l) => (JSON.parse(l) as { action?: string }).action ?? l);

  it('w, o, x and z each show their preview; n changes nothing; y switches over, fails over, restarts, pauses and resumes', async () => {
    const t = term!;
    const key = `${namespace}/${NAME}`;
    /** Every streaming replica and the leader as Patroni says, with the pods labelled to match, seen in the view. */
    const settle = async (primary: string): Promise<void> => {
      await eventually(`${primary} leads with every other member streaming`, async () => {
        const others = MEMBERS.filter((m) => m !== primary);
        return (await leader()) === primary && (await streaming()).join() === others.join();
      });
      await labelRoles(kube(), admin, namespace, NAME, MEMBERS.length, primary);
      await t.waitFor(
        `${primary} the primary in the view`,
        (s) => memberRow(s, key, primary) === 'primary ready',
        30_000,
      );
    };
    const select = async (member: string): Promise<void> => {
      t.keys('g');
      // g is read before the first j: otherwise g and j land together and the screen need not change
      await t.waitFor('the first member selected', (s) => memberSelected(s, key, MEMBERS[0]!), 10_000);
      for (let i = 0; i < MEMBERS.length && !memberSelected(t.screen(), key, member); i++) {
        const from = t.last;
        t.keys('j');
        await t.waitFor('the selection to move down', (s) => s !== from, 10_000);
      }
      await t.waitFor(`${member} selected`, (s) => memberSelected(s, key, member), 10_000);
    };
    const preview = async (press: string, what: string, text: string): Promise<string> => {
      t.keys(press);
      return t.waitFor(`the ${what} preview`, (s) => s.includes(CONFIRM) && s.includes(text), 30_000);
    };
    const answer = async (reply: 'n' | 'y'): Promise<void> => {
      t.keys(reply);
      await t.waitFor('the confirmation to close', (s) => !s.includes(CONFIRM), 15_000);
    };
    const refusals = (): number => logLines('action-failed').filter((l) => REFUSED.test(l)).length;
    /**
     * y on a switchover or failover preview, until `member` leads. Patroni itself may answer 503 a moment
     * after a promotion (its own candidate check has not caught up); the console then shows the refusal
     * and a user presses the key again. Only that refusal is retried, at most three times in all.
     * Returns how many times the action was confirmed.
     */
    const confirmUntilLeads = async (press: string, what: string, text: string, member: string): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        const before = refusals();
        await answer('y');
        const outcome = await eventually(`${member} leads or Patroni refuses the ${what}`, async () =>
          (await leader()) === member ? 'leads' : refusals() > before ? 'refused' : undefined,
        );
        if (outcome === 'leads' || attempt >= 3) return attempt;
        await new Promise((r) => setTimeout(r, 2000));
        await preview(press, what, text);
      }
    };
    try {
      await t.waitFor(
        'the console header (attached)',
        (s) => wellFormed(s) && /\(attached\)/.test(s.split('\n')[0]!),
        120_000,
      );
      t.keys(':', 'p', 'g', 'c', 'Enter');
      await t.waitFor('the PostgresClusters view', (s) => /^pgdeck\b.*\bPostgresClusters\b/.test(s), 30_000);
      await createCluster(admin, namespace, NAME, clusterSpec());
      const pods = await labelRoles(kube(), admin, namespace, NAME, MEMBERS.length, MEMBERS[0]);
      expect(pods).toEqual(MEMBERS);
      for (const pod of pods)
        await admin.objects('lab-patroni').apply(KUBE_RESOURCES.pods, {
          metadata: { name: pod, namespace, annotations: { [PATRONI_API_ANNOTATION]: `127.0.0.1:${apiPort(pod)}` } },
        });
      await t.waitFor(
        `${key} Running 3/3`,
        (s) => clusterRow(s, key)?.phase === 'Running' && clusterRow(s, key)?.ready === '3/3',
        60_000,
      );
      await settle('ha-0');
      const timelines = (await history()).length;
      t.keys('Tab');
      await t.waitFor('the Members table focused', (s) => MEMBERS.some((m) => memberSelected(s, key, m)), 10_000);

      // w on the replica ha-1: the preview names the candidate and its lag; n, then y
      await select('ha-1');
      const sw = await preview('w', 'switchover', `${key}: switch over from ha-0 to ha-1 (lag `);
      expect(sw).toContain('ha-1 is promoted');
      await answer('n');
      await preview('w', 'switchover', `${key}: switch over from ha-0 to ha-1`);
      const switchovers = await confirmUntilLeads('w', 'switchover', `${key}: switch over from ha-0 to ha-1`, 'ha-1');
      await settle('ha-1');

      // o on ha-0 (now a replica): n, then y
      await select('ha-0');
      const fo = await preview('o', 'failover', `${key}: fail over to ha-0`);
      expect(fo).toContain('writes not yet replicated to it are lost');
      await answer('n');
      await preview('o', 'failover', `${key}: fail over to ha-0`);
      const failovers = await confirmUntilLeads('o', 'failover', `${key}: fail over to ha-0`, 'ha-0');
      await settle('ha-0');
      expect((await history()).length).toBe(timelines + 2);

      // x on ha-2: n leaves its postmaster alone, y restarts it
      await select('ha-2');
      const started = (await patroniState('ha-2')).postmaster_start_time;
      expect(started).toBeDefined();
      await preview('x', 'restart', `${key}: restart PostgreSQL on ha-2`);
      await answer('n');
      expect((await patroniState('ha-2')).postmaster_start_time).toBe(started);
      await preview('x', 'restart', `${key}: restart PostgreSQL on ha-2`);
      await answer('y');
      const restarted = await eventually('ha-2 restarted', async () => {
        const now = await patroniState('ha-2');
        return now.postmaster_start_time !== undefined && now.postmaster_start_time !== started ? now : undefined;
      });
      expect(Date.parse(restarted.postmaster_start_time!.replace(' ', 'T'))).toBeGreaterThan(
        Date.parse(started!.replace(' ', 'T')),
      );

      // z: n leaves spec.paused alone, y pauses, z again resumes
      const paused = async (): Promise<unknown> =>
        ((await readCluster(admin, namespace, NAME))?.spec as { paused?: unknown }).paused;
      const managers = async (): Promise<string[]> =>
        (
          ((await readCluster(admin, namespace, NAME))?.metadata as { managedFields?: { manager?: string }[] })
            .managedFields ?? []
        ).map((f) => f.manager ?? '');
      await preview('z', 'pause', `${key}: pause reconciliation`);
      await answer('n');
      // spec.paused defaults to false; nobody but the test and the operator has written the object
      expect(await paused()).toBe(false);
      expect(await managers()).not.toContain('pgdeck-console');
      await preview('z', 'pause', `${key}: pause reconciliation`);
      await answer('y');
      await eventually('spec.paused true', async () => (await paused()) === true);
      expect(await managers()).toContain('pgdeck-console');
      await t.waitFor(`${key} shown paused`, (s) => clusterRow(s, key)?.phase.endsWith('(paused)') === true, 30_000);
      await preview('z', 'resume', `${key}: resume reconciliation`);
      await answer('n');
      expect(await paused()).toBe(true);
      await preview('z', 'resume', `${key}: resume reconciliation`);
      await answer('y');
      await eventually('spec.paused false', async () => (await paused()) === false);
      await t.waitFor(`${key} no longer shown paused`, (s) => clusterRow(s, key)?.phase === 'Running', 30_000);

      // every n invoked nothing: the daemon ran exactly the confirmed actions, and Patroni saw two promotions
      expect(invoked()).toEqual([
        ...Array<string>(switchovers).fill('switchover'),
        ...Array<string>(failovers).fill('failover'),
        'restart',
        'pause',
        'resume',
      ]);
      expect((await history()).length).toBe(timelines + 2);
      expect(await leader()).toBe('ha-0');

      t.keys('q');
      expect(await t.waitForExit(15_000)).toBe(0);
    } catch (error) {
      const e = error as Error;
      e.message = `${e.message}\nthe last screen was:\n${t.last}\nthe daemon's log:\n${operator === undefined ? '' : logTail(operator.daemon.logFile, 30)}`;
      throw error;
    }
  }, 480_000);
});
