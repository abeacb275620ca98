import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKubeControlPlane } from '../src/lab/procs/kube-control-plane.js';
import { measureConsole, type ConsoleSizes, type ConsoleUnderTest } from './lib/console-kube-measure.js';
import { NAMESPACE, TOKEN, startWorld } from './lib/console-kube-world.js';
import { K9S_MODULE, k9sBinary } from './lib/k9s-binary.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

const PODS = 1000;
/** A pod row of either console: a worker pod's name as its own word. */
const POD_ROW = /\bw\d{4}\b/;

/**
 * Claim (issue 16): the console beside k9s in one run, both watching the same 1,000 worker pods on
 * kwok nodes (the real control plane): launch to pod rows on screen, RSS, idle CPU, CPU under
 * creates+deletes, pod created -> on screen. Both in tmux at 160x48, read back with capture-pane.
 * pgdeck: `pgdeck attach` to a headless citus-sync daemon (a follower: it watches and publishes, never
 * acts) showing the Citus view; k9s v0.50.16 `--readonly` on the pods. `--pods=N` changes the size.
 */
export async function run(options: BenchOptions): Promise<BenchResult> {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const given = options.args.find((a) => a.startsWith('--pods='));
  const pods = given === undefined ? PODS : Number(given.slice('--pods='.length));
  const sizes: ConsoleSizes = options.quick
    ? { settleS: 5, idleS: 10, probes: 10, churnS: 10, churnPerS: 20 }
    : { settleS: 10, idleS: 30, probes: 30, churnS: 30, churnPerS: 20 };
  const result = newResult('console-kube');
  const plane = await startKubeControlPlane({ nodes: Math.ceil(pods / 100) + 2 });
  const k9s = k9sBinary();
  const temp = mkdtempSync(join(tmpdir(), 'pgdeck-k9s-'));
  try {
    const world = await startWorld(plane, pods, root);
    try {
      const pgdeck: ConsoleUnderTest = {
        name: 'pgdeck',
        command: `exec env -u CI PGDECK_TOKEN=${TOKEN} node --max-semi-space-size=2 dist/main.js attach ${world.daemonUrl}`,
        cwd: root,
        open: [':', 'c', 'i', 't', 'u', 's', 'Enter'],
        rowsShown: (s) => /Citus workers/.test(s) && POD_ROW.test(s),
      };
      Object.assign(result.metrics, await measureConsole(pgdeck, world, sizes, { daemon: world.daemonPid }));
      if ('path' in k9s) {
        const config = join(temp, 'k9s');
        mkdirSync(config, { recursive: true });
        writeFileSync(
          join(config, 'config.yaml'),
          'k9s:\n  readOnly: true\n  skipLatestRevCheck: true\n  ui:\n    logoless: true\n    enableMouse: false\n',
        );
        const env = `XDG_CONFIG_HOME=${temp} XDG_STATE_HOME=${temp} XDG_DATA_HOME=${temp} XDG_CACHE_HOME=${temp} K9S_CONFIG_DIR=${config} KUBECONFIG=${plane.kubeconfigPath}`;
        const subject: ConsoleUnderTest = {
          name: 'k9s',
          command: `exec env ${env} ${k9s.path} --readonly -n ${NAMESPACE} -c pods`,
          cwd: temp,
          open: [],
          rowsShown: (s) => POD_ROW.test(s),
        };
        result.peers['k9s v0.50.16'] = await measureConsole(subject, world, sizes);
      } else result.notes.push(k9s.missing);
    } finally {
      await world.close();
    }
  } finally {
    await plane.stop();
    rmSync(temp, { recursive: true, force: true });
  }
  result.notes.push(
    `${pods} worker pods on kwok nodes, one real API server; both consoles in tmux at 160x48, the screen read with capture-pane every 20 ms`,
    'pgdeck: `pgdeck attach` (the built CLI) to a headless `pgdeck --agent citus-sync` daemon, opened on the Citus view with `:citus`; the daemon is a follower (a Lease held by another holder), so it watches pods and pg_dist_node (a stand-in coordinator) and never acts; its own RSS and CPU are the daemon_* figures',
    `k9s: ${K9S_MODULE} --readonly -n ${NAMESPACE} -c pods, skipLatestRevCheck, its config and state in a temp XDG dir`,
    `launch_to_rows: spawn to the first screen with a pod row (pgdeck: after its first screen, \`:citus\` typed); idle: ${sizes.idleS} s after ${sizes.settleS} s of settling; churn: ${sizes.churnPerS} creates+deletes/s for ${sizes.churnS} s`,
    `created_to_screen: the view filtered with \`/probe\`, ${sizes.probes} pods created one at a time, the create sent -> the pod's name on screen`,
    'targets for pgdeck: launch <= 1 s, RSS <= 150 MB, idle CPU <= 1 %, created -> on screen p95 <= 200 ms',
  );
  return result;
}
