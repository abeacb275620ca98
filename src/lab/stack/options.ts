/** What `pgdeck lab up` starts; small sizes are for tests. */
export interface LabOptions {
  readonly dir: string;
  /** Failover cluster members pg0..pgN-1 (default 3). */
  readonly nodes: number;
  /** etcd members: 1, or 3 (a restart-etcd drill then restarts the leader; quorum is kept). */
  readonly etcdMembers: 1 | 3;
  readonly synchronous: boolean;
  /** Citus workers (0: no Citus topology). */
  readonly citusWorkers: number;
  /** `auto`: the Kubernetes parts start when the control-plane binaries exist, or after a background build. */
  readonly kube: 'auto' | 'off';
  /** Each failover node (its postgres and daemon) in its own network namespace on a bridge (root, `ip netns`). */
  readonly netns: boolean;
  /** The command that runs a pgdeck daemon (`node dist/main.js`). */
  readonly command: readonly string[];
}
