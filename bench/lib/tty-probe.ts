import { Readable, Writable } from 'node:stream';

/**
 * A fake TTY of `columns` x `rows` that timestamps every write (the frames Ink writes), and a stdin
 * with no raw mode, for the console drivers of the tui bench.
 */
export function ttyProbe(columns = 160, rows = 48) {
  const writes: number[] = [];
  let text = '';
  const stdout = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        writes.push(performance.now());
        text = chunk.toString('utf8');
        done();
      },
    }),
    { columns, rows, isTTY: true },
  ) as unknown as NodeJS.WriteStream;
  const stdin = Object.assign(new Readable({ read() {} }), { isTTY: false }) as unknown as NodeJS.ReadStream;
  /** The first write at or after `t`. */
  const after = (t: number): number | undefined => writes.find((w) => w >= t);
  return { stdout, stdin, writes, after, lastWrite: () => text };
}

/** Ink writes a frame in a few chunks within the same tick: a frame is a burst of writes. */
export function countFrames(writes: readonly number[], from: number, to: number): number {
  const inside = writes.filter((t) => t >= from && t <= to);
  return inside.filter((t, i) => i === 0 || t - inside[i - 1]! > 2).length;
}

/** Latency from each of `starts` to the next write. */
export function toFrame(starts: readonly number[], after: (t: number) => number | undefined): number[] {
  return starts.map((t) => (after(t) ?? Number.NaN) - t).filter(Number.isFinite);
}

export function cpuPercent(cpu: NodeJS.CpuUsage, wallMs: number): number {
  return ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
}
