import { writeFileSync } from 'node:fs';
import { Writable, Readable } from 'node:stream';
import { render } from 'ink';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { App } from '../../src/ui/App.js';
import { UiStore } from '../../src/ui/state/ui-store.js';

/**
 * The console in this process (NODE_ENV=production) over a fake 160x48 TTY that timestamps every
 * write: 1,000 journal rows in the Events view, then `rate` events a second for `seconds`, then idle.
 * Writes the raw figures as JSON to the file named by the fourth argument.
 */
const [rate, seconds, idleSeconds] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const resultFile = process.argv[5]!;
const writes: number[] = [];
const stdout = Object.assign(
  new Writable({
    write(_chunk, _enc, done) {
      writes.push(performance.now());
      done();
    },
  }),
  { columns: 160, rows: 48, isTTY: true },
) as unknown as NodeJS.WriteStream;
const stdin = Object.assign(new Readable({ read() {} }), { isTTY: false }) as unknown as NodeJS.ReadStream;

const agent = new AgentStore('failover', { journalCapacity: 5000 });
for (let i = 0; i < 1000; i++) agent.record({ severity: 'info', kind: 'decided', message: `prefill event ${i}` });
const ui = new UiStore([{ reader: agent }], { eventCapacity: 1000 });
const flushes: number[] = [];
ui.subscribe(() => flushes.push(performance.now()));
render(<App store={ui} readonly={false} context={{}} initialView="events" />, {
  stdout,
  stdin,
  patchConsole: false,
  exitOnCtrlC: false,
  maxFps: 30,
});
await new Promise((r) => setTimeout(r, 300));
const firstFrameMs = writes[0] ?? Number.NaN;

const changes: number[] = [];
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
let rss = 0;
const batch = Math.max(1, Math.round(rate / 100));
const interval = (1000 / rate) * batch;
let next = performance.now();
while (performance.now() - wall0 < seconds * 1000) {
  for (let i = 0; i < batch; i++) {
    agent.record({ severity: 'info', kind: 'tick', message: `event ${changes.length}` });
    changes.push(performance.now());
  }
  next += interval;
  rss = Math.max(rss, process.memoryUsage().rss);
  await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
}
await new Promise((r) => setTimeout(r, 300));
const wall1 = performance.now();
const cpu1 = process.cpuUsage(cpu0);
const busyWrites = writes.filter((t) => t >= wall0 && t <= wall1);
// Ink writes a frame in a few chunks within the same tick: a frame is a burst of writes.
const busyFrames = busyWrites.filter((t, i) => i === 0 || t - busyWrites[i - 1]! > 2).length;

const after = (t: number): number | undefined => writes.find((w) => w >= t);
const changeToFrame = changes.map((t) => (after(t) ?? Number.NaN) - t).filter(Number.isFinite);
const flushToFrame = flushes
  .filter((t) => t >= wall0)
  .map((t) => (after(t) ?? Number.NaN) - t)
  .filter(Number.isFinite);

const idleCpu0 = process.cpuUsage();
const idle0 = performance.now();
await new Promise((r) => setTimeout(r, idleSeconds * 1000));
const idleCpu = process.cpuUsage(idleCpu0);
const idleWall = performance.now() - idle0;
writeFileSync(
  resultFile,
  JSON.stringify({
    firstFrameMs,
    changes: changes.length,
    frames: busyFrames,
    wallMs: wall1 - wall0,
    cpuPercent: ((cpu1.user + cpu1.system) / 1000 / (wall1 - wall0)) * 100,
    idleCpuPercent: ((idleCpu.user + idleCpu.system) / 1000 / idleWall) * 100,
    rssMb: rss / 2 ** 20,
    changeToFrame,
    flushToFrame,
  }),
);
process.exit(0);
