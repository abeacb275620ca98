import { createInterface } from 'node:readline';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { serveAgent, type AgentServer } from '../../src/agents/wire/serve.js';
import { daemonView } from '../../test/fixtures/ui/failover-state.js';

/**
 * Six failover-shaped daemons of two clusters (a and b, members pg0..pg2), each served over the
 * real wire on loopback, for the attached console case of the tui bench. Commands on stdin, one a
 * line: `load RATE` (journal events a second, spread over the six), `idle`, `restart N MS` (daemon
 * N's server closes, and MS later a new one, its journal started over, listens on the same port).
 * Answers on stdout: the URLs once, then `up N` when a restarted daemon listens again.
 */
const token = process.argv[2] ?? 'bench-token';
const names = ['a', 'b'].flatMap((cluster) => ['pg0', 'pg1', 'pg2'].map((self) => ({ cluster, self })));

function daemon(i: number): AgentStore {
  const { cluster, self } = names[i]!;
  const store = new AgentStore('failover', {
    identity: { kind: 'failover', entity: cluster, instance: `${cluster}/${self}`, label: self },
  });
  const now = Date.now();
  const state = daemonView(cluster, self, {
    members: daemonView(cluster, self).members.map((m) => ({ ...m, lastSeenAt: now })),
  });
  store.update({
    state,
    summary: `${self} is in step`,
    actions: ['switchover', 'failover', 'pause', 'resume', 'reinit'].map((name) => ({
      name,
      description: name,
      dangerous: true,
      args: '',
    })),
    health: { status: 'ok', live: true, ready: true, passes: 1, consecutiveErrors: 0, dependencies: {} },
  });
  return store;
}

const control = {
  preview: () => Promise.reject(new Error('not in the bench')),
  invoke: () => Promise.reject(new Error('not in the bench')),
};

async function serve(store: AgentStore, port = 0): Promise<AgentServer> {
  return serveAgent({ name: store.name, reader: store, control }, { port, token });
}

const stores = names.map((_, i) => daemon(i));
const servers = await Promise.all(stores.map((s) => serve(s)));
process.stdout.write(`${JSON.stringify({ urls: servers.map((s) => s.url) })}\n`);

let timer: ReturnType<typeof setInterval> | undefined;
let sent = 0;
const load = (rate: number): void => {
  if (timer !== undefined) clearInterval(timer);
  const perTick = Math.max(1, Math.round(rate / 100));
  timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      const n = sent++;
      stores[n % stores.length]!.record({ severity: 'info', kind: 'tick', message: `event ${n}` });
    }
  }, 10);
};

for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg, down] = line.trim().split(/\s+/);
  if (command === 'load') load(Number(arg));
  if (command === 'idle' && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
  if (command === 'restart') {
    const i = Number(arg);
    const port = servers[i]!.port;
    await servers[i]!.close();
    await new Promise((r) => setTimeout(r, Number(down ?? 0)));
    stores[i] = daemon(i);
    servers[i] = await serve(stores[i], port);
    process.stdout.write(`up ${i}\n`);
  }
}
if (timer !== undefined) clearInterval(timer);
await Promise.all(servers.map((s) => s.close()));
