#!/usr/bin/env -S node --max-semi-space-size=2
import { userInfo } from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { SendInput } from './agents/autoscaler/send.js';
import type { AgentHandle } from './agents/kernel/snapshot.js';
import { AGENT_SETTINGS } from './agents/settings.js';
import { OVERLAYS, parseOverlay, type DeployVerb } from './cli/deploy-objects.js';
import { UsageError, errorLines, exitCodeFor } from './cli/exit.js';
import { addAgentOptions, packageVersion, yargsOptions } from './cli/flags.js';
import type { FailoverMemberConfig } from './agents/failover/haproxy-command.js';
import { fetchStatus, outputFormats, parseOutputFormat, renderStatus, statusFailures } from './cli/status.js';
import { GLOBAL_OPTIONS } from './config-sources.js';
import { loadConfig, type LoadedConfig } from './config.js';

/** The composition root: the only place that picks in-process or attached agents, headless or TUI. */
async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const load = (args: Record<string, unknown>): LoadedConfig =>
    loadConfig({
      flags: args,
      env: process.env,
      ...(typeof args.config === 'string' ? { configFile: args.config } : {}),
      definitions: AGENT_SETTINGS,
      ...(typeof args.agent === 'string' ? { agent: args.agent } : {}),
      argv,
    });
  const write = (text: string): void => {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  };

  const cli = yargs(hideBin(['node', 'pgdeck', ...argv]))
    .scriptName('pgdeck')
    .usage('$0 [--agent NAME]  terminal ops console for PostgreSQL fleets on Kubernetes')
    .option('config', { type: 'string', describe: 'YAML config file (flags > env > file > defaults)' })
    .options(yargsOptions(GLOBAL_OPTIONS, 'Global options:'))
    .command(
      '$0',
      'open the console, running the agents configured under `agents:` in-process (or run one headless with --agent)',
      (y) => addAgentOptions(y, AGENT_SETTINGS),
      async (args) => {
        if (typeof args.agent === 'string') {
          const config = load(args);
          const { AGENTS } = await import('./agents/registry.js');
          const { runHeadless } = await import('./cli/headless.js');
          code = await runHeadless(AGENTS[args.agent]!, config, { signals: process });
          return;
        }
        const config = load(args);
        if (Object.keys(config.agents).length === 0 && config.global.attach.length === 0) {
          const { labForConsole } = await import('./lab/cli.js');
          const lab = await labForConsole();
          code = await runUi({ ...config, token: config.token ?? lab.token }, [lab.handle], lab.urls);
          return;
        }
        code = await runUi(config, await inProcess(config), [], { launcher: true });
      },
    )
    .command(
      'attach [urls..]',
      'open the console over agents running elsewhere: by URL, or `--kube` for the agents in a namespace',
      (y) =>
        y
          .positional('urls', { type: 'string', array: true })
          .option('kube', {
            type: 'boolean',
            default: false,
            describe: 'the agent Services in the namespace (-n), through the API server proxy',
          })
          .alias('namespace', 'n'),
      async (args) => {
        const config = load(args);
        const urls = (args.urls as string[] | undefined) ?? [];
        if (!args.kube) {
          if (urls.length === 0) throw new UsageError("attach: pass the agents' URLs, or --kube");
          code = await runUi(config, [], urls, { launcher: true });
          return;
        }
        if (urls.length > 0) throw new UsageError('attach --kube: takes no URLs; it finds the agents in the namespace');
        const { attachKubeAgents } = await import('./cli/attach-kube.js');
        const { context, namespace } = config.global.kube;
        const handles = await attachKubeAgents({
          ...(context === undefined ? {} : { context }),
          ...(config.sources.has('kube.namespace') ? { namespace } : {}),
          ...(config.token === undefined ? {} : { token: config.token }),
        });
        code = await runUi(config, handles, [], { launcher: true });
      },
    )
    .command(
      'status [urls..]',
      'print a one-shot snapshot of the agents (the same state the console shows)',
      (y) =>
        y.positional('urls', { type: 'string', array: true }).option('output', {
          alias: 'o',
          type: 'string',
          default: 'table',
          describe: `output format: ${outputFormats.join(', ')}`,
        }),
      async (args) => {
        const format = parseOutputFormat(args.output);
        const config = load(args);
        const given = (args.urls as string[] | undefined) ?? [];
        const urls = given.length > 0 ? given : config.global.attach;
        if (urls.length === 0)
          throw new UsageError('status: no agents to ask; pass their URLs or list them under `attach:` in the config');
        const entries = await fetchStatus(urls, config.token);
        write(renderStatus(entries, format));
        const failures = statusFailures(entries);
        for (const line of failures) process.stderr.write(`pgdeck: ${line}\n`);
        code = failures.length > 0 ? 1 : 0;
      },
    )
    .command(
      'config <what>',
      'configuration: `pgdeck config show [--agent NAME]` prints the effective config per section, secrets masked',
      (y) =>
        addAgentOptions(
          y
            .positional('what', { choices: ['show'] as const, demandOption: true })
            .option('output', { alias: 'o', choices: ['yaml', 'json'] as const, default: 'yaml' as const }),
          AGENT_SETTINGS,
        ),
      async (args) => {
        const { renderConfig } = await import('./cli/config-show.js');
        write(renderConfig(load(args), args.output));
      },
    )
    .command(
      'lab <what> [name]',
      'the local lab: `up`, `down`, `status`, `env`, `logs [COMPONENT]`, `chaos ACTION [--node N]`, `load`',
      (y) =>
        y
          .positional('what', { type: 'string', demandOption: true })
          .positional('name', { type: 'string', describe: 'the component (logs) or the chaos action' })
          .option('dir', {
            type: 'string',
            describe: 'the lab dir (default $PGDECK_LAB_DIR or ~/.local/state/pgdeck/lab)',
          })
          .option('nodes', { type: 'number', default: 3, describe: 'failover cluster members' })
          .option('etcd', { type: 'number', default: 1, describe: 'etcd members: 1 or 3' })
          .option('synchronous', { type: 'boolean', default: false, describe: 'synchronous replication' })
          .option('citus-workers', { type: 'number', default: 2, describe: 'Citus workers (0: none)' })
          .option('kube', { type: 'boolean', default: true, describe: 'the Kubernetes parts (--no-kube: without)' })
          .option('netns', {
            type: 'boolean',
            default: false,
            describe: 'each failover node in its own network namespace, so `chaos partition` cuts it (root, iproute2)',
          })
          .option('kind', {
            type: 'boolean',
            default: false,
            describe: '`up`/`down`: a kind cluster with manifests/overlays/lab (needs Docker and kind)',
          })
          .option('plan', {
            type: 'boolean',
            default: false,
            describe: '`up --kind`: print what would run, run nothing',
          })
          .option('node', { type: 'string', describe: 'the node a chaos action hits (default: the primary)' })
          .option('lines', { type: 'number', default: 40, describe: 'log lines per file' })
          .option('seconds', { type: 'number', default: 10, describe: 'how long `load` writes' })
          .option('scale', {
            type: 'number',
            describe: '`load`: pods the autoscaler adds as it starts and removes as it ends (default 1; 0: none)',
          })
          .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const }),
      async (args) => {
        const { runLab, labArgs } = await import('./lab/cli.js');
        code = await runLab(labArgs(args, write));
        // The supervisor has stopped all it started and its log is a file: it leaves now, not after
        // main's exit timer, so `lab down` (which waits for it to be gone) returns sooner.
        if (args.what === 'supervise') process.exit(code);
      },
    )
    .command(
      'action <url> <name>',
      'preview or invoke one action of a running agent (for scripts)',
      (y) =>
        y
          .positional('url', { type: 'string', demandOption: true })
          .positional('name', { type: 'string', demandOption: true })
          .option('arg', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: 'action argument key=value (repeatable)',
          })
          .option('preview', { type: 'boolean', default: false, describe: 'only show what would happen' }),
      async (args) => {
        const config = load(args);
        const { parseArgPairs, runAction } = await import('./cli/action.js');
        const { output, ok } = await runAction(
          String(args.url),
          String(args.name),
          parseArgPairs(args.arg as string[]),
          { token: config.token, preview: args.preview, readonly: config.global.readonly, who: userInfo().username },
        );
        write(JSON.stringify(output, null, 2));
        code = ok ? 0 : 1;
      },
    )
    .command(
      'autoscaler <what>',
      'autoscaler tools: `pgdeck autoscaler send --type scale_up --pod-count 3 --task-id t1` adds a scale event',
      (y) =>
        y
          .positional('what', { choices: ['send'] as const, demandOption: true })
          .option('type', { type: 'string', describe: 'scale_up or scale_down' })
          .option('pod-count', { type: 'string', describe: 'pods to add or remove' })
          .option('task-id', { type: 'string', describe: 'task id (lowercase letters, digits and -)' })
          .option('target', { type: 'string', describe: 'a configured replica target instead of task pods' })
          .option('redis-host', { type: 'string', describe: 'Redis host [env REDIS_HOST]' })
          .option('redis-port', { type: 'string', describe: 'Redis port [env REDIS_PORT]' })
          .option('redis-stream', { type: 'string', describe: 'stream [env REDIS_STREAM]' }),
      async (args) => {
        const given = {
          type: args.type,
          podCount: args['pod-count'],
          taskId: args['task-id'],
          target: args.target,
          redisHost: args['redis-host'],
          redisPort: args['redis-port'],
          redisStream: args['redis-stream'],
        };
        const input: SendInput = Object.fromEntries(
          Object.entries(given).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
        );
        const { planSend, sendScaleEvent } = await import('./agents/autoscaler/send.js');
        const plan = planSend(input, process.env);
        write(await sendScaleEvent(plan, process.env));
      },
    )
    .command(
      'failover <what>',
      'failover tools: `pgdeck failover haproxy-config --member pg0=10.0.0.5:5432:8008 ...` prints an haproxy.cfg',
      (y) =>
        y
          .positional('what', { choices: ['haproxy-config'] as const, demandOption: true })
          .option('member', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: "a member NAME=[HOST:]PGPORT:APIPORT (repeatable; the config's own failover member is added)",
          })
          .option('write-port', { type: 'string', default: '5000', describe: 'port routed to the primary' })
          .option('read-port', { type: 'string', default: '5001', describe: 'port balanced over the replicas' })
          .option('bind', { type: 'string', default: '127.0.0.1', describe: 'address both ports bind' }),
      async (args) => {
        const config = load(args);
        const { renderHaproxyConfig } = await import('./agents/failover/haproxy-command.js');
        const own = config.agents.failover as FailoverMemberConfig | undefined;
        const members = args.member as string[];
        write(
          renderHaproxyConfig(
            { members, writePort: args['write-port'], readPort: args['read-port'], bind: args.bind },
            own,
          ),
        );
      },
    )
    .command(
      ['install', 'uninstall', 'deploy', 'undeploy'],
      'against the current kube context: install|uninstall the CRD, deploy|undeploy an overlay (--sample: the sample cluster)',
      (y) =>
        y
          .option('sample', { type: 'boolean', default: false, describe: 'deploy|undeploy the sample PostgresCluster' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'server-side dry run: print the diff' })
          .option('overlay', { type: 'string', default: 'lab', describe: `manifests/overlays/<${OVERLAYS.join('|')}>` })
          .option('file', { type: 'string', describe: 'pre-rendered multi-document YAML instead of the overlay' })
          .option('kubeconfig', { type: 'string', describe: 'kubeconfig file (default $KUBECONFIG, ~/.kube/config)' })
          .alias('namespace', 'n'),
      async (args) => {
        const config = load(args);
        const { runDeploy } = await import('./cli/deploy.js');
        const { context, namespace } = config.global.kube;
        code = await runDeploy(
          {
            verb: String(args._[0]) as DeployVerb,
            sample: args.sample === true,
            dryRun: args['dry-run'] === true,
            overlay: parseOverlay(args.overlay),
            ...(typeof args.file === 'string' ? { file: args.file } : {}),
            ...(typeof args.kubeconfig === 'string' ? { kubeconfig: args.kubeconfig } : {}),
            ...(context === undefined ? {} : { context }),
            ...(config.sources.has('kube.namespace') ? { namespace } : {}),
          },
          write,
        );
      },
    )
    .completion('completion', 'print a shell completion script (bash/zsh): pgdeck completion >> ~/.bashrc')
    .strict()
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message ?? 'invalid command line');
    });

  try {
    if (argv[0] === 'completion' && argv.length === 1) {
      cli.showCompletionScript();
      return 0;
    }
    await cli.parseAsync();
    return code;
  } catch (error) {
    process.stderr.write(
      errorLines(error)
        .map((line) => `${line}\n`)
        .join(''),
    );
    return exitCodeFor(error);
  }
}

