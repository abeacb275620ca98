import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { render } from 'ink';
import { attachAgent } from '../../src/agents/wire/attach.js';
import { App } from '../../src/ui/App.js';
import { speedUpInkOutput } from '../../src/ui/ink-output.js';
import { CONSOLE_EVENT_CAPACITY, UiStore } from '../../src/ui/state/ui-store.js';
import { countFrames, cpuPercent, toFrame, ttyProbe } from './tty-probe.js';

/**
 * The console attached over the wire to six daemons of two clusters (served by `tui-daemons` in a
 * child process), over a fake 160x48 TTY, in the Events view: `rate` journal events a second for
 * `seconds`, then idle for `idleSeconds`, then one daemon restarted and the time until it is live on
 * screen again. Arguments: rate seconds idleSeconds resultFile daemonsScript [node flags of the daemons].
 */
const [rate, seconds, idleSeconds] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const resultFile = process.argv[5]!;
const daemonsScript = process.argv[6]!;
const token = 'tui-bench-token';
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const daemons = spawn(process.execPath, [daemonsScript, token], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: daemons.stdout });
const [first] = (await once(lines, 'line')) as [string];
const { urls } = JSON.parse(first) as { urls: string[] };
const send = (line: string): void => void daemons.stdin.write(`${line}\n`);

const { stdout, stdin, writes, after } = ttyProbe(160, 48);
const started = performance.now();
// As the CLI attaches: each mirror keeps no more events than the console shows.
const handles = urls.map((url) => attachAgent(url, { token, journalCapacity: CONSOLE_EVENT_CAPACITY }));
const ui = new UiStore(handles, { eventCapacity: CONSOLE_EVENT_CAPACITY });
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
const allLive = (): boolean => ui.getSnapshot().sources.every((s) => s.live);
while (!allLive()) await wait(20);
const liveMs = performance.now() - started;
await wait(500);

send(`load ${rate}`);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
let rss = 0;
while (performance.now() - wall0 < seconds * 1000) {
  rss = Math.max(rss, process.memoryUsage().rss);
  await wait(100);
}
send('idle');
await wait(300);
const wall1 = performance.now();
const cpu1 = process.cpuUsage(cpu0);
const events = ui.getSnapshot().events.length;

// Idle: no events; heartbeats and the once-a-minute clock are all that may cost.
await wait(1000);
const idleCpu0 = process.cpuUsage();
const idle0 = performance.now();
await wait(idleSeconds * 1000);
const idleCpu = process.cpuUsage(idleCpu0);
const idleWall = performance.now() - idle0;

// A restarted daemon, down for 5 s (the console's backoff grows to its cap meanwhile): from
// listening again to the first frame after it is live with the new process's state.
const victim = 3;
const downMs = 5000;
const before = ui.getSnapshot().sources[victim]!.snapshot.updatedAt;
const up = new Promise<number>((resolve) =>
  lines.on('line', (line) => {
    if (line === `up ${victim}`) resolve(performance.now());
  }),
);
const back = (): boolean => {
  const s = ui.getSnapshot().sources[victim]!;
  return s.live && s.snapshot.updatedAt > before;
};
// The flush that first shows it live (this listener runs before React's, so before its frame).
const backAt = new Promise<number>((resolve) => {
  const stop = ui.subscribe(() => {
    if (!back()) return;
    stop();
    resolve(performance.now());
  });
});
send(`restart ${victim} ${downMs}`);
const upAt = await up;
const liveAt = await backAt;
while (after(liveAt) === undefined) await wait(5);
const backOnScreenMs = after(liveAt)! - upAt;

writeFileSync(
  resultFile,
  JSON.stringify({
    sources: urls.length,
    firstLiveMs: liveMs,
    firstFrameMs: writes[0] === undefined ? Number.NaN : writes[0] - started,
    eventsShown: events,
    frames: countFrames(writes, wall0, wall1),
    wallMs: wall1 - wall0,
    cpuPercent: cpuPercent(cpu1, wall1 - wall0),
    idleCpuPercent: cpuPercent(idleCpu, idleWall),
    rssMb: rss / 2 ** 20,
    flushToFrame: toFrame(
      flushes.filter((t) => t >= wall0 && t <= wall1),
      after,
    ),
    backOnScreenMs,
    downMs,
  }),
);
daemons.stdin.end();
await once(daemons, 'exit');
process.exit(0);
