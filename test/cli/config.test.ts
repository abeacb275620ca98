import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyAgentDefinition } from '../../src/agents/kernel/agent.js';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import { loadConfig } from '../../src/config.js';
import { ENV_NAMES } from '../../src/config-sources.js';
import { counterAgent } from '../fixtures/counter-agent.js';

const counter: AnyAgentDefinition = {
  ...counterAgent,
  cliOptions: [
    { flag: 'step', key: 'step', type: 'number', describe: 'step', env: ['COUNTER_STEP'] },
    { flag: 'target', key: 'target', type: 'number', describe: 'target' },
  ],
};
const definitions = { counter };

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pgdeck-config-')), 'pgdeck.yaml');
  writeFileSync(file, text);
  return file;
}

function configError(run: () => unknown): PgdeckError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PgdeckError);
    expect((error as PgdeckError).kind).toBe('config');
    return error as PgdeckError;
  }
  throw new Error('expected a config error');
}

describe('config precedence', () => {
  const file = yamlFile(
    'listen: 127.0.0.1:9001\nredis:\n  host: from-file\n  port: 7001\nagents:\n  counter:\n    step: 5\n    target: 50\n',
  );

  it('uses defaults when nothing is set', () => {
    const config = loadConfig({ flags: {}, env: {}, definitions });
    expect(config.global.listen).toBe('127.0.0.1:8008');
    expect(config.global.redis).toEqual({
      host: '127.0.0.1',
      port: 6379,
      stream: 'scale-events',
      consumerGroup: 'pgdeck-autoscaler',
    });
    expect(config.agents).toEqual({});
  });

  it('file over defaults, env over file, flags over env', () => {
    const fromFile = loadConfig({ flags: {}, env: {}, configFile: file, definitions });
    expect(fromFile.global.listen).toBe('127.0.0.1:9001');
    expect(fromFile.global.redis.port).toBe(7001);
    expect(fromFile.agents.counter).toMatchObject({ step: 5, target: 50 });

    const fromEnv = loadConfig({
      flags: {},
      env: { PGDECK_LISTEN: '127.0.0.1:9002', REDIS_PORT: '7002', COUNTER_STEP: '6' },
      configFile: file,
      definitions,
    });
    expect(fromEnv.global.listen).toBe('127.0.0.1:9002');
    expect(fromEnv.global.redis).toMatchObject({ host: 'from-file', port: 7002 });
    expect(fromEnv.agents.counter).toMatchObject({ step: 6, target: 50 });
    expect(fromEnv.sources.get('redis.port')).toBe('env REDIS_PORT');

    const fromFlags = loadConfig({
      flags: { listen: '127.0.0.1:9003', step: 7, target: '70' },
      env: { PGDECK_LISTEN: '127.0.0.1:9002', COUNTER_STEP: '6' },
      configFile: file,
      definitions,
      want: ['counter'],
    });
    expect(fromFlags.global.listen).toBe('127.0.0.1:9003');
    expect(fromFlags.agents.counter).toMatchObject({ step: 7, target: 70 });
    expect(fromFlags.sources.get('agents.counter.step')).toBe('flag --step');
  });

  it('accepts the environment names of the tools pgdeck replaces', () => {
    const env = {
      CITUS_HOST: 'coordinator.db',
      POSTGRES_USER: 'citus',
      POSTGRES_PASSWORD: 'pw-secret',
      POSTGRES_DB: 'app',
      POD_NAMESPACE: 'pg-prod',
      LABEL_SELECTOR: 'app=citus-worker',
      SCAN_INTERVAL_SECONDS: '15',
      REDIS_HOST: 'redis.queue',
      REDIS_PORT: '6380',
      REDIS_STREAM: 'scale',
      REDIS_CONSUMER_GROUP: 'workers',
      OTTO_AGENT_IMAGE: 'otto/agent:1.2',
    };
    const { global } = loadConfig({ flags: {}, env, definitions });
    expect(global.citus).toEqual({
      host: 'coordinator.db',
      port: 5432,
      user: 'citus',
      password: 'pw-secret',
      database: 'app',
      scanIntervalSeconds: 15,
    });
    expect(global.kube).toEqual({ namespace: 'pg-prod', labelSelector: 'app=citus-worker' });
    expect(global.redis).toEqual({ host: 'redis.queue', port: 6380, stream: 'scale', consumerGroup: 'workers' });
    expect(global.autoscaler.agentImage).toBe('otto/agent:1.2');
    expect(ENV_NAMES.map((e) => e.env)).toEqual(expect.arrayContaining(Object.keys(env)));
  });

  it('reads the token from a file and refuses a short one without echoing it', () => {
    const tokenFile = yamlFile('0123456789abcdef-token\n');
    expect(loadConfig({ flags: { 'token-file': tokenFile }, env: {}, definitions }).token).toBe(
      '0123456789abcdef-token',
    );
    const error = configError(() => loadConfig({ flags: {}, env: { PGDECK_TOKEN: 'short-secret' }, definitions }));
    expect(error.message).toBe('config: token (PGDECK_TOKEN): must be at least 16 characters, got "********"');
  });
});

describe('config errors name the key in one line', () => {
  it.each([
    [{ REDIS_PORT: 'abc' }, 'config: redis.port (REDIS_PORT): expected a number from 1 to 65535, got "abc"'],
    [{ REDIS_PORT: '70000' }, 'config: redis.port (REDIS_PORT): expected a number from 1 to 65535, got 70000'],
    [
      { SCAN_INTERVAL_SECONDS: '-1' },
      'config: citus.scanIntervalSeconds (SCAN_INTERVAL_SECONDS): expected a positive number of seconds, got -1',
    ],
    [{ POD_NAMESPACE: 'Bad_NS' }, 'config: kube.namespace (POD_NAMESPACE): expected a DNS-1123 label, got "Bad_NS"'],
    [{ PGDECK_LISTEN: 'nowhere' }, 'config: listen (PGDECK_LISTEN): expected host:port, got "nowhere"'],
  ])('%o', (env, message) => {
    const error = configError(() => loadConfig({ flags: {}, env, definitions }));
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('\n');
  });

  it('an unknown key in the file', () => {
    const file = yamlFile('redis:\n  prot: 1\n');
    expect(configError(() => loadConfig({ flags: {}, env: {}, configFile: file, definitions })).message).toBe(
      `config: redis.prot (file ${file}): unknown key`,
    );
  });

  it('an unknown agent section, and a bad value in an agent section', () => {
    const unknown = yamlFile('agents:\n  nope: {}\n');
    expect(configError(() => loadConfig({ flags: {}, env: {}, configFile: unknown, definitions })).message).toContain(
      'agents.nope',
    );
    const bad = yamlFile('agents:\n  counter:\n    step: -2\n');
    expect(configError(() => loadConfig({ flags: {}, env: {}, configFile: bad, definitions })).message).toMatch(
      /^config: agents\.counter\.step \(file .*\): .*got -2$/,
    );
  });

  it('a missing or malformed file names the path', () => {
    expect(
      configError(() => loadConfig({ flags: {}, env: {}, configFile: '/nonexistent/pgdeck.yaml', definitions }))
        .message,
    ).toBe('config: cannot read /nonexistent/pgdeck.yaml: ENOENT');
    const broken = yamlFile('redis: [unclosed\n');
    expect(configError(() => loadConfig({ flags: {}, env: {}, configFile: broken, definitions })).message).toContain(
      `${broken} is not valid YAML`,
    );
  });
});
