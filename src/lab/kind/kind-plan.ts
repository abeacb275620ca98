import { join } from 'node:path';

/** The kind cluster `lab up --kind` makes, and the namespace of the lab overlay. */
export const KIND_CLUSTER = 'pgdeck-lab';
export const LAB_NAMESPACE = 'pgdeck-lab';
/** The image the base manifests name: built from the tree's Dockerfile and loaded into the kind nodes. */
export const PGDECK_IMAGE = 'ghcr.io/pgdeck/pgdeck:0.1.0';
export const FIELD_MANAGER = 'pgdeck-lab';
const READY_TIMEOUT = '300s';

/** One command of a plan, run in order; `input` goes to its stdin (a manifest, so secrets stay out of argv). */
export interface KindStep {
  readonly what: string;
  readonly argv: readonly string[];
  readonly input?: string;
  /** The input holds secrets: a rendering says so instead of showing it. */
  readonly secretInput?: boolean;
}

export interface KindPlanInput {
  /** The checkout: its Dockerfile and manifests/overlays/lab. */
  readonly repo: string;
  /** The lab dir: the cluster's kubeconfig is written there. */
  readonly dir: string;
  readonly kubectl: string;
  /** Generated values for the Secrets the overlay expects (manifests/overlays/lab/kustomization.yaml). */
  readonly apiToken: string;
  readonly citusPassword: string;
}

export const kindKubeconfig = (dir: string): string => join(dir, 'kind-kubeconfig');

/** The Namespace and the two Secrets the lab overlay needs before it is applied, as one List. */
export function labSecrets(apiToken: string, citusPassword: string): string {
  const secret = (name: string, key: string, value: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: LAB_NAMESPACE },
    type: 'Opaque',
    stringData: { [key]: value },
  });
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LAB_NAMESPACE } },
      secret('pgdeck-api-token', 'token', apiToken),
      secret('citus-credentials', 'password', citusPassword),
    ],
  });
}

/** What `lab up --kind` runs, in order: image, cluster, image into the nodes, secrets, overlay, wait. */
export function kindUpPlan(p: KindPlanInput): KindStep[] {
  const kubeconfig = kindKubeconfig(p.dir);
  const kubectl = (...args: string[]): string[] => [p.kubectl, '--kubeconfig', kubeconfig, ...args];
  const apply = ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`];
  return [
    { what: 'build the pgdeck image', argv: ['docker', 'build', '-t', PGDECK_IMAGE, p.repo] },
    {
      what: `create the kind cluster ${KIND_CLUSTER}`,
      argv: ['kind', 'create', 'cluster', '--name', KIND_CLUSTER, '--kubeconfig', kubeconfig, '--wait', '120s'],
    },
    {
      what: 'load the image into the kind nodes',
      argv: ['kind', 'load', 'docker-image', PGDECK_IMAGE, '--name', KIND_CLUSTER],
    },
    {
      what: `the namespace ${LAB_NAMESPACE} and its secrets (values generated here)`,
      argv: kubectl(...apply, '-f', '-'),
      input: labSecrets(p.apiToken, p.citusPassword),
      secretInput: true,
    },
    {
      what: 'apply manifests/overlays/lab',
      argv: kubectl(...apply, '-k', join(p.repo, 'manifests', 'overlays', 'lab')),
    },
    {
      what: 'wait for the agents',
      argv: kubectl(
        '-n',
        LAB_NAMESPACE,
        'wait',
        '--for=condition=Available',
        'deployment',
        '--all',
        `--timeout=${READY_TIMEOUT}`,
      ),
    },
  ];
}

/** What `lab down --kind` runs: the cluster goes, and everything in it. */
export function kindDownPlan(): KindStep[] {
  return [
    { what: `delete the kind cluster ${KIND_CLUSTER}`, argv: ['kind', 'delete', 'cluster', '--name', KIND_CLUSTER] },
  ];
}

/** One line per step, as a person reads it (secrets never shown). */
export function renderPlan(steps: readonly KindStep[]): string {
  return steps
    .map((s, i) => {
      const input = s.input === undefined ? '' : s.secretInput === true ? ' < (generated manifest, not shown)' : ' < -';
      return `${i + 1}. ${s.what}: ${s.argv.join(' ')}${input}\n`;
    })
    .join('');
}

/** What the host has for kind mode, as found by the preflight. */
export interface KindHost {
  readonly kind: string | undefined;
  readonly docker: string | undefined;
  /** `docker info`'s first line of error; undefined when it answered (or docker is missing). */
  readonly dockerInfoError: string | undefined;
  readonly kubectl: string | undefined;
}

/** Null when kind mode can run here, else one line naming everything missing (nothing has been started). */
export function kindRefusal(host: KindHost): string | null {
  const missing = [
    ...(host.docker === undefined
      ? ['no `docker` on PATH']
      : host.dockerInfoError === undefined
        ? []
        : [`\`docker info\` failed (${host.dockerInfoError}): no Docker engine answers`]),
    ...(host.kind === undefined ? ['no `kind` on PATH'] : []),
    ...(host.kubectl === undefined ? ['no kubectl (scripts/control-plane/kubectl/build, or PGDECK_KUBECTL)'] : []),
  ];
  return missing.length === 0
    ? null
    : `lab up --kind needs Docker and kind: ${missing.join('; ')}; nothing was started`;
}
