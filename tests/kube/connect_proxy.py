#!/usr/bin/env python3
"""A forward proxy that only tunnels (HTTP CONNECT), for kubeconfig's proxy-url.

    connect_proxy.py --port-file F --log FILE

Binds 127.0.0.1 on a free port, writes the port to F, and logs one line per
tunnel: "CONNECT host:port". Stops on SIGTERM.
"""
import argparse
import select
import socket
import socketserver
import threading


class Tunnel(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().decode("latin-1").strip()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request's headers
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = parts[1].rsplit(":", 1)
        with LOCK, open(ARGS.log, "a") as log:
            log.write(f"CONNECT {parts[1]}\n")
        upstream = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        sockets = [self.connection, upstream]
        while True:
            ready, _, _ = select.select(sockets, [], [], 60)
            if not ready:
                break
            for s in ready:
                data = s.recv(65536)
                if not data:
                    upstream.close()
                    return
                (upstream if s is self.connection else self.connection).sendall(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


LOCK = threading.Lock()
p = argparse.ArgumentParser()
p.add_argument("--port-file", required=True)
p.add_argument("--log", required=True)
ARGS = p.parse_args()
server = Server(("127.0.0.1", 0), Tunnel)
with open(ARGS.port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
