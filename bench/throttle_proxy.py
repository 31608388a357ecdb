#!/usr/bin/env python3
"""A slow link for the benchmarks: an HTTP proxy on 127.0.0.1 that passes every
answer through at most RATE bytes a second in all (a token bucket shared by every
connection), with a round trip of DELAY seconds before each answer.

usage: throttle_proxy.py RATE DELAY PORT_FILE

GET /HOST/PATH is fetched from http://HOST/PATH. The port is written to PORT_FILE
once listening.
"""
import http.client
import http.server
import os
import sys
import threading
import time

RATE, DELAY, PORT_FILE = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
CHUNK = 16384
bucket = threading.Lock()
next_free = [time.monotonic()]  # when the link can carry the next byte


def carry(n):
    """Waits until the link has carried n more bytes."""
    with bucket:
        start = max(next_free[0], time.monotonic())
        next_free[0] = start + n / RATE
        wait = next_free[0] - time.monotonic()
    if wait > 0:
        time.sleep(wait)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        host, _, path = self.path.lstrip("/").partition("/")
        time.sleep(DELAY)
        try:
            upstream = http.client.HTTPConnection(host, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("range",)}
            upstream.request("GET", "/" + path, headers=headers)
            answer = upstream.getresponse()
        except OSError as e:
            self.send_error(502, str(e))
            return
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() in ("content-length", "content-type", "content-range", "last-modified",
                             "location"):
                self.send_header(k, v)
        if answer.getheader("content-length") is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            while True:
                data = answer.read(CHUNK)
                if not data:
                    break
                carry(len(data))
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        upstream.close()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
