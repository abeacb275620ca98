#!/usr/bin/python3
"""The anchors' write probe: one autocommit INSERT every 20 ms through libpq multi-host with
target_session_attrs=read-write and connect_timeout=2. Prints one JSON line per attempt:
{"seq", "start", "end", "ok", "port"} (times in ms since the epoch; port is the server's own,
inet_server_port(), so through a proxy it names the backend). Stops on SIGTERM."""
import json, signal, sys, time
import psycopg2

hosts, ports, interval = sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
first_seq = int(sys.argv[4]) if len(sys.argv) > 4 else 0
dsn = f"host={hosts} port={ports} dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=2"
running = True
signal.signal(signal.SIGTERM, lambda *_: globals().__setitem__("running", False))

def connect():
    c = psycopg2.connect(dsn)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS probe (seq bigint PRIMARY KEY, at timestamptz DEFAULT now())")
        cur.execute("SELECT inet_server_port()")
        return c, cur.fetchone()[0]

conn, server_port, seq = None, None, first_seq
while running:
    seq += 1
    start = time.time() * 1000
    ok, port = False, None
    try:
        if conn is None:
            conn, server_port = connect()
        port = server_port
        with conn.cursor() as cur:
            cur.execute("INSERT INTO probe (seq) VALUES (%s)", (seq,))
        ok = True
    except Exception:
        try:
            if conn is not None:
                conn.close()
        except Exception:
            pass
        conn = None
    end = time.time() * 1000
    print(json.dumps({"seq": seq, "start": start, "end": end, "ok": ok, "port": port}), flush=True)
    time.sleep(max(0.0, interval - (end - start) / 1000))
