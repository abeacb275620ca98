-- pgdeck's SQL stand-in for Citus 13.2, part 2 of 3: node membership (citus.md, "Functions").
-- Every citus_* and master_* function here is STRICT as in Citus (a NULL host or port returns NULL),
-- runs inside BEGIN (ROLLBACK undoes it, except the group told to a joining node), and serializes on
-- an EXCLUSIVE lock of the node table.
SET search_path = "$user", public, citus;

-- Citus's AddNodeMetadata: an existing (nodename, nodeport) returns its nodeid at once, untouched.
CREATE FUNCTION citus.standin_insert_node(host text, port integer, group_id integer, role citus.noderole,
  cluster name, active boolean) RETURNS citus.standin_node LANGUAGE plpgsql AS $$
DECLARE
  node citus.standin_node;
  g integer := group_id;
BEGIN
  PERFORM citus.standin_ensure_coordinator();
  SELECT * INTO node FROM citus.standin_node WHERE nodename = host AND nodeport = port;
  IF FOUND THEN
    RETURN node;
  END IF;
  LOCK TABLE citus.standin_node IN EXCLUSIVE MODE;
  PERFORM citus.standin_settle_sync();
  SELECT * INTO node FROM citus.standin_node WHERE nodename = host AND nodeport = port;
  IF FOUND THEN
    RETURN node;
  END IF;
  IF g <> 0 AND host <> 'localhost'
      AND EXISTS (SELECT 1 FROM citus.standin_node WHERE groupid = 0 AND noderole = 'primary' AND nodename = 'localhost') THEN
    RAISE EXCEPTION 'cannot add a worker node when the coordinator hostname is set to localhost' USING ERRCODE = 'XX000',
      DETAIL = 'Worker nodes need to be able to connect to the coordinator to transfer data.',
      HINT = 'Use SELECT citus_set_coordinator_host(''<hostname>'') to configure the coordinator hostname';
  END IF;
  IF g = -1 THEN
    g := nextval('citus.pg_dist_groupid_seq');
  END IF;
  IF g = 0 AND NOT active THEN
    RAISE EXCEPTION 'coordinator node cannot be added as inactive node' USING ERRCODE = 'XX000';
  END IF;
  IF role = 'primary' AND EXISTS (SELECT 1 FROM citus.standin_node WHERE groupid = g AND noderole = 'primary') THEN
    RAISE EXCEPTION 'group % already has a primary node', g USING ERRCODE = 'XX000';
  END IF;
  IF role = 'primary' AND cluster <> 'default' THEN
    RAISE EXCEPTION 'primaries must be added to the default cluster' USING ERRCODE = 'XX000';
  END IF;
  INSERT INTO citus.standin_node (nodeid, groupid, nodename, nodeport, isactive, noderole, nodecluster, hasmetadata,
    metadatasynced, shouldhaveshards)
  VALUES (nextval('citus.pg_dist_node_nodeid_seq'), g, host, port, active OR g = 0, role, cluster, g = 0, g = 0, g <> 0)
  RETURNING * INTO node;
  -- The new row goes to every metadata node.
  PERFORM citus.standin_push_metadata(node.nodeid);
  RETURN node;
END $$;

-- Citus's ActivateNodeList for one node: connect, then mark it active with synced metadata.
CREATE FUNCTION citus.standin_activate(node citus.standin_node) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  PERFORM citus.standin_push_metadata(node.nodeid);
  IF node.groupid <> 0 THEN
    PERFORM citus.standin_join_node(node.nodename, node.nodeport, node.groupid);
  END IF;
  UPDATE citus.standin_node
  SET isactive = true, hasmetadata = hasmetadata OR noderole = 'primary',
    metadatasynced = metadatasynced OR noderole = 'primary', unsynced_at = NULL
  WHERE nodeid = node.nodeid;
  RETURN node.nodeid;
END $$;

CREATE FUNCTION citus.citus_set_coordinator_host(host text, port integer DEFAULT current_setting('port')::integer,
  node_role citus.noderole DEFAULT 'primary', node_cluster name DEFAULT 'default') RETURNS void
LANGUAGE plpgsql STRICT AS $$
DECLARE
  coordinator citus.standin_node;
