import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../src/agents/registry.js';
import { loadConfig } from '../../src/config.js';
import { configErrorLines, definitions, yamlFile } from './config-fixtures.js';

const failover = { node: 'pg0', 'data-dir': '/var/lib/postgresql/data' };

describe('config errors: one line each, naming the key', () => {
  it.each([
    [{ PGDECK_LISTEN: 'nowhere' }, 'config: listen (PGDECK_LISTEN): expected host:port, got "nowhere"'],
    [{ POD_NAMESPACE: 'Bad_NS' }, 'config: kube.namespace (POD_NAMESPACE): expected a DNS-1123 label, got "Bad_NS"'],
    [{ PGDECK_READONLY: 'sometimes' }, 'config: readonly (PGDECK_READONLY): expected true or false, got "sometimes"'],
    [
      { PGDECK_LOG_LEVEL: 'xml' },
      'config: logLevel (PGDECK_LOG_LEVEL): expected one of debug, info, warn, error, silent, got "xml"',
    ],
    [{ PGDECK_TOKEN: 'short-secret' }, 'config: token (PGDECK_TOKEN): must be at least 16 characters, got "********"'],
  ])('%o', (env, line) => {
    expect(configErrorLines(() => loadConfig({ flags: {}, env, definitions }))).toEqual([line]);
  });

  it('--ttl two: expected a number, got "two"', () => {
    const lines = configErrorLines(() =>
      loadConfig({ flags: { ...failover, ttl: 'two' }, env: {}, definitions: AGENTS, agent: 'failover' }),
    );
    expect(lines).toEqual(['config: agents.failover.initial.ttlSeconds (--ttl): expected a number, got "two"']);
  });

  it('a boolean flag written --flag=value is read as typed', () => {
    const run = (argv: string[], synchronous: boolean): unknown =>
      loadConfig({ flags: { ...failover, synchronous }, env: {}, definitions: AGENTS, agent: 'failover', argv });
    expect(configErrorLines(() => run(['--synchronous=maybe'], false))).toEqual([
      'config: agents.failover.initial.synchronousMode (--synchronous): expected true or false, got "maybe"',
    ]);
    expect(run(['--synchronous=yes'], false)).toMatchObject({
      agents: { failover: { initial: { synchronousMode: true } } },
    });
  });

  it('a required key says how to set it', () => {
    expect(configErrorLines(() => loadConfig({ flags: {}, env: {}, definitions: AGENTS, agent: 'failover' }))).toEqual([
      'config: agents.failover.node: required (--node, or env PGDECK_NODE or PATRONI_NAME)',
      'config: agents.failover.dataDir: required (--data-dir, or env PGDATA or PATRONI_POSTGRESQL_DATA_DIR)',
    ]);
  });

  it('an unknown key anywhere in the file names its path and the key meant', () => {
    const file = yamlFile('agents:\n  failover:\n    node: pg0\n    dataDir: /d\n    ttlSeconds: 3\n');
    expect(configErrorLines(() => loadConfig({ flags: {}, env: {}, configFile: file, definitions: AGENTS }))).toEqual([
      `config: agents.failover.ttlSeconds (file ${file}): unknown key (did you mean agents.failover.initial.ttlSeconds?)`,
    ]);
    const deeper = yamlFile('kube:\n  namspace: x\nagents:\n  failover:\n    initial:\n      ttlSecond: 3\n');
    expect(
      configErrorLines(() => loadConfig({ flags: failover, env: {}, configFile: deeper, definitions: AGENTS })),
    ).toEqual([
      `config: kube.namspace (file ${deeper}): unknown key (did you mean kube.namespace?)`,
      `config: agents.failover.initial.ttlSecond (file ${deeper}): unknown key (did you mean agents.failover.initial.ttlSeconds?)`,
    ]);
  });

  it('walSegmentSizeMb must be a power of 2 from 1 to 1024; a valid one is kept', () => {
    const file = yamlFile('agents:\n  failover:\n    walSegmentSizeMb: 3\n');
    expect(
      configErrorLines(() => loadConfig({ flags: failover, env: {}, configFile: file, definitions: AGENTS })),
    ).toEqual([`config: agents.failover.walSegmentSizeMb (file ${file}): a power of 2 from 1 to 1024 (MB), got 3`]);
    const good = yamlFile('agents:\n  failover:\n    walSegmentSizeMb: 1\n');
    expect(loadConfig({ flags: failover, env: {}, configFile: good, definitions: AGENTS })).toMatchObject({
      agents: { failover: { walSegmentSizeMb: 1 } },
    });
  });

  it('settings that left the global section say whose section they belong to', () => {
    const file = yamlFile('redis:\n  port: 6380\ncitus:\n  host: c\n');
    expect(configErrorLines(() => loadConfig({ flags: {}, env: {}, configFile: file, definitions }))).toEqual([
      `config: redis (file ${file}): unknown key (these settings belong to the autoscaler agent's section, agents.autoscaler)`,
      `config: citus (file ${file}): unknown key (these settings belong to the citus-sync agent's section, agents.citus-sync)`,
    ]);
  });

  it('reports every problem at once: file, environment and flags, global and agent sections', () => {
    const file = yamlFile('listen: nowhere\nbogus: 1\nagents:\n  counter:\n    step: -2\n    stepp: 1\n  nope: {}\n');
    const lines = configErrorLines(() =>
      loadConfig({
        flags: { target: 'ten', 'other-start': 1 },
        env: { PGDECK_LOG_LEVEL: 'loud' },
        configFile: file,
        definitions,
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        `config: agents.nope (file ${file}): unknown agent; known agents: counter, other`,
        '--other-start is a flag of the other agent, which is not configured: run it with --agent other, or add agents.other to the config file',
        `config: listen (file ${file}): expected host:port, got "nowhere"`,
        'config: logLevel (PGDECK_LOG_LEVEL): expected one of debug, info, warn, error, silent, got "loud"',
        `config: bogus (file ${file}): unknown key`,
        `config: agents.counter.step (file ${file}): expected more than 0, got -2`,
        `config: agents.counter.stepp (file ${file}): unknown key (did you mean agents.counter.step?)`,
        'config: agents.counter.target (--target): expected a number, got "ten"',
      ]),
    );
    expect(lines).toHaveLength(8);
  });

  it('a missing or malformed file names the path', () => {
    expect(
      configErrorLines(() => loadConfig({ flags: {}, env: {}, configFile: '/nonexistent/pgdeck.yaml', definitions })),
    ).toEqual(['config: cannot read /nonexistent/pgdeck.yaml: ENOENT']);
    const broken = yamlFile('listen: [unclosed\n');
    expect(configErrorLines(() => loadConfig({ flags: {}, env: {}, configFile: broken, definitions }))[0]).toContain(
      `${broken} is not valid YAML`,
    );
  });

  it('a token file that is short is refused without echoing it', () => {
    const tokenFile = yamlFile('short\n');
    expect(configErrorLines(() => loadConfig({ flags: { 'token-file': tokenFile }, env: {}, definitions }))).toEqual([
      `config: tokenFile (--token-file): the token in it must be at least 16 characters`,
    ]);
  });
});

