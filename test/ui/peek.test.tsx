import { it } from 'vitest';
import { daemonView } from '../fixtures/ui/failover-state.js';
import { daemonStore, showConsole } from './console-harness.js';
it('peek', async () => {
  const sources = ['a', 'b'].flatMap((c) =>
    ['pg0', 'pg1', 'pg2'].map((m) => ({
      reader: daemonStore(daemonView(c, m), {
        live: !(c === 'b' && m === 'pg0'),
        lastError: c === 'b' && m === 'pg0' ? 'connect ECONNREFUSED 127.0.0.1:8000' : undefined,
      }),
    })),
  );
  for (const size of [
    { columns: 80, rows: 24 },
    { columns: 160, rows: 48 },
  ]) {
    const c = await showConsole(sources, { size, color: false });
    for (const k of ['1', '2', '3', '4']) {
      await c.press(k);
      console.log(c.frame() + '\n' + '='.repeat(size.columns));
    }
    c.unmount();
  }
});
