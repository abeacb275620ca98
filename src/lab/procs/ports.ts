import { createServer } from 'node:net';
import { PgdeckError } from '../../agents/kernel/errors.js';

/** A port the OS says is free on loopback right now (bind to 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** The server exited because its port was taken between `freePort()` and its bind (a parallel test, an outgoing socket). */
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