/** The configured agents, started in this process; the agents' code and client libraries load only then. */
async function inProcess(config: LoadedConfig): Promise<AgentHandle[]> {
  if (Object.keys(config.agents).length === 0) return [];
  const { AGENTS } = await import('./agents/registry.js');
  const { startAgent } = await import('./agents/kernel/runtime.js');
  const { agentLogs } = await import('./agents/wire/logs.js');
  return Promise.all(
    Object.entries(config.agents).map(async ([name, agentConfig]): Promise<AgentHandle> => {
      const definition = AGENTS[name]!;
      const agent = await startAgent(definition, agentConfig);
      const { logs } = agentLogs(agent.reader, definition.logSources?.(agent.deps));
      return { name: agent.name, reader: agent.reader, control: agent.control, logs, close: () => agent.close() };
    }),
  );
}

/**
 * The console over `local` and `urls`; outside lab mode (`launcher`) with the lab's `L`, a launcher
 * (not a source) that sets up the local lab and attaches the console to it.
 */
async function runUi(
  config: LoadedConfig,
  local: AgentHandle[],
  urls: readonly string[],
  options: { readonly launcher?: boolean } = {},
): Promise<number> {
  const { attachAgent } = await import('./agents/wire/attach.js');
  const { loadConsoleModule } = await import('./cli/console-load.js');
  const { startUi, CONSOLE_EVENT_CAPACITY } = await loadConsoleModule();
  const launcher =
    options.launcher === true
      ? (await import('./lab/launcher.js')).consoleLabLauncher(CONSOLE_EVENT_CAPACITY)
      : undefined;
  // The console keeps the newest CONSOLE_EVENT_CAPACITY events of all sources, so no mirror needs more.
  const attached = [...config.global.attach, ...urls].map((url) =>
    attachAgent(url, {
      journalCapacity: CONSOLE_EVENT_CAPACITY,
      ...(config.token === undefined ? {} : { token: config.token }),
    }),
  );
  const handles = [...local, ...attached];
  try {
    await startUi({
      handles,
      ...(launcher === undefined ? {} : { launchers: [launcher] }),
      readonly: config.global.readonly,
      color: config.global.color,
      context: {
        ...(config.global.kube.context === undefined ? {} : { kubeContext: config.global.kube.context }),
        namespace: config.global.kube.namespace,
      },
    });
  } finally {
    await Promise.all([...handles.map((h) => h.close()), launcher?.close()]);
  }
  return 0;
}

// React picks its production build from NODE_ENV when the console is first imported, below main().
process.env.NODE_ENV ??= 'production';
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything was closed in order; a client library's lingering socket must not keep a stopped agent alive.
setTimeout(() => process.exit(code), 2000).unref();
