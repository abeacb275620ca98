-- pgdeck's SQL stand-in for Citus 13.2's node-membership API, part 1 of 3: the catalog.
-- For where the Citus extension is absent (see README, "Citus"). Behaviour follows
-- shared/reference/citus.md, "What a SQL stand-in must reproduce"; test/lab/citus.test.ts runs the
-- same tests against it and against real Citus.
--
-- Citus keeps these objects in pg_catalog, where only allow_system_table_mods could create them.
-- The stand-in keeps them in the schema `citus` and puts that schema on the database's search_path,
-- so unqualified names (pg_dist_node, citus_add_node(...)) resolve the same way against both:
-- callers must not qualify them with pg_catalog. (Real Citus also has a schema `citus`, holding its
-- types such as citus.shard_transfer_mode; the stand-in's types live there too.)
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RAISE EXCEPTION 'the Citus extension is installed in database %: the stand-in is for where it is absent',
      current_database();
  END IF;
  EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, citus', current_database());
END $$;
CREATE SCHEMA citus;
GRANT USAGE ON SCHEMA citus TO PUBLIC;
-- dblink (PostgreSQL contrib) lets the stand-in connect to a node as Citus does.
CREATE EXTENSION dblink SCHEMA citus;
SET search_path = "$user", public, citus;

CREATE TYPE citus.noderole AS ENUM ('primary', 'secondary', 'unavailable');
CREATE TYPE citus.shard_transfer_mode AS ENUM ('auto', 'force_logical', 'block_writes');
CREATE TYPE citus.distribution_type AS ENUM ('hash', 'range', 'append');

-- nodeid and groupid come from sequences: never reused, with gaps (a failed add consumes both).
CREATE SEQUENCE citus.pg_dist_node_nodeid_seq MINVALUE 1;
CREATE SEQUENCE citus.pg_dist_groupid_seq MINVALUE 1;

-- The rows behind the pg_dist_node view. unsynced_at is the stand-in's own column: when an async
-- change (citus_disable_node, citus_update_node) left this node's metadata out of sync.
CREATE TABLE citus.standin_node (
  nodeid integer NOT NULL DEFAULT nextval('citus.pg_dist_node_nodeid_seq'),
  groupid integer NOT NULL DEFAULT nextval('citus.pg_dist_groupid_seq'),
  nodename text NOT NULL,
  nodeport integer NOT NULL DEFAULT 5432,
  noderack text NOT NULL DEFAULT 'default',
  hasmetadata boolean NOT NULL DEFAULT false,
  isactive boolean NOT NULL DEFAULT true,
  noderole citus.noderole NOT NULL DEFAULT 'primary',
  nodecluster name NOT NULL DEFAULT 'default',
  metadatasynced boolean DEFAULT false,
  shouldhaveshards boolean NOT NULL DEFAULT true,
  nodeisclone boolean NOT NULL DEFAULT false,
  nodeprimarynodeid integer NOT NULL DEFAULT 0,
  unsynced_at timestamptz,
  CONSTRAINT pg_dist_node_pkey PRIMARY KEY (nodeid),
  CONSTRAINT pg_dist_node_nodename_nodeport_key UNIQUE (nodename, nodeport),
  CONSTRAINT primaries_are_only_allowed_in_the_default_cluster
    CHECK (NOT (nodecluster <> 'default' AND noderole = 'primary'))
);

-- How long after the committing transaction Citus's maintenance daemon would have pushed an async
-- change to the other nodes (about 0.1 s on the lab machine). NULL holds the out-of-sync state until
-- it is set again: citus_standin_set_sync_delay(NULL) injects it.
CREATE TABLE citus.standin_settings (sync_delay interval);
INSERT INTO citus.standin_settings VALUES (interval '100 milliseconds');

-- 0 on the coordinator (and on a node nobody has added yet); the node's group once a coordinator adds it.
CREATE TABLE citus.pg_dist_local_group (groupid integer NOT NULL);
INSERT INTO citus.pg_dist_local_group VALUES (0);

-- Enough of Citus's shard metadata for drains and the only-placement check; data is never moved.
CREATE TABLE citus.pg_dist_partition (
  logicalrelid regclass NOT NULL,
  partmethod "char" NOT NULL,
  partkey text,
  colocationid integer NOT NULL DEFAULT 0,
  repmodel "char" NOT NULL DEFAULT 'c',
  autoconverted boolean DEFAULT false,
  CONSTRAINT pg_dist_partition_logical_relid_index UNIQUE (logicalrelid)
);
CREATE SEQUENCE citus.pg_dist_shardid_seq MINVALUE 102008;
CREATE TABLE citus.pg_dist_shard (
  logicalrelid regclass NOT NULL,
  shardid bigint NOT NULL,
  shardstorage "char" NOT NULL,
  shardminvalue text,
  shardmaxvalue text,
  CONSTRAINT pg_dist_shard_shardid_index UNIQUE (shardid)
);
CREATE SEQUENCE citus.pg_dist_placement_placementid_seq MINVALUE 1;
CREATE TABLE citus.pg_dist_placement (
  placementid bigint NOT NULL DEFAULT nextval('citus.pg_dist_placement_placementid_seq'),
  shardid bigint NOT NULL,
  shardstate integer NOT NULL,
  shardlength bigint NOT NULL,
  groupid integer NOT NULL,
  CONSTRAINT pg_dist_placement_pkey PRIMARY KEY (placementid)
);

GRANT SELECT ON citus.pg_dist_local_group, citus.pg_dist_partition, citus.pg_dist_shard,
  citus.pg_dist_placement TO PUBLIC;

-- Helpers (standin_*): the checks Citus makes in C, with its messages and SQLSTATEs.

CREATE FUNCTION citus.standin_ensure_coordinator() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT groupid FROM citus.pg_dist_local_group) <> 0 THEN
    RAISE EXCEPTION 'operation is not allowed on this node' USING ERRCODE = 'XX000',
      HINT = 'Connect to the coordinator and run it again.';
  END IF;
