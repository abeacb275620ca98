import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One look at a server: whether it was writable (`null`: no answer). */
export interface Sample {
  readonly t: number;
  readonly writable: boolean | null;
}

export interface WritableSampler {
  readonly samples: Sample[];
  stop(): Promise<void>;
}

/** Every 50 ms: `SELECT NOT pg_is_in_recovery()` on one server over one connection, reconnecting on failure. */
const script = `
import json, sys, time, psycopg2
host, port, conn = sys.argv[1], sys.argv[2], None
while True:
    t = time.time() * 1000
    w = None
    try:
        if conn is None:
            conn = psycopg2.connect(host=host, port=port, dbname="postgres", user="postgres", connect_timeout=1, options="-c statement_timeout=1000")
            conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT NOT pg_is_in_recovery()")
            w = cur.fetchone()[0]
    except Exception:
        try:
            conn.close()
        except Exception:
            pass
        conn = None
    print(json.dumps({"t": t, "writable": w}), flush=True)
    time.sleep(max(0.0, 0.05 - (time.time() * 1000 - t) / 1000))
`;

/** Samples `host:port` from inside `wrap` (a namespace), so a cut-off server is still seen. */
export function startWritableSampler(host: string, port: number, wrap: readonly string[] = []): WritableSampler {
  const argv = [...wrap, '/usr/bin/python3', '-c', script, host, String(port)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  const samples: Sample[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => samples.push(JSON.parse(line) as Sample));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    samples,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
