import { readFileSync } from 'node:fs';
import { CitusCoordinator } from '../adapters/citus.js';
import type { KubeClient, KubeInformer, KubeObjects, KubeSource } from '../adapters/kube.js';
import { KUBE_RESOURCES } from '../adapters/kube-resources.js';
import type { AgentContext } from '../kernel/context.js';
import { PgdeckError } from '../kernel/errors.js';
import { coordinatorCandidates, type PodObject } from './address-policy.js';
import type { CitusSyncConfig } from './types.js';

export interface CitusSyncDeps {
  readonly config: CitusSyncConfig;
  readonly coordinator: CitusCoordinator;
  readonly kube: KubeClient;
  readonly objects: KubeObjects;
  /** The shared informer on the worker pods (namespace + label selector). */
  readonly pods: KubeInformer<PodObject & { readonly [field: string]: unknown }>;
}

/** The field manager of every write this agent makes (the finalizer). */
export const FIELD_MANAGER = 'pgdeck-citus-sync';

function kubeSource(config: CitusSyncConfig): KubeSource {
  const context = config.kubeContext === undefined ? {} : { context: config.kubeContext };
  return config.kubeconfig === undefined
    ? { kind: 'auto', ...context }
    : { kind: 'kubeconfig', path: config.kubeconfig, ...context };
}

function password(config: CitusSyncConfig): string | undefined {
  if (config.passwordFile === undefined) return config.password;
  try {
    return readFileSync(config.passwordFile, 'utf8').trim();
  } catch {
    throw new PgdeckError('config', `cannot read the password file ${config.passwordFile}`, { field: 'passwordFile' });
  }
}

/**
 * Builds the coordinator link and the pod informer; nothing is contacted before the first pass. The
 * Kubernetes client library is loaded only here, so other agents and the CLI never load it.
 */
export async function connectCitusSync(config: CitusSyncConfig, ctx: AgentContext): Promise<CitusSyncDeps> {
  const { connectKube } = await import('../adapters/kube.js');
  const coordinator = new CitusCoordinator({
    hosts: coordinatorCandidates(config),
    user: config.user,
    password: password(config),
    database: config.database,
    connectTimeoutMs: 5000,
    statementTimeoutMs: config.statementTimeoutSeconds * 1000,
  });
  const kube = connectKube({ source: kubeSource(config), logger: ctx.log });
  const pods = kube.informers.informer<PodObject & { readonly [field: string]: unknown }>(
    { resource: KUBE_RESOURCES.pods, namespace: config.namespace, labelSelector: config.labelSelector },
    ctx.signal,
  );
  return { config, coordinator, kube, objects: kube.objects(FIELD_MANAGER), pods };
}
