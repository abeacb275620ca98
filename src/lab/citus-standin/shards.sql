-- pgdeck's SQL stand-in for Citus 13.2, part 3 of 3: shards (metadata only: create_distributed_table
-- records shards and placements, citus_drain_node moves placements; table data stays on the
-- coordinator), the read-only functions, and privileges.
SET search_path = "$user", public, citus;

-- Citus refuses to remove or disable a node that holds the only active placement of a shard,
-- naming the smallest such shard.
CREATE FUNCTION citus.standin_error_if_only_placement(node citus.standin_node) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  blocker record;
BEGIN
  SELECT p.shardid, format('%I.%I', ns.nspname, c.relname) AS relation INTO blocker
  FROM citus.pg_dist_placement p
  JOIN citus.pg_dist_shard s ON s.shardid = p.shardid
  JOIN pg_class c ON c.oid = s.logicalrelid
  JOIN pg_namespace ns ON ns.oid = c.relnamespace
  WHERE p.groupid = node.groupid AND NOT EXISTS (
    SELECT 1 FROM citus.pg_dist_placement o JOIN citus.standin_node n ON n.groupid = o.groupid
    WHERE o.shardid = p.shardid AND o.groupid <> node.groupid AND o.shardstate = 1 AND n.isactive)
  ORDER BY p.shardid, p.placementid LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'cannot remove or disable the node %:% because because it contains the only shard placement for shard %',
      node.nodename, node.nodeport, blocker.shardid USING ERRCODE = 'XX000',
      DETAIL = format('One of the table(s) that prevents the operation complete successfully is %s', blocker.relation),
      HINT = 'To proceed, either drop the tables or use undistribute_table() function to convert them to local tables';
  END IF;
END $$;

-- Hash-distributes the table's metadata: citus.shard_count shards (default 32) over the active
-- primaries that should have shards, round-robin in (nodename, nodeport) order, one placement each.
CREATE FUNCTION citus.create_distributed_table(table_name regclass, distribution_column text,
  distribution_type citus.distribution_type DEFAULT 'hash', colocate_with text DEFAULT 'default',
  shard_count integer DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  shards integer := coalesce(shard_count, nullif(current_setting('citus.shard_count', true), '')::integer, 32);
  groups integer[];
  step bigint;
  shard bigint;
BEGIN
  PERFORM citus.standin_ensure_coordinator();
  IF distribution_type <> 'hash' THEN
    RAISE EXCEPTION 'the stand-in distributes by hash only' USING ERRCODE = '0A000';
  END IF;
  IF EXISTS (SELECT 1 FROM citus.pg_dist_partition WHERE logicalrelid = table_name) THEN
    RAISE EXCEPTION 'table "%" is already distributed', table_name USING ERRCODE = '42P07';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = table_name AND attname = distribution_column
      AND attnum > 0 AND NOT attisdropped) THEN
    RAISE EXCEPTION 'column "%" of relation "%" does not exist', distribution_column, table_name
      USING ERRCODE = '42703';
  END IF;
  groups := ARRAY(SELECT groupid FROM citus.standin_node WHERE isactive AND noderole = 'primary' AND shouldhaveshards
    ORDER BY nodename COLLATE "C", nodeport);
  IF cardinality(groups) = 0 THEN
    RAISE EXCEPTION 'no worker nodes are available for placing shards' USING ERRCODE = 'XX000',
      HINT = 'Add more worker nodes.';
  END IF;
  INSERT INTO citus.pg_dist_partition (logicalrelid, partmethod, partkey, repmodel)
  VALUES (table_name, 'h', distribution_column, 's');
  step := (4294967296 / shards)::bigint;
  FOR i IN 0 .. shards - 1 LOOP
    shard := nextval('citus.pg_dist_shardid_seq');
    INSERT INTO citus.pg_dist_shard VALUES (table_name, shard, 't', (-2147483648 + i * step)::text,
      (CASE WHEN i = shards - 1 THEN 2147483647 ELSE -2147483648 + (i + 1) * step - 1 END)::text);
    INSERT INTO citus.pg_dist_placement (shardid, shardstate, shardlength, groupid)
    VALUES (shard, 1, 0, groups[i % cardinality(groups) + 1]);
  END LOOP;
END $$;

