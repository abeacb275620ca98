/** Import directions from ../shared/design/ARCHITECTURE.md, enforced in the test command. */
const clientLibs = '^node_modules/(@kubernetes/client-node|pg|etcd3|ioredis)/';
const agentDirs = '(citus-sync|patroni-operator|failover|autoscaler)';
/** decide.ts or decide/<concern>.ts, and the pure policy files beside it: no I/O, no clock, no randomness. */
const pureFiles = `^src/agents/${agentDirs}/(decide\\.ts|decide/[a-z0-9-]+\\.ts|[a-z-]+-policy\\.ts)$`;

module.exports = {
  forbidden: [
    {
      name: 'kernel-imports-nothing',
      comment: 'agents/kernel imports only node:* and its own files',
      severity: 'error',
      from: { path: '^src/agents/kernel/' },
      to: {
        pathNot: [
          '^src/agents/kernel/',
          '^node:',
          '^(fs|path|os|events|crypto|http|util|stream|timers|perf_hooks|url)$',
        ],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'wire-imports-kernel-only',
      severity: 'error',
      from: { path: '^src/agents/wire/' },
      to: { path: '^src/', pathNot: ['^src/agents/(kernel|wire)/'] },
    },
    {
      name: 'only-adapters-touch-client-libraries',
      severity: 'error',
      from: { pathNot: '^src/agents/adapters/' },
      to: { path: clientLibs },
    },
    {
      name: 'adapters-import-kernel-only',
      severity: 'error',
      from: { path: '^src/agents/adapters/' },
      to: { path: '^src/', pathNot: ['^src/agents/(kernel|adapters)/'] },
    },
    {
      name: 'agent-imports-no-other-agent',
      severity: 'error',
      from: { path: `^src/agents/${agentDirs}/` },
      to: { path: `^src/agents/${agentDirs}/`, pathNot: '^src/agents/$1/' },
    },
    {
      name: 'agent-imports-no-ui-lab-wire',
      severity: 'error',
      from: { path: `^src/agents/${agentDirs}/` },
      to: { path: '^src/(ui|lab|agents/wire)/' },
    },
    {
      name: 'decide-is-pure',
      comment:
        "decide.ts or decide/*.ts, and the policy files, import only the agent's types.ts, its policy files, sibling decide files and kernel types",
      severity: 'error',
      from: { path: pureFiles },
      to: {
        pathNot: [
          `^src/agents/$1/(types|[a-z-]+-policy)\\.ts$`,
          `^src/agents/$1/decide/[a-z0-9-]+\\.ts$`,
          '^src/agents/kernel/',
        ],
      },
    },
    {
      name: 'decide-imports-kernel-types-only',
      comment: 'the kernel gives decide its types (Decision), never code: no clock, no I/O',
      severity: 'error',
      from: { path: pureFiles },
      to: { path: '^src/agents/kernel/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ui-reads-types-only',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: {
        path: [
          '^src/agents/(adapters|wire)/',
          '^src/lab/',
          `^src/agents/${agentDirs}/(?!types\\.ts$)`,
          '^src/main\\.ts$',
        ],
      },
    },
    {
      name: 'ui-imports-agent-types-type-only',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: `^src/agents/${agentDirs}/types\\.ts$`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'lab-never-imports-ui',
      severity: 'error',
      from: { path: '^src/lab/' },
      to: { path: '^src/ui/' },
    },
    {
      name: 'headless-never-loads-ink',
      comment: 'only ui/ imports Ink and React, so `pgdeck --agent` never loads them',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/ui/' },
      to: { path: '^node_modules/(ink|react|react-reconciler|ink-testing-library)/' },
    },
    {
      name: 'main-loads-ui-and-lab-lazily',
      comment: 'main.ts reaches ui/ and lab/ only through await import()',
      severity: 'error',
      from: { path: '^src/main\\.ts$' },
      to: { path: '^src/(ui|lab)/', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'main-loads-agents-lazily',
      comment:
        'main.ts reaches the agents runtime (and so the client libraries) only through await import(): attach and status load agents/settings.ts alone',
      severity: 'error',
      from: { path: '^src/main\\.ts$' },
      to: {
        path: [
          '^src/agents/(registry|kernel/runtime)\\.ts$',
          '^src/agents/adapters/',
          '^src/cli/headless\\.ts$',
          '^src/agents/[a-z-]+/(index|send)\\.ts$',
        ],
        dependencyTypesNot: ['dynamic-import', 'type-only'],
      },
    },
    {
      name: 'src-never-imports-test-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.d.ts'],
    },
  },
};
