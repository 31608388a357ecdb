#!/usr/bin/env python3
"""A local archive server for the archive tests, on 127.0.0.1 only.

usage: archive_server.py ROOT PORT_FILE LOG_FILE

Serves ROOT on a free port of 127.0.0.1 (written to PORT_FILE once listening).
The first path component picks how it behaves, the rest is a path under ROOT:

  /ok/...     plain files, with Range support
  /cut/...    the first request of each path sends the headers of the whole file
              but only half the body, then closes the connection; later requests
              are served normally (Range included)
  /flaky/...  the first two requests of each path answer 500 (with a body), then OK
  /down/...   always 500
  /downpool/... 500 for everything under pool/, the indexes are served normally
  /endless/...  every file, then more bytes without end (no Content-Length); the
  /endless-index/... and /endless-pool/... variants do that only for the
              indexes (dists/*/main/...) or only for the packages (pool/...)
  /garbage/... bytes that are not HTTP, then the connection closes
  /loop/...   a redirect to the same path, for ever
  /elsewhere/... a redirect to the same path under /ok/ on "localhost" (another
              origin than 127.0.0.1)
  /together/... plain files, but each InRelease is held until another one is asked for
              (5 s at most); a line "HELD /path together=N" says how many were being
              asked for at once when it went (N is 1 for a client that asks one by one)
  /hold/...   plain files, but a package whose file name starts with the first line of
              ROOT/.hold is held until the path on its second line exists (10 s at
              most); a line "HELD /path released=yes|no" says whether it came
  /slow/...   plain files, sent at about 2 MB/s (16 KiB every 8 ms)
  /snapshot/archive/NAME/DATE/...
              a snapshot service: ROOT/snapshots/NAME/<the latest date <= DATE>/...,
              dates as 20250520T000000Z, as Debian's snapshot service has them

Every request is logged to LOG_FILE as "METHOD /path STATUS range host auth" (range
is "-" when there was none; auth says whether an Authorization header came), one
line each, flushed at once.
"""
import http.server
import os
import sys
import threading
import time

ROOT, PORT_FILE, LOG_FILE = sys.argv[1:4]
lock = threading.Lock()
seen = {}  # (mode, path) -> requests so far
held = threading.Condition()
asking = [0]    # InRelease requests under /together/ in progress
arrived = [0]   # and how many have come in all
log = open(LOG_FILE, "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dmc-test-archive"

    def log_message(self, *args):  # quiet on stderr
        pass

    def record(self, status):
        with lock:
            log.write(f"{self.command} {self.path} {status} {self.headers.get('Range') or '-'} "
                      f"{(self.headers.get('Host') or '-').split(':')[0]} "
                      f"auth={'yes' if self.headers.get('Authorization') else 'no'}\n")

    def fail(self, status, text):
        body = (text + "\n").encode()
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.split("?", 1)[0].lstrip("/").split("/", 1)
        mode, rel = parts[0], parts[1] if len(parts) > 1 else ""
        if mode not in ("ok", "cut", "flaky", "down", "downpool", "snapshot", "endless",
                        "endless-index", "endless-pool", "garbage", "loop", "elsewhere",
                        "together", "hold", "slow") \
                or ".." in rel.split("/"):
            return self.fail(404, "no such path")
        if mode == "garbage":
            self.record("garbage")
            self.wfile.write(b"\x16\x03\x01\x02\x00 this is not HTTP \xff\xfe\r\n\r\n")
            self.close_connection = True
            return
        if mode in ("loop", "elsewhere"):
            port = self.server.server_address[1]
            where = (f"http://127.0.0.1:{port}/loop/{rel}" if mode == "loop"
                     else f"http://localhost:{port}/ok/{rel}")
            self.record(302)
            self.send_response(302)
            self.send_header("Location", where)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "together" and rel.endswith("/InRelease"):
            with held:
                # Together: another was in progress when this one came, or came while
                # this one was held (both stay true once true, whatever runs first).
                others = asking[0]
                asking[0] += 1
                arrived[0] += 1
                me = arrived[0]
                held.notify_all()
                met = held.wait_for(lambda: others > 0 or arrived[0] > me, timeout=5)
                together = 2 if met else 1
            with lock:
                log.write(f"HELD {self.path} together={together}\n")
            try:
                return self.serve(mode, rel)
            finally:
                with held:
                    asking[0] -= 1
        if mode == "hold":
            try:
                prefix, until = open(os.path.join(ROOT, ".hold")).read().split("\n")[:2]
            except (OSError, ValueError):
                prefix, until = "", ""
            if prefix and os.path.basename(rel).startswith(prefix):
                deadline = time.monotonic() + 10
                while not os.path.exists(until) and time.monotonic() < deadline:
                    time.sleep(0.02)
                with lock:
                    log.write(f"HELD {self.path} released={'yes' if os.path.exists(until) else 'no'}\n")
        if mode == "snapshot":
            bits = rel.split("/", 3)
            if len(bits) < 4 or bits[0] != "archive":
                return self.fail(404, "not a snapshot path")
            base = os.path.join(ROOT, "snapshots", bits[1])
            dates = sorted(d for d in (os.listdir(base) if os.path.isdir(base) else []) if d <= bits[2])
            if not dates:
                return self.fail(404, "no snapshot at or before " + bits[2])
            rel = os.path.join("snapshots", bits[1], dates[-1], bits[3])
        self.serve(mode, rel)

    def serve(self, mode, rel):
        with lock:
            n = seen.get((mode, rel), 0)
            seen[(mode, rel)] = n + 1
        if (mode == "down" or (mode == "flaky" and n < 2)
                or (mode == "downpool" and rel.split("/")[1:2] == ["pool"])):
            return self.fail(500, "the test server fails on purpose")
        path = os.path.join(ROOT, rel)
        if not os.path.isfile(path):
            return self.fail(404, "not found")
        with open(path, "rb") as f:
            data = f.read()
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            try:
                start = int(rng[6:-1])
            except ValueError:
                return self.fail(416, "bad range")
            if start >= len(data):
                self.record(416)
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        body = data[start:]
        top = rel.split("/")[1:2]
        if (mode == "endless" or (mode == "endless-index" and top == ["dists"] and "/main/" in rel)
                or (mode == "endless-pool" and top == ["pool"])):
            return self.endless(body)
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if self.command == "HEAD":
            return
        if mode == "cut" and n == 0 and len(body) > 1:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "slow":
            for at in range(0, len(body), 16384):
                self.wfile.write(body[at:at + 16384])
                self.wfile.flush()
                time.sleep(0.008)
            return
        self.wfile.write(body)


    def endless(self, body):
        self.record("endless")
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        filler = b"Package: filler\n" * 4096
        try:
            self.wfile.write(body)
            while True:  # until the client gives up
                self.wfile.write(filler)
        except (BrokenPipeError, ConnectionResetError):
            pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
tmp = PORT_FILE + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, PORT_FILE)
server.serve_forever()