-- Dropping a distributed table drops its metadata, as Citus does.
CREATE FUNCTION citus.standin_drop_metadata() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM citus.pg_dist_placement WHERE shardid IN (SELECT shardid FROM citus.pg_dist_shard
    WHERE logicalrelid::oid IN (SELECT objid FROM pg_event_trigger_dropped_objects() WHERE object_type = 'table'));
  DELETE FROM citus.pg_dist_shard
  WHERE logicalrelid::oid IN (SELECT objid FROM pg_event_trigger_dropped_objects() WHERE object_type = 'table');
  DELETE FROM citus.pg_dist_partition
  WHERE logicalrelid::oid IN (SELECT objid FROM pg_event_trigger_dropped_objects() WHERE object_type = 'table');
END $$;
CREATE EVENT TRIGGER citus_standin_drop ON sql_drop EXECUTE FUNCTION citus.standin_drop_metadata();

-- Synchronous: sets shouldhaveshards=f, then moves every placement off the node to the active
-- primary that should have shards and has the fewest placements; the row stays.
CREATE FUNCTION citus.citus_drain_node(nodename text, nodeport integer,
  shard_transfer_mode citus.shard_transfer_mode DEFAULT 'auto', rebalance_strategy name DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  node citus.standin_node;
  placement record;
  target citus.standin_node;
  conn text;
  allowed integer;
BEGIN
  IF $1 IS NULL OR $2 IS NULL OR $3 IS NULL THEN
    RAISE EXCEPTION '% cannot be NULL', CASE WHEN $1 IS NULL THEN 'nodename' WHEN $2 IS NULL THEN 'nodeport'
      ELSE 'shard_transfer_mode' END USING ERRCODE = '22004';
  END IF;
  SELECT * INTO node FROM citus.standin_node n WHERE n.nodename = $1 AND n.nodeport = $2;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'node %:% not found', $1, $2 USING ERRCODE = 'P0002';
  END IF;
  -- Citus sets shouldhaveshards=f in a separate session, so it stays when the drain fails midway; a
  -- transaction that already changed the membership holds the lock that session would wait for.
  IF EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'
      AND relation = 'citus.standin_node'::regclass AND mode <> 'AccessShareLock') THEN
    PERFORM citus.citus_set_node_property($1, $2, 'shouldhaveshards', false);
  ELSE
    conn := citus.standin_connect(coalesce(nullif(current_setting('citus.local_hostname', true), ''), 'localhost'),
      current_setting('port')::integer);
    PERFORM * FROM citus.dblink(conn, format('SELECT citus_set_node_property(%L, %s, %L, false)', $1, $2,
      'shouldhaveshards')) AS t(done text);
    PERFORM citus.dblink_disconnect(conn);
  END IF;
  allowed := (SELECT count(*) FROM citus.standin_node n
    WHERE n.isactive AND n.noderole = 'primary' AND n.shouldhaveshards AND n.nodeid <> node.nodeid);
  IF allowed < 1 AND EXISTS (SELECT 1 FROM citus.pg_dist_partition) THEN
    RAISE EXCEPTION 'Shard replication factor (1) cannot be greater than number of nodes with should_have_shards=true (%).',
      allowed USING ERRCODE = 'XX000';
  END IF;
  FOR placement IN SELECT placementid, shardid FROM citus.pg_dist_placement WHERE groupid = node.groupid
      ORDER BY shardid LOOP
    SELECT * INTO target FROM citus.standin_node n
    WHERE n.isactive AND n.noderole = 'primary' AND n.shouldhaveshards AND n.groupid <> node.groupid
      AND NOT EXISTS (SELECT 1 FROM citus.pg_dist_placement o WHERE o.shardid = placement.shardid AND o.groupid = n.groupid)
    ORDER BY (SELECT count(*) FROM citus.pg_dist_placement o WHERE o.groupid = n.groupid), n.nodename COLLATE "C", n.nodeport
    LIMIT 1;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no node can take shard % off %:%', placement.shardid, $1, $2 USING ERRCODE = 'XX000';
    END IF;
    RAISE NOTICE 'Moving shard % from %:% to %:% ...', placement.shardid, $1, $2, target.nodename, target.nodeport;
    UPDATE citus.pg_dist_placement SET groupid = target.groupid WHERE placementid = placement.placementid;
  END LOOP;
END $$;

-- Read-only functions, open to every role as in Citus.

