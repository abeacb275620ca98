import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../src/agents/registry.js';
import { knownAgentOptions } from '../../src/config-agents.js';
import { schemaObjects } from '../../src/config-keys.js';
import { GLOBAL_OPTIONS } from '../../src/config-sources.js';
import { globalSchema, loadConfig } from '../../src/config.js';
import { counter, definitions, yamlFile } from './config-fixtures.js';

describe('config precedence: flags > environment > file > defaults', () => {
  const file = yamlFile('listen: 127.0.0.1:9001\nagents:\n  counter:\n    step: 5\n    target: 50\n');

  it('uses defaults when nothing is set, and runs no agent', () => {
    const config = loadConfig({ flags: {}, env: {}, definitions });
    expect(config.global).toEqual({
      listen: '127.0.0.1:8008',
      logLevel: 'info',
      readonly: false,
      color: true,
      kube: { namespace: 'default' },
      attach: [],
    });
    expect(config.agents).toEqual({});
  });

  it('file over defaults, env over file, flags over env, each agent in its own section', () => {
    const fromFile = loadConfig({ flags: {}, env: {}, configFile: file, definitions });
    expect(fromFile.global.listen).toBe('127.0.0.1:9001');
    expect(fromFile.agents.counter).toMatchObject({ step: 5, target: 50 });

    const fromEnv = loadConfig({
      flags: {},
      env: { PGDECK_LISTEN: '127.0.0.1:9002', COUNTER_STEP: '6' },
      configFile: file,
      definitions,
    });
    expect(fromEnv.global.listen).toBe('127.0.0.1:9002');
    expect(fromEnv.agents.counter).toMatchObject({ step: 6, target: 50 });
    expect(fromEnv.sources.get('agents.counter.step')).toBe('env COUNTER_STEP');

    const fromFlags = loadConfig({
      flags: { listen: '127.0.0.1:9003', step: 7, target: '70' },
      env: { PGDECK_LISTEN: '127.0.0.1:9002', COUNTER_STEP: '6' },
      configFile: file,
      definitions,
      agent: 'counter',
    });
    expect(fromFlags.global.listen).toBe('127.0.0.1:9003');
    expect(fromFlags.agents.counter).toMatchObject({ step: 7, target: 70 });
    expect(fromFlags.sources.get('agents.counter.step')).toBe('flag --step');
  });

  it('an agent run with --agent and no section gets its defaults; other sections are not run', () => {
    const config = loadConfig({ flags: {}, env: {}, configFile: file, definitions, agent: 'other' });
    expect(Object.keys(config.agents)).toEqual(['other']);
    expect(config.agents.other).toMatchObject({ step: 1, target: 0 });
    expect(config.sources.has('agents.other')).toBe(false);
  });

  it('reads the PGDECK_* names into the global section', () => {
    const { global } = loadConfig({
      flags: {},
      env: {
        PGDECK_LISTEN: '127.0.0.1:7000',
        PGDECK_LOG_LEVEL: 'warn',
        PGDECK_READONLY: 'yes',
        PGDECK_CONTEXT: 'prod',
        PGDECK_NAMESPACE: 'pg-a',
        POD_NAMESPACE: 'pg-b',
      },
      definitions,
    });
    expect(global).toMatchObject({
      listen: '127.0.0.1:7000',
      logLevel: 'warn',
      readonly: true,
      kube: { context: 'prod', namespace: 'pg-a' },
    });
  });

  it('POD_NAMESPACE is the global kube namespace (a setting every face uses)', () => {
    const config = loadConfig({ flags: {}, env: { POD_NAMESPACE: 'pg-prod' }, definitions });
    expect(config.global.kube.namespace).toBe('pg-prod');
    expect(config.sources.get('kube.namespace')).toBe('env POD_NAMESPACE');
    expect(
      loadConfig({ flags: { namespace: 'flagged' }, env: { POD_NAMESPACE: 'pg-prod' }, definitions }).global.kube,
    ).toEqual({ namespace: 'flagged' });
  });

  it('NO_COLOR turns colors off; --color given on the command line wins', () => {
    expect(loadConfig({ flags: {}, env: { NO_COLOR: '1' }, definitions }).global.color).toBe(false);
    expect(loadConfig({ flags: {}, env: { NO_COLOR: '' }, definitions }).global.color).toBe(true);
    expect(loadConfig({ flags: { color: false }, env: {}, definitions }).global.color).toBe(false);
    expect(loadConfig({ flags: { color: true }, env: { NO_COLOR: '1' }, definitions }).global.color).toBe(true);
    expect(loadConfig({ flags: {}, env: {}, configFile: yamlFile('color: false\n'), definitions }).global.color).toBe(
      false,
    );
  });

  it('an agent env name lands in that agent section, and only for an agent that runs', () => {
    expect(loadConfig({ flags: {}, env: { COUNTER_STEP: '4' }, definitions, agent: 'counter' }).agents).toEqual({
      counter: expect.objectContaining({ step: 4 }) as unknown,
    });
    const ui = loadConfig({ flags: {}, env: { COUNTER_STEP: '4' }, definitions });
    expect(ui.agents).toEqual({});
    expect([...ui.sources.keys()]).toEqual([]);
  });

  it('reads the token from a file', () => {
    const tokenFile = yamlFile('0123456789abcdef-token\n');
    expect(loadConfig({ flags: { 'token-file': tokenFile }, env: {}, definitions }).token).toBe(
      '0123456789abcdef-token',
    );
  });
});

