import { get } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Child side of the wire bench's `/health` sampler: `node --import tsx bench/lib/health-prober.ts URL
 * INTERVAL_MS` sends `GET /health` on a new connection every INTERVAL_MS (the next once the last
 * answered) until stdin closes, then prints every sample as one JSON line. Each sample is split into
 * phases: `connectMs` (TCP handshake, done by the kernel: a full accept queue or a dropped SYN shows
 * here), `responseMs` (connect to the whole answer: accept, parse and answer by the daemon), and
 * `selfLagMs`, the longest this process's own 5 ms tick was late while the sample ran (this process
 * waiting for a CPU, or its loop busy: what the sample's time owes to the prober, not the daemon).
 */
const [url, interval] = process.argv.slice(2);
if (url === undefined || interval === undefined) throw new Error('usage: health-prober.ts URL INTERVAL_MS');
const intervalMs = Number(interval);
const TICK_MS = 5;

interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly connectMs: number;
  readonly responseMs: number;
  readonly selfLagMs: number;
  readonly ok: boolean;
}

let lastTick = performance.now();
let worstLate = 0;
setInterval(() => {
  const now = performance.now();
  worstLate = Math.max(worstLate, now - lastTick - TICK_MS);
  lastTick = now;
}, TICK_MS);

function probe(): Promise<Sample> {
  const at = Date.now();
  const started = performance.now();
  worstLate = 0;
  let connected = Number.NaN;
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      const end = performance.now();
      // The tick that would have fired last may still be late: count the time since it too.
      const selfLagMs = Math.max(worstLate, end - lastTick - TICK_MS, 0);
      resolve({ at, ms: end - started, connectMs: connected - started, responseMs: end - connected, selfLagMs, ok });
    };
    const req = get(`${url}/health`, { agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode === 200));
    });
    req.once('socket', (socket) => socket.once('connect', () => (connected = performance.now())));
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(false));
  });
}

const samples: Sample[] = [];
let running = true;
process.stdin.resume();
process.stdin.once('end', () => (running = false));
process.stdout.write('ready\n');
while (running) {
  const sample = await probe();
  samples.push(sample);
  const wait = intervalMs - sample.ms;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
process.stdout.write(`${JSON.stringify(samples)}\n`);
process.exit(0);