-- Active primaries other than the coordinator, from the metadata only (a stopped worker is listed).
CREATE FUNCTION citus.citus_get_active_worker_nodes(OUT node_name text, OUT node_port bigint) RETURNS SETOF record
LANGUAGE sql STRICT AS $$
  SELECT nodename, nodeport::bigint FROM citus.standin_node WHERE isactive AND noderole = 'primary' AND groupid <> 0
  ORDER BY nodename COLLATE "C", nodeport;
$$;

CREATE FUNCTION citus.master_get_active_worker_nodes(OUT node_name text, OUT node_port bigint) RETURNS SETOF record
LANGUAGE sql STRICT AS $$ SELECT * FROM citus.citus_get_active_worker_nodes() $$;

CREATE FUNCTION citus.citus_check_connection_to_node(nodename text, nodeport integer DEFAULT 5432) RETURNS boolean
LANGUAGE plpgsql STRICT AS $$
DECLARE
  message text;
BEGIN
  PERFORM citus.dblink_disconnect(citus.standin_connect($1, $2));
  RETURN true;
EXCEPTION WHEN connection_failure THEN
  GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
  RAISE WARNING '%', message USING ERRCODE = '08006';
  RETURN false;
END $$;

-- Every node's view of every node (self-pairs included). The coordinator's own row is answered
-- here; every other node is asked over dblink and must have the stand-in; a node that cannot be
-- reached gives NULL on each of its rows.
CREATE FUNCTION citus.citus_check_cluster_node_health(OUT from_nodename text, OUT from_nodeport integer,
  OUT to_nodename text, OUT to_nodeport integer, OUT result boolean) RETURNS SETOF record
LANGUAGE plpgsql STRICT AS $$
DECLARE
  src citus.standin_node;
  dst citus.standin_node;
  conn text;
BEGIN
  FOR src IN SELECT * FROM citus.standin_node ORDER BY nodeid LOOP
    conn := NULL;
    IF src.groupid <> (SELECT groupid FROM citus.pg_dist_local_group) THEN
      BEGIN
        conn := citus.standin_connect(src.nodename, src.nodeport);
      EXCEPTION WHEN connection_failure THEN
        RAISE WARNING '%', SQLERRM USING ERRCODE = '08006';
        conn := '';
      END;
    END IF;
    FOR dst IN SELECT * FROM citus.standin_node ORDER BY nodeid LOOP
      from_nodename := src.nodename;
      from_nodeport := src.nodeport;
      to_nodename := dst.nodename;
      to_nodeport := dst.nodeport;
      result := CASE
        WHEN conn IS NULL THEN citus.citus_check_connection_to_node(dst.nodename, dst.nodeport)
        WHEN conn = '' THEN NULL
        ELSE (SELECT ok FROM citus.dblink(conn, format('SELECT citus_check_connection_to_node(%L, %s)', dst.nodename,
          dst.nodeport)) AS t(ok boolean)) END;
      RETURN NEXT;
    END LOOP;
    IF conn <> '' THEN
      PERFORM citus.dblink_disconnect(conn);
    END IF;
  END LOOP;
END $$;

-- True on the coordinator once it has any active node row (false on an empty pg_dist_node).
CREATE FUNCTION citus.citus_is_coordinator() RETURNS boolean LANGUAGE sql STRICT AS $$
  SELECT (SELECT groupid FROM citus.pg_dist_local_group) = 0 AND EXISTS (SELECT 1 FROM citus.standin_node WHERE isactive);
$$;

CREATE FUNCTION citus.citus_coordinator_nodeid() RETURNS integer LANGUAGE sql STRICT AS $$
  SELECT coalesce((SELECT nodeid FROM citus.standin_node WHERE groupid = 0 AND noderole = 'primary'), 0);
$$;

CREATE FUNCTION citus.citus_version() RETURNS text LANGUAGE sql STRICT AS $$
  SELECT 'Citus 13.2.2 (pgdeck SQL stand-in) on PostgreSQL ' || split_part(current_setting('server_version'), ' ', 1);
$$;

-- Privileges as in Citus: mutating functions are not executable by PUBLIC, the read-only ones are.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA citus FROM PUBLIC;
GRANT EXECUTE ON FUNCTION citus.citus_get_active_worker_nodes(), citus.master_get_active_worker_nodes(),
  citus.citus_check_connection_to_node(text, integer), citus.citus_check_cluster_node_health(),
  citus.citus_is_coordinator(), citus.citus_coordinator_nodeid(), citus.citus_version(),
  citus.standin_reachable(text, integer) TO PUBLIC;
