import { ConstantBackoff, noop } from 'cockatiel';
import { Etcd3, type Campaign, type Election, type Lease, type Namespace } from 'etcd3';

/** One key as read from etcd: its text value and whether a lease holds it. */
export interface EtcdEntry {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly leased: boolean;
}

export interface EtcdSessionOptions {
  readonly endpoints: readonly string[];
  /** Every key lives under this prefix (`/pgdeck/<cluster>/`). */
  readonly prefix: string;
  readonly ttlSeconds: number;
  /** Deadline of each unary call: an unreachable etcd answers "unreachable" after this, not never. */
  readonly callTimeoutMs: number;
  /** Called when the session's view may have changed (watch event, lease lost, elected, error). */
  readonly onChange: () => void;
}

/** What the session knows about its own lease and leadership, without a network call. */
export interface EtcdSessionState {
  readonly reachable: boolean;
  /** ms since epoch of the last keepalive etcd acknowledged (null before the first grant). */
  readonly renewedAt: number | null;
  readonly leaseLost: boolean;
  readonly leader: boolean;
  readonly campaigning: boolean;
  readonly lastError: string | null;
  /** The etcd cluster's id from the last response header: a wiped and re-created etcd has a new one. */
  readonly clusterId: string | null;
}

/**
 * A daemon's session with etcd: one lease for its member key, an etcd3 election campaign for
 * leadership, prefix reads, leader-guarded transactions and a prefix watch. Only this module
 * imports etcd3. Calls fail fast (no library retries or circuit breaker), so an outage is observed
 * as data within one call deadline.
 */
export class EtcdSession {
  private readonly client: Etcd3;
  private readonly ns: Namespace;
  private election: Election;
  private ttlSeconds: number;
  private lease: Lease | undefined;
  private leaseId: string | undefined;
  private campaign: Campaign | undefined;
  private campaignKey: string | undefined;
  private elected = false;
  private closed = false;
  private state: {
    reachable: boolean;
    renewedAt: number | null;
    leaseLost: boolean;
    lastError: string | null;
    clusterId: string | null;
  } = { reachable: false, renewedAt: null, leaseLost: false, lastError: null, clusterId: null };