BEGIN
  PERFORM citus.standin_ensure_coordinator();
  LOCK TABLE citus.standin_node IN ROW EXCLUSIVE MODE;
  SELECT * INTO coordinator FROM citus.standin_node WHERE groupid = 0 AND noderole = 'primary';
  IF NOT FOUND THEN
    PERFORM citus.standin_insert_node(host, port, 0, node_role, node_cluster, true);
  ELSE
    -- Even an unchanged host is written to every metadata node.
    PERFORM citus.standin_settle_sync();
    PERFORM citus.standin_push_metadata();
    UPDATE citus.standin_node SET nodename = host, nodeport = port WHERE nodeid = coordinator.nodeid;
  END IF;
END $$;

CREATE FUNCTION citus.citus_add_node(nodename text, nodeport integer, groupid integer DEFAULT -1,
  noderole citus.noderole DEFAULT 'primary', nodecluster name DEFAULT 'default') RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  node citus.standin_node;
  existed boolean;
BEGIN
  PERFORM citus.standin_ensure_superuser();
  PERFORM citus.standin_ensure_coordinator();
  existed := EXISTS (SELECT 1 FROM citus.standin_node n WHERE n.nodename = $1 AND n.nodeport = $2);
  node := citus.standin_insert_node($1, $2, $3, $4, $5, true);
  -- An existing node is returned as it is: not re-activated (citus.md S4, S5).
  IF existed OR node.noderole <> 'primary' THEN
    RETURN node.nodeid;
  END IF;
  RETURN citus.standin_activate(node);
END $$;

CREATE FUNCTION citus.master_add_node(nodename text, nodeport integer, groupid integer DEFAULT -1,
  noderole citus.noderole DEFAULT 'primary', nodecluster name DEFAULT 'default') RETURNS integer
LANGUAGE sql STRICT AS $$ SELECT citus.citus_add_node($1, $2, $3, $4, $5) $$;

-- Never connects: the row is inactive, without metadata, until citus_activate_node.
CREATE FUNCTION citus.citus_add_inactive_node(nodename text, nodeport integer, groupid integer DEFAULT -1,
  noderole citus.noderole DEFAULT 'primary', nodecluster name DEFAULT 'default') RETURNS integer
LANGUAGE sql STRICT AS $$ SELECT (citus.standin_insert_node($1, $2, $3, $4, $5, false)).nodeid $$;

CREATE FUNCTION citus.master_add_inactive_node(nodename text, nodeport integer, groupid integer DEFAULT -1,
  noderole citus.noderole DEFAULT 'primary', nodecluster name DEFAULT 'default') RETURNS integer
LANGUAGE sql STRICT AS $$ SELECT citus.citus_add_inactive_node($1, $2, $3, $4, $5) $$;

CREATE FUNCTION citus.citus_activate_node(nodename text, nodeport integer) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
BEGIN
  PERFORM citus.standin_ensure_superuser();
  RETURN citus.standin_activate(citus.standin_modifiable_node($1, $2));
END $$;

CREATE FUNCTION citus.master_activate_node(nodename text, nodeport integer) RETURNS integer
LANGUAGE sql STRICT AS $$ SELECT citus.citus_activate_node($1, $2) $$;

