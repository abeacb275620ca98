import { KubeConfig } from '@kubernetes/client-node';
import { accessSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { errorMessage, PgdeckError } from '../kernel/errors.js';

/** Where the credentials come from. */
export type KubeSource =
  /** A kubeconfig file (default: $KUBECONFIG, else ~/.kube/config), with an optional context name. */
  | { readonly kind: 'kubeconfig'; readonly path?: string; readonly context?: string }
  /** A kubeconfig given as text (a mounted Secret, a test harness). */
  | { readonly kind: 'kubeconfig-text'; readonly yaml: string; readonly context?: string }
  /** The pod's ServiceAccount: KUBERNETES_SERVICE_HOST/PORT and the token under `root` (default `/`). */
  | { readonly kind: 'in-cluster'; readonly root?: string }
  /** $KUBECONFIG, else in-cluster when running in a pod, else ~/.kube/config: what kubectl and client-go do. */
  | { readonly kind: 'auto'; readonly context?: string };

export interface LoadedKubeConfig {
  readonly config: KubeConfig;
  readonly server: string;
  readonly context: string;
  /** The context's namespace, the pod's own in-cluster, else `default`. */
  readonly namespace: string;
}

const TOKEN_PATH = 'var/run/secrets/kubernetes.io/serviceaccount/token';

/** An agent's `kubeconfig` and `kubeContext` settings as a source: an empty path is `auto`, an empty context the current one. */
export function kubeSourceOf(kubeconfig: string, kubeContext: string): KubeSource {
  const context = kubeContext === '' ? {} : { context: kubeContext };
  return kubeconfig === '' ? { kind: 'auto', ...context } : { kind: 'kubeconfig', path: kubeconfig, ...context };
}

/** Loads and checks credentials; a mistake is one `config` error naming the key and what to do. */
export function loadKubeConfig(source: KubeSource): LoadedKubeConfig {
  switch (source.kind) {
    case 'kubeconfig':
      return fromFiles(source.path ?? defaultKubeconfigPath(), source.context);
    case 'kubeconfig-text':
      return withContext(parse(source.yaml, 'the kubeconfig text'), source.context, 'the kubeconfig text');
    case 'in-cluster':
      return inCluster(source.root ?? '/');
    case 'auto': {
      const env = process.env.KUBECONFIG;
      if (env !== undefined && env !== '') return fromFiles(env, source.context);
      if (process.env.KUBERNETES_SERVICE_HOST !== undefined && readable(join('/', TOKEN_PATH))) return inCluster('/');
      return fromFiles(defaultKubeconfigPath(), source.context);
    }
    default:
      return source satisfies never;
  }
}

function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG;
  return env !== undefined && env !== '' ? env : join(homedir(), '.kube', 'config');
}

/** One path or several joined by ':' (merged in order, as kubectl does). */
function fromFiles(paths: string, context: string | undefined): LoadedKubeConfig {
  const files = paths.split(delimiter).filter((p) => p !== '');
  const [first, ...rest] = files;
  if (first === undefined) throw new PgdeckError('config', 'kube.kubeconfig: no kubeconfig path given');
  const config = loadFile(first);
  for (const file of rest) mergeInto(config, loadFile(file));
  return withContext(config, context, files.join(delimiter));
}

/** As kubectl merges: the first file to name a cluster, user or context wins (client-node's mergeConfig throws instead). */
function mergeInto(config: KubeConfig, later: KubeConfig): void {
  const has = (names: readonly { name: string }[], name: string): boolean => names.some((n) => n.name === name);
  for (const cluster of later.getClusters()) if (!has(config.getClusters(), cluster.name)) config.addCluster(cluster);
  for (const user of later.getUsers()) if (!has(config.getUsers(), user.name)) config.addUser(user);
  for (const ctx of later.getContexts()) if (!has(config.getContexts(), ctx.name)) config.addContext(ctx);
  if (config.getCurrentContext() === undefined || config.getCurrentContext() === '')
    config.setCurrentContext(later.getCurrentContext());
}

function loadFile(file: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? errorMessage(error);
    throw new PgdeckError('config', `kube.kubeconfig: cannot read ${file} (${code}): set --kubeconfig or KUBECONFIG`, {
      field: 'kube.kubeconfig',
    });
  }
  const config = parse(text, file);
  config.makePathsAbsolute(join(file, '..'));
  return config;
}

function parse(text: string, what: string): KubeConfig {
  const config = new KubeConfig();
  try {
    config.loadFromString(text);
  } catch (error) {
    throw new PgdeckError('config', `kube.kubeconfig: ${what} is not a valid kubeconfig: ${errorMessage(error)}`, {
      field: 'kube.kubeconfig',
    });
  }
  return config;
}

function withContext(config: KubeConfig, context: string | undefined, where: string): LoadedKubeConfig {
  const names = config.getContexts().map((c) => c.name);
  if (context !== undefined) {
    if (!names.includes(context))
      throw new PgdeckError(
        'config',
        `kube.context: no context "${context}" in ${where} (it has: ${names.join(', ') || 'none'})`,
        { field: 'kube.context' },
      );
    config.setCurrentContext(context);
  }
  const current = config.getCurrentContext();
  const object = config.getContextObject(current);
  if (object === null)
    throw new PgdeckError(
      'config',
      `kube.context: ${where} has no current context: pass one of ${names.join(', ') || '(none)'}`,
      { field: 'kube.context' },
    );
  const cluster = config.getCurrentCluster();
  if (cluster === null)
    throw new PgdeckError(
      'config',
      `kube.context: context "${current}" names cluster "${object.cluster}", not in ${where}`,
      {
        field: 'kube.context',
      },
    );
  return { config, server: cluster.server, context: current, namespace: (object.namespace ?? 'default').trim() };
}

function inCluster(root: string): LoadedKubeConfig {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '')
    throw new PgdeckError(
      'config',
      'kube: in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (is this a pod?); pass --kubeconfig otherwise',
      { field: 'kube.kubeconfig' },
    );
  const prefix = root.endsWith('/') ? root.slice(0, -1) : root;
  const token = `${prefix}/${TOKEN_PATH}`;
  if (!readable(token))
    throw new PgdeckError(
      'config',
      `kube: in-cluster configuration needs the ServiceAccount token at ${token} (automountServiceAccountToken off?)`,
      { field: 'kube.kubeconfig' },
    );
  const config = new KubeConfig();
  config.loadFromCluster(prefix);
  return withContext(config, undefined, 'the in-cluster configuration');
}

function readable(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}
