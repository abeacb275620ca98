import { get, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Child side of the wire bench: `node --import tsx bench/lib/wire-subscribers.ts URL TOKEN N` says
 * `ready`, and on a line on stdin opens N `GET /events` streams at once (each its own connection)
 * and reads them all. Reports on stdout, one JSON line when every stream has answered and then every
 * 500 ms: accepted, refused (503), failed, ms to the first snapshot of each accepted stream, bytes
 * and snapshots received (counted per chunk, so about). Exits when stdin closes.
 */
const [url, token, count] = process.argv.slice(2);
if (url === undefined || token === undefined || count === undefined)
  throw new Error('usage: wire-subscribers.ts URL TOKEN N');
const n = Number(count);
const requests: ClientRequest[] = [];
const firstSnapshotMs: number[] = [];
let accepted = 0;
let refused = 0;
let failed = 0;
let bytes = 0;
let snapshots = 0;
let answered = 0;

const report = (): void => {
  process.stdout.write(
    `${JSON.stringify({ answered, accepted, refused, failed, bytes, snapshots, firstSnapshotMs })}\n`,
  );
};

let started = 0;
const connectAll = (): void => {
  started = performance.now();
  for (let i = 0; i < n; i++) {
    const req = get(`${url}/events`, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      answered += 1;
      if (res.statusCode !== 200) {
        if (res.statusCode === 503) refused += 1;
        else failed += 1;
        res.resume();
      } else {
        accepted += 1;
        let seen = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          bytes += Buffer.byteLength(chunk);
          const found = chunk.split('event: snapshot\n').length - 1;
          snapshots += found;
          if (!seen && found > 0) {
            seen = true;
            firstSnapshotMs.push(performance.now() - started);
          }
        });
      }
      if (answered === n) report();
    });
    req.on('error', () => {
      failed += 1;
      answered += 1;
      if (answered === n) report();
    });
    requests.push(req);
  }
  setInterval(report, 500).unref();
};
process.stdout.write('ready\n');
process.stdin.once('data', connectAll);
process.stdin.once('end', () => {
  for (const req of requests) req.destroy();
  report();
  process.exit(0);
});