-- Async (the default) marks the target and every other metadata worker out of sync until the
-- maintenance daemon's push (standin_settings.sync_delay); synchronous keeps them synced.
CREATE FUNCTION citus.citus_disable_node(nodename text, nodeport integer, synchronous boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql STRICT AS $$
DECLARE
  node citus.standin_node := citus.standin_modifiable_node($1, $2);
BEGIN
  IF node.groupid = 0 THEN
    RAISE EXCEPTION 'cannot change "isactive" field of the coordinator node' USING ERRCODE = 'XX000';
  END IF;
  IF NOT synchronous AND citus.standin_first_worker() = node.nodeid THEN
    RAISE EXCEPTION 'disabling the first worker node in the metadata is not allowed' USING ERRCODE = '55000',
      DETAIL = 'Citus uses the first worker node in the metadata for certain internal operations when replicated '
        'tables are modified. Synchronous mode ensures that all nodes have the same view of the first worker node, '
        'which is used for certain locking operations.',
      HINT = format('You can force disabling node, SELECT citus_disable_node(''%s'', %s, synchronous:=true);',
        node.nodename, node.nodeport);
  END IF;
  UPDATE citus.standin_node SET isactive = false WHERE nodeid = node.nodeid;
  IF node.noderole = 'primary' THEN
    PERFORM citus.standin_error_if_only_placement(node);
  END IF;
  IF synchronous THEN
    PERFORM citus.standin_push_metadata();
  ELSE
    UPDATE citus.standin_node SET metadatasynced = false, unsynced_at = NULL WHERE nodeid = node.nodeid;
    UPDATE citus.standin_node SET metadatasynced = false, unsynced_at = now()
    WHERE hasmetadata AND groupid <> 0 AND nodeid <> node.nodeid;
  END IF;
END $$;

-- The two-argument form is Citus's old one, and synchronous.
CREATE FUNCTION citus.master_disable_node(nodename text, nodeport integer) RETURNS void
LANGUAGE sql STRICT AS $$ SELECT citus.citus_disable_node($1, $2, true) $$;

CREATE FUNCTION citus.citus_remove_node(nodename text, nodeport integer) RETURNS void
LANGUAGE plpgsql STRICT AS $$
DECLARE
  node citus.standin_node := citus.standin_modifiable_node($1, $2);
BEGIN
  IF node.noderole = 'primary' THEN
    PERFORM citus.standin_error_if_only_placement(node);
  END IF;
  DELETE FROM citus.pg_dist_placement WHERE groupid = node.groupid;
  DELETE FROM citus.standin_node WHERE nodeid = node.nodeid;
  PERFORM citus.standin_push_metadata();
END $$;

CREATE FUNCTION citus.master_remove_node(nodename text, nodeport integer) RETURNS void
LANGUAGE sql STRICT AS $$ SELECT citus.citus_remove_node($1, $2) $$;

-- Keeps nodeid and groupid, never connects to the new address; every worker is out of sync until
-- the daemon's push.
CREATE FUNCTION citus.citus_update_node(node_id integer, new_node_name text, new_node_port integer,
  force boolean DEFAULT false, lock_cooldown integer DEFAULT 10000) RETURNS void
LANGUAGE plpgsql STRICT AS $$
DECLARE
  same_address integer;
BEGIN
  SELECT nodeid INTO same_address FROM citus.standin_node WHERE nodename = new_node_name AND nodeport = new_node_port;
  IF FOUND AND same_address = node_id THEN
    RETURN;
  ELSIF FOUND THEN
    RAISE EXCEPTION 'there is already another node with the specified hostname and port' USING ERRCODE = '55000';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM citus.standin_node WHERE nodeid = node_id) THEN
    RAISE EXCEPTION 'node % not found', node_id USING ERRCODE = 'P0002';
  END IF;
  LOCK TABLE citus.standin_node IN EXCLUSIVE MODE;
  UPDATE citus.standin_node SET nodename = new_node_name, nodeport = new_node_port WHERE nodeid = node_id;
  UPDATE citus.standin_node SET metadatasynced = false, unsynced_at = now() WHERE hasmetadata AND groupid <> 0;
END $$;

CREATE FUNCTION citus.master_update_node(node_id integer, new_node_name text, new_node_port integer,
  force boolean DEFAULT false, lock_cooldown integer DEFAULT 10000) RETURNS void
LANGUAGE sql STRICT AS $$ SELECT citus.citus_update_node($1, $2, $3, $4, $5) $$;

CREATE FUNCTION citus.citus_set_node_property(nodename text, nodeport integer, property text, value boolean)
RETURNS void LANGUAGE plpgsql STRICT AS $$
DECLARE
  node citus.standin_node := citus.standin_modifiable_node($1, $2);
BEGIN
  IF property <> 'shouldhaveshards' THEN
    RAISE EXCEPTION 'only the ''shouldhaveshards'' property can be set using this function' USING ERRCODE = 'XX000';
  END IF;
  PERFORM citus.standin_push_metadata();
  UPDATE citus.standin_node SET shouldhaveshards = value WHERE nodeid = node.nodeid;
END $$;

CREATE FUNCTION citus.master_set_node_property(nodename text, nodeport integer, property text, value boolean)
RETURNS void LANGUAGE sql STRICT AS $$ SELECT citus.citus_set_node_property($1, $2, $3, $4) $$;