END $$;

CREATE FUNCTION citus.standin_ensure_superuser() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'operation is not allowed' USING ERRCODE = 'XX000', HINT = 'Run the command with a superuser.';
  END IF;
END $$;

-- Citus refuses to send metadata to the other nodes while one of them is out of sync.
CREATE FUNCTION citus.standin_error_if_out_of_sync(except_nodeid integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  n record;
BEGIN
  SELECT nodename, nodeport INTO n FROM citus.pg_dist_node
  WHERE isactive AND noderole = 'primary' AND groupid <> 0 AND hasmetadata AND NOT coalesce(metadatasynced, false)
    AND nodeid IS DISTINCT FROM except_nodeid
  ORDER BY nodeid LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION '%:% is a metadata node, but is out of sync', n.nodename, n.nodeport USING ERRCODE = '55000',
      HINT = 'If the node is up, wait until metadata gets synced to it and try again.';
  END IF;
END $$;

-- The node to change, locked as Citus locks pg_dist_node (one membership change at a time).
CREATE FUNCTION citus.standin_modifiable_node(host text, port integer) RETURNS citus.standin_node
LANGUAGE plpgsql AS $$
DECLARE
  node citus.standin_node;
BEGIN
  PERFORM citus.standin_ensure_coordinator();
  LOCK TABLE citus.standin_node IN EXCLUSIVE MODE;
  PERFORM citus.standin_settle_sync();
  SELECT * INTO node FROM citus.standin_node WHERE nodename = host AND nodeport = port;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'node at "%:%" does not exist', host, port USING ERRCODE = 'XX000';
  END IF;
  RETURN node;
END $$;

-- The first worker: the smallest (nodename, nodeport) among active primary workers.
CREATE FUNCTION citus.standin_first_worker() RETURNS integer LANGUAGE sql AS $$
  SELECT nodeid FROM citus.standin_node WHERE isactive AND noderole = 'primary' AND groupid <> 0
  ORDER BY nodename COLLATE "C", nodeport LIMIT 1;
$$;

CREATE FUNCTION citus.citus_standin_set_sync_delay(delay interval) RETURNS void LANGUAGE sql AS $$
  UPDATE citus.standin_settings SET sync_delay = delay;
$$;

-- Connecting to a node as Citus does: the caller's user and database, citus.node_connection_timeout.

CREATE FUNCTION citus.standin_quote(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT '''' || replace(replace(value, '\', '\\'), '''', '\''') || '''';
$$;

CREATE FUNCTION citus.standin_connection_timeout_ms() RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN v ~ '^[0-9]+$' THEN v::integer ELSE (extract(epoch FROM v::interval) * 1000)::integer END
  FROM coalesce(nullif(current_setting('citus.node_connection_timeout', true), ''), '30s') AS v;
$$;

-- The session's connection to a node, one per (host, port, role), kept open between calls as
-- Citus caches its connections to the workers (citus.max_cached_conns_per_worker).
CREATE FUNCTION citus.standin_connection_name(host text, port integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT format('citus_standin_%s_%s', port, md5(host || '/' || current_user));
$$;

-- Whether the session's cached connection to the node answers a query now.
CREATE FUNCTION citus.standin_cached_alive(conn text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT conn = ANY (coalesce(citus.dblink_get_connections(), '{}')) THEN
    RETURN false;
  END IF;
  PERFORM * FROM citus.dblink(conn, 'SELECT 1') AS t(one integer);
  RETURN true;
EXCEPTION WHEN OTHERS THEN
  RETURN false;
END $$;

-- A working connection to the node and its name: the cached one while it answers, else a new one; a
-- failure raises Citus's 08006 error, with libpq's message minus its "connection to server at ..."
-- prefix (Citus prints its own).
CREATE FUNCTION citus.standin_connect(host text, port integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  conn text := citus.standin_connection_name(host, port);
  timeout_ms integer;
  detail text;
BEGIN
  IF citus.standin_cached_alive(conn) THEN
    RETURN conn;
  END IF;
  IF conn = ANY (coalesce(citus.dblink_get_connections(), '{}')) THEN
    PERFORM citus.dblink_disconnect(conn);
  END IF;
  timeout_ms := citus.standin_connection_timeout_ms();
  FOR attempt IN 1..2 LOOP
    BEGIN
      PERFORM citus.dblink_connect(conn, format(
        'host=%s port=%s dbname=%s user=%s connect_timeout=%s application_name=citus_standin',
        citus.standin_quote(host), port, citus.standin_quote(current_database()), citus.standin_quote(current_user),
        greatest(2, ceil(timeout_ms / 1000.0)::integer)));
      RETURN conn;
    EXCEPTION WHEN sqlclient_unable_to_establish_sqlconnection THEN
      GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    END;
    detail := regexp_replace(rtrim(detail, E'\n'),
      '^connection to server (at "[^"]*"( \([^)]*\))?(, port [0-9]+)?|on socket "[^"]*") failed: ', '');
    EXIT WHEN detail NOT LIKE '%timeout expired%';
    -- A node that accepts and never answers: Citus tries twice, then fails without libpq's text.
    RAISE WARNING 'could not establish connection after % ms', timeout_ms;
    detail := NULL;
  END LOOP;
  IF detail IS NULL THEN
    RAISE EXCEPTION 'connection to the remote node %@%:% failed', current_user, host, port USING ERRCODE = '08006';
  END IF;
  RAISE EXCEPTION 'connection to the remote node %@%:% failed with the following error: %', current_user, host, port,
    detail USING ERRCODE = '08006';
END $$;

-- Activating a node: connect (so an unreachable node fails as on Citus) and, when the node has the
-- stand-in too, tell it its group, so coordinator-only calls run there fail as they do on a Citus
-- worker. That remote write is not undone by a ROLLBACK here (Citus would use 2PC).
CREATE FUNCTION citus.standin_join_node(host text, port integer, group_id integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM citus.dblink_exec(citus.standin_connect(host, port), format($join$DO $do$ BEGIN
    IF to_regclass('citus.pg_dist_local_group') IS NOT NULL THEN
      UPDATE citus.pg_dist_local_group SET groupid = %s;
    END IF; END $do$ $join$, group_id));
END $$;

-- The answer to a ping sent on a cached connection: true when it came, false when the connection failed.
CREATE FUNCTION citus.standin_ping_answered(conn text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM * FROM citus.dblink_get_result(conn) AS t(one integer);
  PERFORM * FROM citus.dblink_get_result(conn) AS t(one integer);
  RETURN true;
EXCEPTION WHEN OTHERS THEN
  RETURN false;
END $$;

-- Citus writes every membership change to the metadata workers too, in the same 2PC transaction, over
-- its cached connections, sent to all of them at once: it refuses while one of them is out of sync and
-- fails when one cannot be reached (08006 naming it). The stand-in checks both, pinging every cached
-- connection at once and connecting where there is none or it failed, once per node per transaction
-- (the nodes checked are kept in a transaction-local setting), and keeps the rows on the coordinator only.
CREATE FUNCTION citus.standin_push_metadata(except_nodeid integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET client_min_messages = warning AS $$
DECLARE
  checked integer[] := coalesce(nullif(current_setting('citus_standin.pushed', true), ''), '{}')::integer[];
  open text[] := coalesce(citus.dblink_get_connections(), '{}');
  ids integer[];
  hosts text[];
  ports integer[];
  conns text[];
  pinged text[] := '{}';
BEGIN
  PERFORM citus.standin_error_if_out_of_sync(except_nodeid);
  SELECT coalesce(array_agg(nodeid ORDER BY nodeid), '{}'), array_agg(nodename ORDER BY nodeid),
    array_agg(nodeport ORDER BY nodeid), array_agg(citus.standin_connection_name(nodename, nodeport) ORDER BY nodeid)
  INTO ids, hosts, ports, conns
  FROM citus.standin_node
  WHERE isactive AND noderole = 'primary' AND groupid <> 0 AND hasmetadata AND nodeid IS DISTINCT FROM except_nodeid
    AND NOT nodeid = ANY (checked);
  FOR i IN 1..cardinality(ids) LOOP
    IF conns[i] = ANY (open) AND citus.dblink_send_query(conns[i], 'SELECT 1') = 1 THEN
      pinged := pinged || conns[i];
    END IF;
  END LOOP;
  FOR i IN 1..cardinality(ids) LOOP
    IF NOT (conns[i] = ANY (pinged) AND citus.standin_ping_answered(conns[i])) THEN
      PERFORM citus.standin_connect(hosts[i], ports[i]);
    END IF;
  END LOOP;
  PERFORM set_config('citus_standin.pushed', (checked || ids)::text, true);
END $$;

-- Whether the node accepts a connection now (for the sync state, so callable by every role).
CREATE FUNCTION citus.standin_reachable(host text, port integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = citus, pg_catalog AS $$
BEGIN
  PERFORM citus.standin_connect(host, port);
  RETURN true;
EXCEPTION WHEN connection_failure THEN
  RETURN false;
END $$;

-- What the maintenance daemon would have synced by now becomes stored state before a change.
CREATE FUNCTION citus.standin_settle_sync() RETURNS void LANGUAGE sql AS $$
  UPDATE citus.standin_node n SET metadatasynced = true, unsynced_at = NULL
  FROM citus.standin_settings s
  WHERE n.unsynced_at IS NOT NULL AND n.isactive AND now() > n.unsynced_at + s.sync_delay
    AND citus.standin_reachable(n.nodename, n.nodeport);
$$;

-- A node counts as synced once a transaction (now() is its start) begins after the delay, as if the
-- daemon had pushed the change (it cannot before the change commits either), and only while the
-- node can be reached: the daemon cannot sync a node that is down, which keeps it out of sync.
CREATE VIEW citus.pg_dist_node AS
SELECT n.nodeid, n.groupid, n.nodename, n.nodeport, n.noderack, n.hasmetadata, n.isactive, n.noderole,
  n.nodecluster,
  CASE WHEN n.unsynced_at IS NOT NULL AND n.isactive AND now() > n.unsynced_at + s.sync_delay
    THEN citus.standin_reachable(n.nodename, n.nodeport) ELSE n.metadatasynced END AS metadatasynced,
  n.shouldhaveshards, n.nodeisclone, n.nodeprimarynodeid
FROM citus.standin_node n CROSS JOIN citus.standin_settings s;

GRANT SELECT ON citus.pg_dist_node TO PUBLIC;
