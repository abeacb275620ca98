import type { Client } from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/lab/procs/ports.js';
import type { CitusNode } from '../../src/lab/procs/citus.js';
import {
  addNode,
  citusCases,
  nodeRow,
  resetMembership,
  sqlFailure,
  waitMetadataSynced,
  withCitus,
  type CitusTestCluster,
} from '../helpers/citus.js';

// The behaviour the citus-sync agent relies on (shared/reference/citus.md), run against real Citus
// 13.2.2 and against the SQL stand-in: the same SQL, the same answers.

const PG_DIST_NODE_COLUMNS = [
  ['nodeid', 'integer'],
  ['groupid', 'integer'],
  ['nodename', 'text'],
  ['nodeport', 'integer'],
  ['noderack', 'text'],
  ['hasmetadata', 'boolean'],
  ['isactive', 'boolean'],
  ['noderole', 'noderole'],
  ['nodecluster', 'name'],
  ['metadatasynced', 'boolean'],
  ['shouldhaveshards', 'boolean'],
  ['nodeisclone', 'boolean'],
  ['nodeprimarynodeid', 'integer'],
];

const ONLY_PLACEMENT_HINT =
  'To proceed, either drop the tables or use undistribute_table() function to convert them to local tables';

describe.each(citusCases())('Citus node membership against $label', ({ mode, skip }) => {
  describe.skipIf(skip !== undefined)(skip ?? 'a coordinator and two workers', () => {
    const lab = withCitus({ mode, workers: 2 });
    let t: CitusTestCluster;
    let db: Client;
    /** Citus's "first worker": the smallest (nodename, nodeport); `other` is the second one. */
    let first: CitusNode;
    let other: CitusNode;

    const registerCoordinator = async (host = '127.0.0.1'): Promise<void> => {
      await db.query('SELECT citus_set_coordinator_host($1, $2)', [host, t.cluster.coordinator.port]);
    };
    const registerAll = async (): Promise<void> => {
      await registerCoordinator();
      for (const w of t.cluster.workers) await addNode(db, w);
    };

    beforeEach(async () => {
      t = lab();
      db = t.coordinator;
      [first, other] = [...t.cluster.workers].sort((a, b) => a.port - b.port) as [CitusNode, CitusNode];
      await resetMembership(db, ['items']);
    });

    it('has the pg_dist_node shape of Citus 13.2-1 and starts empty', async () => {
      const columns = await db.query<{ name: string; type: string }>(
        `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
         WHERE attrelid = 'pg_dist_node'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      );
      expect(columns.rows.map((r) => [r.name, r.type])).toEqual(PG_DIST_NODE_COLUMNS);
      expect((await db.query('SELECT * FROM pg_dist_node')).rows).toEqual([]);
      expect((await db.query('SELECT citus_is_coordinator() AS c')).rows[0]).toEqual({ c: false });
      const version = (await db.query<{ v: string }>('SELECT citus_version() AS v')).rows[0]!.v;
      expect(version).toMatch(/^Citus 13\.2\.2 /);
    });

    it('registers the coordinator in group 0 without shards and updates its host in place', async () => {
      await registerCoordinator('localhost');
      const before = await nodeRow(db, { ...t.cluster.coordinator, host: 'localhost' });
      expect(before).toMatchObject({ groupid: 0, isactive: true, hasmetadata: true, shouldhaveshards: false });
      await registerCoordinator('127.0.0.1');
      await registerCoordinator('127.0.0.1');
      const after = await nodeRow(db, t.cluster.coordinator);
      expect(after).toEqual({ ...before, nodename: '127.0.0.1' });
      expect((await db.query('SELECT count(*)::int AS n FROM pg_dist_node')).rows[0]).toEqual({ n: 1 });
    });

    it('adds a worker active with synced metadata; adding it again returns its nodeid and changes nothing', async () => {
      await registerCoordinator();
      const id = await addNode(db, first);
      const added = await nodeRow(db, first);
      expect(added).toMatchObject({
        nodeid: id,
        isactive: true,
        noderole: 'primary',
        hasmetadata: true,
        metadatasynced: true,
        shouldhaveshards: true,
      });
      expect(added!.groupid).toBeGreaterThan(0);
      const again = await db.query<{ id: number }>("SELECT citus_add_node($1, $2, 4242, 'secondary') AS id", [
        first.host,
        first.port,
      ]);
      expect(again.rows[0]!.id).toBe(id);
      expect(await nodeRow(db, first)).toEqual(added);
      expect((await db.query('SELECT citus_is_coordinator() AS c')).rows[0]).toEqual({ c: true });
    });

    it('refuses a port nobody listens on with 08006 and the Citus text, and consumes a nodeid', async () => {
      await registerCoordinator();
      const firstId = await addNode(db, first);
      const port = await freePort();
      const failure = await sqlFailure(db, 'SELECT citus_add_node($1, $2)', ['127.0.0.1', port]);
      expect(failure.code).toBe('08006');
      expect(failure.message).toBe(
        `connection to the remote node postgres@127.0.0.1:${port} failed with the following error: Connection refused\n` +
          '\tIs the server running on that host and accepting TCP/IP connections?',
      );
      expect(await nodeRow(db, { ...first, port })).toBeUndefined();
      expect(await addNode(db, other)).toBeGreaterThan(firstId + 1);
    });

    it('does not re-activate a disabled node on add; citus_activate_node does', async () => {
      await registerAll();
      const id = (await nodeRow(db, other))!.nodeid;
      await db.query('SELECT citus_disable_node($1, $2, synchronous => true)', [other.host, other.port]);
      expect(await nodeRow(db, other)).toMatchObject({ isactive: false, metadatasynced: true });
      expect(await addNode(db, other)).toBe(id);
      expect(await nodeRow(db, other)).toMatchObject({ isactive: false });
      const active = await db.query<{ node_port: string }>('SELECT node_port FROM citus_get_active_worker_nodes()');
      expect(active.rows).toEqual([{ node_port: String(first.port) }]);
      const activated = await db.query('SELECT citus_activate_node($1, $2) AS id', [other.host, other.port]);
      expect(activated.rows[0]).toEqual({ id });
      expect(await nodeRow(db, other)).toMatchObject({ isactive: true, hasmetadata: true, metadatasynced: true });
    });

    it('refuses an async disable of the first worker (55000) and any disable of the coordinator', async () => {
      await registerAll();
      const firstWorker = await sqlFailure(db, 'SELECT citus_disable_node($1, $2)', [first.host, first.port]);
      expect(firstWorker).toMatchObject({
        code: '55000',
        message: 'disabling the first worker node in the metadata is not allowed',
        hint: `You can force disabling node, SELECT citus_disable_node('${first.host}', ${first.port}, synchronous:=true);`,
      });
      expect(firstWorker.detail).toMatch(/^Citus uses the first worker node in the metadata /);
      const coordinator = await sqlFailure(db, 'SELECT citus_disable_node($1, $2, true)', [
        t.cluster.coordinator.host,
        t.cluster.coordinator.port,
      ]);
      expect(coordinator).toMatchObject({
        code: 'XX000',
        message: 'cannot change "isactive" field of the coordinator node',
      });
      expect(await nodeRow(db, first)).toMatchObject({ isactive: true });
    });

    it('is out of sync after an async disable until the metadata is pushed, then activates', async () => {
      await registerAll();
      const outOfSync = {
        code: '55000',
        message: `${first.host}:${first.port} is a metadata node, but is out of sync`,
        hint: 'If the node is up, wait until metadata gets synced to it and try again.',
      };
      await db.query('BEGIN');
      try {
        await db.query('SELECT citus_disable_node($1, $2)', [other.host, other.port]);
        expect(await nodeRow(db, first)).toMatchObject({ isactive: true, metadatasynced: false });
        expect(await sqlFailure(db, 'SELECT citus_activate_node($1, $2)', [other.host, other.port])).toMatchObject(
          outOfSync,
        );
      } finally {
        await db.query('ROLLBACK');
      }
      expect(await nodeRow(db, other)).toMatchObject({ isactive: true, metadatasynced: true });
      await db.query('SELECT citus_disable_node($1, $2)', [other.host, other.port]);
      expect(await nodeRow(db, other)).toMatchObject({ isactive: false, metadatasynced: false });
      await waitMetadataSynced(db);
      await db.query('SELECT citus_activate_node($1, $2)', [other.host, other.port]);
      expect(await nodeRow(db, other)).toMatchObject({ isactive: true, metadatasynced: true });
    });

    it('names an unknown node: "does not exist" (XX000) for remove, activate and disable, "not found" (P0002) for drain', async () => {
      await registerCoordinator();
      const port = await freePort();
      for (const fn of ['citus_remove_node', 'citus_activate_node', 'citus_disable_node']) {
        expect(await sqlFailure(db, `SELECT ${fn}($1, $2)`, ['127.0.0.1', port])).toMatchObject({
          code: 'XX000',
          message: `node at "127.0.0.1:${port}" does not exist`,
        });
      }
      expect(await sqlFailure(db, 'SELECT citus_drain_node($1, $2)', ['127.0.0.1', port])).toMatchObject({
        code: 'P0002',
        message: `node 127.0.0.1:${port} not found`,
      });
    });

    it('has no force argument on citus_disable_node', async () => {
      expect(await sqlFailure(db, "SELECT citus_disable_node('127.0.0.1', 5432, force => true)")).toMatchObject({
        code: '42883',
        message: 'function citus_disable_node(unknown, integer, force => boolean) does not exist',
      });
    });

    it('returns NULL for a NULL host or port and changes nothing (STRICT)', async () => {
      await registerCoordinator();
      const res = await db.query('SELECT citus_add_node(NULL, $1) AS a, citus_add_node($2, NULL) AS b', [
        first.port,
        first.host,
      ]);
      expect(res.rows).toEqual([{ a: null, b: null }]);
      expect((await db.query('SELECT count(*)::int AS n FROM pg_dist_node')).rows[0]).toEqual({ n: 1 });
    });

    it('refuses membership changes on a worker and from a role without EXECUTE', async () => {
      await registerAll();
      const worker = await t.connect(first);
      expect(await sqlFailure(worker, 'SELECT citus_add_node($1, $2)', [other.host, other.port])).toMatchObject({
        code: 'XX000',
        message: 'operation is not allowed on this node',
        hint: 'Connect to the coordinator and run it again.',
      });
      await db.query('BEGIN');
      try {
        await db.query('CREATE ROLE pgdeck_citus_probe NOLOGIN');
        await db.query('SET LOCAL ROLE pgdeck_citus_probe');
        expect(await sqlFailure(db, 'SELECT citus_add_node($1, $2)', [other.host, other.port])).toMatchObject({
          code: '42501',
          message: 'permission denied for function citus_add_node',
        });
      } finally {
        await db.query('ROLLBACK');
      }
    });

    it('undoes a membership change on ROLLBACK', async () => {
      await registerCoordinator();
      await db.query('BEGIN');
      const id = await addNode(db, first).finally(() => db.query('ROLLBACK'));
      expect(await nodeRow(db, first)).toBeUndefined();
      expect(await addNode(db, first)).toBeGreaterThan(id);
    });

    it('refuses new workers while the coordinator host is localhost', async () => {
      await registerCoordinator('localhost');
      expect(await sqlFailure(db, 'SELECT citus_add_node($1, $2)', [first.host, first.port])).toEqual({
        code: 'XX000',
        message: 'cannot add a worker node when the coordinator hostname is set to localhost',
        detail: 'Worker nodes need to be able to connect to the coordinator to transfer data.',
        hint: "Use SELECT citus_set_coordinator_host('<hostname>') to configure the coordinator hostname",
      });
    });

    it('refuses citus_update_node to a taken address (55000) or an unknown nodeid (P0002)', async () => {
      await registerAll();
      const row = (await nodeRow(db, first))!;
      expect(
        await sqlFailure(db, 'SELECT citus_update_node($1, $2, $3)', [row.nodeid, other.host, other.port]),
      ).toMatchObject({ code: '55000', message: 'there is already another node with the specified hostname and port' });
      expect(await sqlFailure(db, 'SELECT citus_update_node($1, $2, $3)', [987654, '127.0.0.1', 1])).toMatchObject({
        code: 'P0002',
        message: 'node 987654 not found',
      });
      await db.query('SELECT citus_update_node($1, $2, $3)', [row.nodeid, first.host, first.port]);
      expect(await nodeRow(db, first)).toEqual(row);
    });

    it('fails a change while a metadata worker is down, naming it, until that worker is disabled', async () => {
      await registerCoordinator();
      await addNode(db, first);
      await first.stop();
      // A new session: `db` talked to `first` before the stop, and real Citus fails once on such a
      // cached connection instead: XX000 "failure on connection marked as essential: <host>:<port>".
      const fresh = await t.connect(t.cluster.coordinator);
      try {
        expect(await sqlFailure(fresh, 'SELECT citus_add_node($1, $2)', [other.host, other.port])).toEqual({
          code: '08006',
          message: `connection to the remote node postgres@${first.host}:${first.port} failed with the following error: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?`,
          detail: undefined,
          hint: undefined,
        });
        expect(await nodeRow(fresh, other)).toBeUndefined();
        await fresh.query('SELECT citus_disable_node($1, $2, synchronous => true)', [first.host, first.port]);
        await addNode(fresh, other);
        const active = await fresh.query<{ node_port: string }>(
          'SELECT node_port FROM citus_get_active_worker_nodes()',
        );
        expect(active.rows).toEqual([{ node_port: String(other.port) }]);
      } finally {
        await first.server.start();
      }
      await fresh.query('SELECT citus_activate_node($1, $2)', [first.host, first.port]);
      expect(await nodeRow(fresh, first)).toMatchObject({ isactive: true, metadatasynced: true });
      const stale = await db.query('SELECT citus_activate_node($1, $2)', [first.host, first.port]).then(
        () => 'ok',
        (error: Error) => error.message,
      );
      expect(['ok', `failure on connection marked as essential: ${first.host}:${first.port}`]).toContain(stale);
      await db.query('SELECT citus_activate_node($1, $2)', [first.host, first.port]);
    });

    describe('with a distributed table', () => {
      const ROWS = 1000;
      beforeEach(async () => {
        await registerAll();
        await db.query('CREATE TABLE items (id integer PRIMARY KEY, v text)');
        await db.query("SELECT create_distributed_table('items', 'id', shard_count => 4)");
        await db.query("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, $1::int) g", [ROWS]);
      });

      const placementsOn = async (node: CitusNode): Promise<number[]> =>
        (
          await db.query<{ shardid: string }>(
            `SELECT p.shardid FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
             JOIN pg_dist_shard s ON s.shardid = p.shardid
             WHERE n.nodename = $1 AND n.nodeport = $2 AND s.logicalrelid = 'items'::regclass ORDER BY p.shardid`,
            [node.host, node.port],
          )
        ).rows.map((r) => Number(r.shardid));

      it('refuses to remove or disable a worker that holds the only placement of a shard', async () => {
        const shards = await placementsOn(other);
        expect(shards.length).toBe(2);
        const refused = {
          code: 'XX000',
          message: `cannot remove or disable the node ${other.host}:${other.port} because because it contains the only shard placement for shard ${shards[0]}`,
          detail: 'One of the table(s) that prevents the operation complete successfully is public.items',
          hint: ONLY_PLACEMENT_HINT,
        };
        expect(await sqlFailure(db, 'SELECT citus_remove_node($1, $2)', [other.host, other.port])).toEqual(refused);
        expect(await sqlFailure(db, 'SELECT citus_disable_node($1, $2, true)', [other.host, other.port])).toEqual(
          refused,
        );
        expect(await nodeRow(db, other)).toMatchObject({ isactive: true });
      });

      it('drains a worker onto the other, then removes it; a re-add gets a new nodeid and group', async () => {
        const before = (await nodeRow(db, other))!;
        const moved = await placementsOn(other);
        await db.query('SELECT citus_drain_node($1, $2)', [other.host, other.port]);
        expect(await placementsOn(other)).toEqual([]);
        expect(await placementsOn(first)).toEqual(expect.arrayContaining(moved));
        expect(await nodeRow(db, other)).toEqual({ ...before, shouldhaveshards: false });
        expect((await db.query('SELECT count(*)::int AS n FROM items')).rows[0]).toEqual({ n: ROWS });
        await db.query('SELECT citus_remove_node($1, $2)', [other.host, other.port]);
        expect(await nodeRow(db, other)).toBeUndefined();
        await addNode(db, other);
        const readded = (await nodeRow(db, other))!;
        expect(readded.nodeid).toBeGreaterThan(before.nodeid);
        expect(readded.groupid).not.toBe(before.groupid);
      });

      it('keeps shouldhaveshards=f when a drain fails for want of a node to move to', async () => {
        await db.query('SELECT citus_drain_node($1, $2)', [first.host, first.port]);
        const shards = await placementsOn(other);
        expect(shards.length).toBe(4);
        expect(await sqlFailure(db, 'SELECT citus_drain_node($1, $2)', [other.host, other.port])).toMatchObject({
          code: 'XX000',
          message:
            'Shard replication factor (1) cannot be greater than number of nodes with should_have_shards=true (0).',
        });
        expect(await nodeRow(db, other)).toMatchObject({ isactive: true, shouldhaveshards: false });
        expect(await placementsOn(other)).toEqual(shards);
      });
    });
  });
});
