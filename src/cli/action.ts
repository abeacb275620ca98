import { PgdeckError } from '../agents/kernel/errors.js';
import { attachAgent } from '../agents/wire/attach.js';
import { UsageError } from './exit.js';

/** `--arg candidate=pg1 --arg lag=1024` -> {candidate: 'pg1', lag: 1024}; numbers and booleans typed. */
export function parseArgPairs(pairs: readonly string[]): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--arg ${pair}: expected key=value`);
    const raw = pair.slice(eq + 1);
    args[pair.slice(0, eq)] = /^-?\d+(\.\d+)?$/.test(raw)
      ? Number(raw)
      : raw === 'true'
        ? true
        : raw === 'false'
          ? false
          : raw;
  }
  return args;
}

/** One action on a running agent, for scripts: prints the preview or the result as JSON. */
export async function runAction(
  url: string,
  name: string,
  args: Record<string, unknown>,
  opts: { token: string | undefined; preview: boolean; readonly: boolean; who: string },
): Promise<{ output: unknown; ok: boolean }> {
  const handle = attachAgent(url, opts.token === undefined ? {} : { token: opts.token });
  try {
    const actor = { who: opts.who, via: 'cli' } as const;
    if (opts.preview) {
      const preview = await handle.control.preview(name, args, actor);
      return { output: preview, ok: preview.allowed };
    }
    if (opts.readonly)
      throw new PgdeckError(
        'invalid-argument',
        `--readonly: refusing to invoke ${name}; use --preview to see what it would do`,
      );
    const result = await handle.control.invoke(name, args, actor);
    return { output: result, ok: result.ok };
  } finally {
    await handle.close();
  }
}