  constructor(private readonly options: EtcdSessionOptions) {
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: options.callTimeoutMs,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + options.callTimeoutMs }),
      faultHandling: { host: () => noop, global: noop, watchBackoff: new ConstantBackoff(250).next() },
    });
    this.ns = this.client.namespace(options.prefix);
    this.ttlSeconds = options.ttlSeconds;
    this.election = this.ns.election('leader', options.ttlSeconds);
  }

  get ttl(): number {
    return this.ttlSeconds;
  }

  /**
   * Moves to a new lease TTL (a dynamic config change): the next `ensureLease` grants a lease with
   * it (the old one is left to expire, so keys re-put meanwhile survive), and the campaign is redone
   * under an election with the new TTL. Returns true when something changed.
   */
  async setTtl(seconds: number): Promise<boolean> {
    if (seconds === this.ttlSeconds) return false;
    this.ttlSeconds = seconds;
    this.lease?.release();
    this.lease = undefined;
    this.leaseId = undefined;
    await this.resign();
    this.election = this.ns.election('leader', seconds);
    return true;
  }

  snapshot(): EtcdSessionState {
    return { ...this.state, leader: this.elected, campaigning: this.campaign !== undefined };
  }

  /** All keys under the prefix, keyed by their path below it; marks etcd (un)reachable. */
  async readAll(): Promise<Map<string, EtcdEntry> | null> {
    try {
      const res = await this.askedFairly(() => this.ns.getAll().exec());
      const out = new Map<string, EtcdEntry>();
      for (const kv of res.kvs) {
        const key = kv.key.toString();
        out.set(key, {
          key,
          value: kv.value.toString(),
          modRevision: Number(kv.mod_revision),
          createRevision: Number(kv.create_revision),
          leased: kv.lease !== '0',
        });
      }
      this.state.clusterId = res.header.cluster_id;
      this.ok();
      return out;
    } catch (error) {
      this.fail(error);
      return null;
    }
  }

  /** Grants the member lease when there is none (or it was lost) and keeps it alive. */
  async ensureLease(): Promise<string> {
    if (this.lease !== undefined && this.leaseId !== undefined && !this.state.leaseLost) return this.leaseId;
    this.lease?.release();
    const lease = this.ns.lease(this.ttlSeconds, { autoKeepAlive: true });
    lease.on('keepaliveSucceeded', () => {
      this.state.renewedAt = Date.now();
      this.state.reachable = true;
    });
    lease.on('lost', (error) => {
      if (this.lease !== lease) return;
      this.state.leaseLost = true;
      this.state.lastError = error.message;
      this.options.onChange();
    });
    try {
      const id = await lease.grant();
      this.lease = lease;
      this.leaseId = id;
      this.state.leaseLost = false;
      this.state.renewedAt = Date.now();
      this.ok();
      return id;
    } catch (error) {
      lease.release();
      this.fail(error);
      throw error;
    }
  }

  /** Writes a key bound to the member lease (it disappears when the daemon stops renewing). */
  async putLeased(key: string, value: string): Promise<void> {
    await this.ensureLease();
    const lease = this.lease;
    if (lease === undefined) return;
    await this.guard(lease.put(key).value(value).exec());
  }

  async put(key: string, value: string): Promise<void> {
    await this.guard(this.ns.put(key).value(value).exec());
  }

  async delete(key: string): Promise<void> {
    await this.guard(this.ns.delete().key(key).exec());
  }

  /** Creates every key in `puts` in one transaction if `key` does not exist yet; true when it did. */
  async createIfAbsent(key: string, puts: Readonly<Record<string, string>>): Promise<boolean> {
    const res = await this.guard(
      this.ns
        .if(key, 'Create', '==', 0)
        .then(...Object.entries(puts).map(([k, v]) => this.ns.put(k).value(v)))
        .commit(),
    );
    return res.succeeded;
  }

  /** Deletes `key` if it is still the one created at `createRevision`; true when it was deleted. */
  async deleteIfCreated(key: string, createRevision: number): Promise<boolean> {
    const res = await this.guard(
      this.ns.if(key, 'Create', '==', createRevision).then(this.ns.delete().key(key)).commit(),
    );
    return res.succeeded;
  }

  /** Writes `puts` only while this daemon still holds the leadership key (a lease-bound CAS). */
  async putAsLeader(puts: Readonly<Record<string, string>>, deletes: readonly string[] = []): Promise<boolean> {
    const relative = this.leadershipKey();
    if (relative === undefined || !this.elected) return false;
    const res = await this.guard(
      this.ns
        .if(relative, 'Create', '>', 0)
        .then(...this.writeOps(puts, deletes))
        .commit(),
    );
    if (!res.succeeded) {
      // The election key is gone (deposed, or its lease lapsed): leave this campaign so the next pass joins anew.
      await this.resign();
      this.options.onChange();
    }
    return res.succeeded;
  }

  /**
   * Writes `puts` and `deletes` only while `key` is still at mod revision `revision` and, with
   * `asLeader`, this daemon still holds the leadership key. False when either changed; leadership is
   * marked lost only when its key is gone (a changed `key` is another writer's step, not a lost election).
   */
  async putIfRevision(
    key: string,
    revision: number,
    puts: Readonly<Record<string, string>>,
    deletes: readonly string[],
    asLeader: boolean,
  ): Promise<boolean> {
    const relative = this.leadershipKey();
    if (asLeader && (relative === undefined || !this.elected)) return false;
    const txn = this.ns.if(key, 'Mod', '==', revision);
    if (asLeader && relative !== undefined) txn.and(relative, 'Create', '>', 0);
    const res = await this.guard(txn.then(...this.writeOps(puts, deletes)).commit());
    if (!res.succeeded && asLeader && relative !== undefined && !(await this.guard(this.ns.get(relative).exists()))) {
      this.elected = false;
      this.options.onChange();
    }
    return res.succeeded;
  }

  /** This campaign's election key relative to the namespace the transactions run in; undefined before campaigning. */
  private leadershipKey(): string | undefined {
    const key = this.campaignKey;
    if (key === undefined) return undefined;
    return key.startsWith(this.options.prefix) ? key.slice(this.options.prefix.length) : key;
  }

  private writeOps(puts: Readonly<Record<string, string>>, deletes: readonly string[]) {
    return [
      ...Object.entries(puts).map(([k, v]) => this.ns.put(k).value(v)),
      ...deletes.map((k) => this.ns.delete().key(k)),
    ];
  }

  /** Joins the election (etcd3's Election); `leader` turns true when this campaign is the oldest. */
  campaignFor(value: string): void {
    if (this.campaign !== undefined || this.closed) return;
    const campaign = this.election.campaign(value);
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (this.campaign !== campaign) return;
      void campaign.getCampaignKey().then(
        (key) => {
          this.campaignKey = key;
          this.elected = true;
          this.options.onChange();
        },
        (error: unknown) => this.dropCampaign(campaign, error),
      );
    });
    campaign.on('error', (error) => this.dropCampaign(campaign, error));
  }

  /** Leaves the election; the next oldest campaign wins within milliseconds. */
  async resign(): Promise<void> {
    const campaign = this.campaign;
    this.campaign = undefined;
    this.campaignKey = undefined;
    this.elected = false;
    await campaign?.resign().catch(() => undefined);
  }

  /** Wakes the owner on every change under the prefix; the watch re-establishes itself after an outage. */
  async watch(): Promise<void> {
    const watcher = await this.ns.watch().prefix('').create();
    watcher.on('data', () => this.options.onChange());
    watcher.on('connected', () => this.options.onChange());
    watcher.on('disconnected', () => this.options.onChange());
    watcher.on('error', () => this.options.onChange());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.resign();
    await this.lease?.revoke().catch(() => undefined);
    this.client.close();
  }

  private dropCampaign(campaign: Campaign, error: unknown): void {
    if (this.campaign !== campaign) return;
    this.campaign = undefined;
    this.campaignKey = undefined;
    this.elected = false;
    this.state.lastError = error instanceof Error ? error.message : String(error);
    this.options.onChange();
  }

  /**
   * A call that failed after more than twice its deadline did not fail on its merits: this process
   * (or its machine) stalled meanwhile (SIGSTOP, a paused VM, a starved CPU) and the deadline ran out
   * with the answer unread. It is asked once more, so a stall is not reported as an etcd outage.
   */
  private async askedFairly<T>(call: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await call();
    } catch (error) {
      if (Date.now() - started < 2 * this.options.callTimeoutMs) throw error;
      return call();
    }
  }

  private async guard<T>(promise: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`etcd call timed out after ${2 * this.options.callTimeoutMs} ms`)),
        2 * this.options.callTimeoutMs,
      );
    });
    try {
      const value = await Promise.race([promise, deadline]);
      this.ok();
      return value;
    } catch (error) {
      this.fail(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private ok(): void {
    this.state.reachable = true;
  }

  private fail(error: unknown): void {
    this.state.reachable = false;
    this.state.lastError = error instanceof Error ? error.message : String(error);
  }
}
