import type { FailoverDeps } from './deps.js';
import { serverOnStop } from './failover-policy.js';

/** A fast shutdown that takes longer than this becomes an immediate one. */
const fastStopTimeoutMs = 10_000;

/** Whether the cluster is paused, read from etcd once (null when etcd does not answer or holds no config). */
async function clusterPaused(deps: FailoverDeps): Promise<boolean | null> {
  const entries = await deps.session.readAll();
  const raw = entries?.get('config')?.value;
  if (raw === undefined) return null;
  try {
    const paused = (JSON.parse(raw) as { paused?: unknown }).paused;
    return typeof paused === 'boolean' ? paused : null;
  } catch {
    return null;
  }
}

/**
 * On SIGTERM, before the member lease is revoked: stop the local server (fast shutdown: sessions
 * ended, a shutdown checkpoint streamed to the replicas) unless `onStop` is `leave` or the cluster
 * is paused. Its report then disappears with a server that refuses connections, so the leader of a
 * stopping primary fails over at once.
 */
export async function stopServerOnClose(deps: FailoverDeps): Promise<void> {
  if (!deps.pg.local().running) return;
  const paused = await clusterPaused(deps);
  const fields = { onStop: deps.config.onStop, paused };
  if (serverOnStop(deps.config.onStop, paused) === 'leave') {
    deps.log.info('daemon stopping: leaving postgres running', fields);
    return;
  }
  const began = Date.now();
  deps.log.info('daemon stopping: stopping postgres (fast shutdown)', fields);
  await deps.pg.stop('fast', fastStopTimeoutMs);
  deps.log.info(`postgres stopped in ${Date.now() - began} ms`, fields);
}
