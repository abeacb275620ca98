import { performance } from 'node:perf_hooks';
import { attachAgent } from '../../src/agents/wire/attach.js';

/**
 * Child side of the runtime bench: `node --import tsx bench/lib/remote-subscriber.ts URL TOKEN`
 * attaches and reports on stdout `Q <lastSeq>` (at most once per event-loop turn) and
 * `S <absolute ms> <summary>` for every new summary. Exits when stdin closes.
 */
const [url, token] = process.argv.slice(2);
if (url === undefined || token === undefined) throw new Error('usage: remote-subscriber.ts URL TOKEN');
const handle = attachAgent(url, { token, journalCapacity: 5000 });
let summary = '';
let reportedSeq = -1;
let scheduled = false;
const report = (): void => {
  scheduled = false;
  const seq = handle.reader.events(0, 0).lastSeq;
  if (seq === reportedSeq) return;
  reportedSeq = seq;
  process.stdout.write(`Q ${seq}\n`);
};
handle.reader.subscribe(() => {
  const snapshot = handle.reader.getSnapshot();
  if (snapshot.summary !== summary) {
    summary = snapshot.summary;
    process.stdout.write(`S ${performance.timeOrigin + performance.now()} ${summary}\n`);
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(report);
  }
});
process.stdin.resume();
process.stdin.once('end', () => {
  void handle.close().then(() => process.exit(0));
});