describe('each agent owns its flags', () => {
  it('with --agent NAME, a flag of another agent exits naming it and its owner', () => {
    const lines = configErrorLines(() =>
      loadConfig({
        flags: { ...failover, 'redis-host': 'r', step: 2 },
        env: {},
        definitions: { ...AGENTS, ...definitions },
        agent: 'failover',
      }),
    );
    expect(lines).toEqual([
      '--redis-host is a flag of the autoscaler agent, not of failover',
      '--step is a flag of the counter agent, not of failover',
    ]);
  });

  it('a flag two agents declare goes to the one that runs', () => {
    const config = loadConfig({ flags: { target: 9 }, env: {}, definitions, agent: 'other' });
    expect(config.agents).toEqual({ other: expect.objectContaining({ target: 9 }) as unknown });
  });

  it('in the console, a flag goes to the one configured agent declaring it; several is ambiguous', () => {
    const one = yamlFile('agents:\n  counter: {}\n');
    expect(loadConfig({ flags: { target: 4 }, env: {}, configFile: one, definitions }).agents).toEqual({
      counter: expect.objectContaining({ target: 4 }) as unknown,
    });
    const both = yamlFile('agents:\n  counter:\n  other:\n');
    expect(
      configErrorLines(() => loadConfig({ flags: { target: 4 }, env: {}, configFile: both, definitions })),
    ).toEqual([
      '--target is a flag of the counter and other agents; set it under agents.NAME in the config file to say which one',
    ]);
  });

  it('--agent with an unknown agent lists the known ones', () => {
    expect(configErrorLines(() => loadConfig({ flags: {}, env: {}, definitions, agent: 'nope' }))).toEqual([
      '--agent: unknown agent "nope"; known agents: counter, other',
    ]);
  });

  it('with --agent, another configured section is held to its keys but not to values it would need', () => {
    const file = yamlFile('agents:\n  failover:\n    dataDir: /d\n  counter:\n    stepp: 1\n');
    expect(
      configErrorLines(() =>
        loadConfig({
          flags: {},
          env: {},
          configFile: file,
          definitions: { ...AGENTS, ...definitions },
          agent: 'counter',
        }),
      ),
    ).toEqual([`config: agents.counter.stepp (file ${file}): unknown key (did you mean agents.counter.step?)`]);
    const typo = yamlFile('agents:\n  failover:\n    dataDri: /d\n');
    expect(
      configErrorLines(() =>
        loadConfig({
          flags: {},
          env: {},
          configFile: typo,
          definitions: { ...AGENTS, ...definitions },
          agent: 'counter',
        }),
      ),
    ).toEqual([`config: agents.failover.dataDri (file ${typo}): unknown key (did you mean agents.failover.dataDir?)`]);
  });
});