describe('who owns which setting', () => {
  const replaced = [
    'CITUS_HOST',
    'POSTGRES_PASSWORD',
    'POSTGRES_USER',
    'POSTGRES_DB',
    'LABEL_SELECTOR',
    'SCAN_INTERVAL_SECONDS',
    'REDIS_HOST',
    'REDIS_PORT',
    'REDIS_STREAM',
    'REDIS_CONSUMER_GROUP',
    'OTTO_AGENT_IMAGE',
  ];

  it("maps the replaced tools' names into exactly one agent's section, none into the global one", () => {
    const owners = new Map<string, string[]>();
    for (const [name, options] of knownAgentOptions(AGENTS))
      for (const o of options) for (const env of o.env ?? []) owners.set(env, [...(owners.get(env) ?? []), name]);
    for (const env of replaced) expect(owners.get(env), env).toHaveLength(1);
    expect(owners.get('CITUS_HOST')).toEqual(['citus-sync']);
    expect(owners.get('REDIS_PORT')).toEqual(['autoscaler']);
    const patroni = [...owners.keys()].filter((e) => e.startsWith('PATRONI_'));
    expect(patroni).toEqual(expect.arrayContaining(['PATRONI_NAME', 'PATRONI_SCOPE', 'PATRONI_ETCD3_HOSTS']));
    for (const env of patroni) expect(owners.get(env)).toEqual(['failover']);
    const globalEnv = GLOBAL_OPTIONS.flatMap((o) => o.env ?? []);
    for (const env of [...replaced, ...patroni]) expect(globalEnv).not.toContain(env);
    expect(globalEnv).toContain('POD_NAMESPACE');
  });

  it('the environment of the replaced tools leaves the global section as it was', () => {
    const env = Object.fromEntries(replaced.map((e) => [e, e === 'REDIS_PORT' ? '6380' : 'x']));
    const { global, agents } = loadConfig({ flags: {}, env, definitions: AGENTS });
    expect(global).toEqual(loadConfig({ flags: {}, env: {}, definitions: AGENTS }).global);
    expect(agents).toEqual({});
  });

  it('every object in the global and agent config schemas refuses unknown keys', () => {
    const schemas: [string, unknown][] = [
      ['global', globalSchema],
      ...Object.entries(AGENTS).map(([n, d]): [string, unknown] => [n, d.configSchema]),
      ['counter (test)', counter.configSchema],
    ];
    for (const [name, schema] of schemas) {
      const objects = schemaObjects(schema);
      expect(objects.length, name).toBeGreaterThan(0);
      for (const o of objects) expect(o.strict, `${name}: ${o.path.join('.') || '(root)'}`).toBe(true);
    }
  });
});
