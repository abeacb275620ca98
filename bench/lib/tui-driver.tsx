import { writeFileSync } from 'node:fs';
import { render } from 'ink';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { App } from '../../src/ui/App.js';
import { speedUpInkOutput } from '../../src/ui/ink-output.js';
import { UiStore } from '../../src/ui/state/ui-store.js';
import { countFrames, cpuPercent, toFrame, ttyProbe } from './tty-probe.js';

/**
 * The console in this process (NODE_ENV=production) over a fake 160x48 TTY that timestamps every
 * write: 1,000 journal rows in the Events view, then `rate` events a second for `seconds`, then idle.
 * Writes the raw figures as JSON to the file named by the fourth argument.
 */
const [rate, seconds, idleSeconds] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const resultFile = process.argv[5]!;
const { stdout, stdin, writes, after } = ttyProbe(160, 48);

const agent = new AgentStore('failover', { journalCapacity: 5000 });
for (let i = 0; i < 1000; i++) agent.record({ severity: 'info', kind: 'decided', message: `prefill event ${i}` });
const ui = new UiStore([{ reader: agent }], { eventCapacity: 1000 });
const flushes: number[] = [];
ui.subscribe(() => flushes.push(performance.now()));
// As the console starts (startUi): Ink's Output with the faster get().
await speedUpInkOutput();
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
const busyFrames = countFrames(writes, wall0, wall1);
const changeToFrame = toFrame(changes, after);
const flushToFrame = toFrame(
  flushes.filter((t) => t >= wall0),
  after,
);

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
    cpuPercent: cpuPercent(cpu1, wall1 - wall0),
    idleCpuPercent: cpuPercent(idleCpu, idleWall),
    rssMb: rss / 2 ** 20,
    changeToFrame,
    flushToFrame,
  }),
);
process.exit(0);
