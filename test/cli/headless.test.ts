import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AnyAgentDefinition } from '../../src/agents/kernel/agent.js';
import { runHeadless } from '../../src/cli/headless.js';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../../src/lab/procs/ports.js';
import { counterAgent } from '../fixtures/counter-agent.js';

const TOKEN = 'headless-test-token-0123';

describe('pgdeck --agent NAME (headless mode)', () => {
  it('runs the agent, serves its API on the configured loopback port, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const definitions: Record<string, AnyAgentDefinition> = { counter: counterAgent };
    const config = loadConfig({
      flags: { listen: `127.0.0.1:${port}`, 'log-level': 'silent' },
      env: { PGDECK_TOKEN: TOKEN },
      definitions,
      agent: 'counter',
    });
    const signals = new EventEmitter();
    const running = runHeadless(counterAgent, config, { signals });
    const base = `http://127.0.0.1:${port}`;
    let health: Response | undefined;
    for (let i = 0; i < 100 && health === undefined; i++) {
      health = await fetch(`${base}/health`).catch(() => undefined);
      if (health === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(health?.status).toBe(200);
    expect((await fetch(`${base}/state`)).status).toBe(401);
    const state = (await (await fetch(`${base}/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      agent: string;
    };
    expect(state.agent).toBe('counter');
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('pgdeck_agent_passes_total');
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('listens before the first pass: the first observe finds its own API up, /health 200 and /ready 503', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const firstPass: { health?: number; ready?: number; error?: string } = {};
    let observed = false;
    const probing: typeof counterAgent = {
      ...counterAgent,
      observe: async (deps, ctx) => {
        if (!observed) {
          observed = true;
          try {
            firstPass.health = (await fetch(`${base}/health`)).status;
            firstPass.ready = (await fetch(`${base}/ready`)).status;
          } catch (error) {
            firstPass.error = String(error);
          }
        }
        return counterAgent.observe(deps, ctx);
      },
    };
    const definitions: Record<string, AnyAgentDefinition> = { counter: probing };
    const config = loadConfig({
      flags: { listen: `127.0.0.1:${port}`, 'log-level': 'silent' },
      env: { PGDECK_TOKEN: TOKEN },
      definitions,
      agent: 'counter',
    });
    const signals = new EventEmitter();
    const running = runHeadless(probing, config, { signals });
    for (let i = 0; i < 100 && !observed; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 100 && (await fetch(`${base}/ready`).catch(() => undefined))?.status !== 200; i++)
      await new Promise((r) => setTimeout(r, 50));
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(firstPass).toEqual({ health: 200, ready: 503 });
  });
});
