import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { PgdeckError } from '../../agents/kernel/errors.js';

const EPHEMERAL_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
/**
 * Above 10080, the highest of the Fetch standard's "bad ports": Node's fetch refuses it ("bad port"),
 * so a server there could never be checked (an etcd on 10080 was never ready in CI).
 */
const FLOOR = 10_081;
const LINUX_DEFAULT_LOW = 32_768;
const handedOut = new Set<number>();
let ephemeralFloor: number | undefined;

/** The lowest port of the kernel's range for outgoing sockets and bind(0); Linux's default where it cannot be read. */
export function ephemeralLow(file = EPHEMERAL_FILE): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return LINUX_DEFAULT_LOW;
  }
  const low = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(low) && low > 0 ? low : LINUX_DEFAULT_LOW;
}

function bindable(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(bound > 0 ? bound : null));
    });
  });
}

/**
 * A port free on loopback right now, for a server started next. It is drawn at random from below the
 * kernel's ephemeral range, where no outgoing connection of this machine can take it between the pick
 * and the server's bind (a port from bind(0) could be, and a busy test run makes thousands of
 * connections), and never twice by one process. bind(0) is the fallback when that range is too small.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  ephemeralFloor ??= ephemeralLow();
  const span = ephemeralFloor - FLOOR;
  for (let tries = 0; span >= 1000 && tries < 50; tries++) {
    const port = FLOOR + randomInt(span);
    if (handedOut.has(port)) continue;
    if ((await bindable(port, host)) === null) continue;
    handedOut.add(port);
    return port;
  }
  const port = await bindable(0, host);
  if (port === null) throw new PgdeckError('unavailable', `no free port on ${host}`);
  return port;
}

/** The server exited because its port was taken between `freePort()` and its bind (by a parallel test's server). */
export function portTaken(error: unknown): boolean {
  return error instanceof PgdeckError && /address already in use/i.test(error.message);
}

/** Runs `start` again, on the new ports it picks, while it fails only because a port was taken (three tries in all). */
export async function retryOnPortTaken<T>(start: (attempt: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(attempt);
    } catch (error) {
      if (!portTaken(error) || attempt >= attempts) throw error;
    }
  }
}
