#!/usr/bin/env python3
"""A small HTTP proxy in front of a registry, for the registry tests.

    proxy.py --port PORT --upstream 127.0.0.1:RPORT [--log FILE]
             [--fail N --match REGEX --status 500]   the first N matching requests fail
             [--throttle BYTES_PER_S]                 request bodies trickle upstream
             [--redirect-blobs] [--upstream-auth USER:PASS]
             [--referrers]                            the OCI 1.1 referrers API

--match is a regex on "METHOD PATH". --redirect-blobs answers HEAD and GET of
blobs asked of 127.0.0.1 with a 307 to the same path on "localhost" (another
origin); such redirected requests are served with --upstream-auth as the
credentials, like a storage service, and logged with whether the client sent
an Authorization header. The log has one line per request:
"METHOD PATH STATUS auth=yes|no host=HOST". Loopback only; stops on SIGTERM.

--referrers gives the registry behind (which has no referrers API) the API of the
OCI distribution spec 1.1, as a registry with it behaves: a manifest with a
subject pushed through the proxy is answered with "OCI-Subject: <digest>" and
listed by GET /v2/<name>/referrers/<digest> (an image index, 200 even when empty,
filtered by ?artifactType= with OCI-Filters-Applied), its artifactType being the
manifest's or else its config's media type, with the manifest's annotations.
"""
import hashlib
import json
import urllib.parse
import argparse
import http.client
import http.server
import re
import sys
import threading
import time
import base64

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--log")
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--match", default=".")
    p.add_argument("--status", type=int, default=500)
    p.add_argument("--throttle", type=int, default=0)
    p.add_argument("--redirect-blobs", action="store_true")
    p.add_argument("--upstream-auth", default="")
    p.add_argument("--referrers", action="store_true")
    a = p.parse_args()
    lock = threading.Lock()
    state = {"failures": 0}
    referrers = {}  # (repository, subject digest) -> {digest: descriptor}
    logf = open(a.log, "a", buffering=1) if a.log else None
    match = re.compile(a.match)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def record(self, status):
            if logf:
                auth = "yes" if self.headers.get("Authorization") else "no"
                with lock:
                    logf.write(f"{self.command} {self.path} {status} auth={auth} "
                               f"host={self.headers.get('Host', '')}\n")

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.record(status)

        def body_chunks(self):
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                n = min(left, 65536)
                data = self.rfile.read(n)
                if not data:
                    break
                left -= len(data)
                if a.throttle:
                    time.sleep(len(data) / a.throttle)
                yield data

        def list_referrers(self, name, digest, query):
            with lock:
                found = list(referrers.get((name, digest), {}).values())
            headers = [("Content-Type", "application/vnd.oci.image.index.v1+json")]
            wanted = urllib.parse.parse_qs(query).get("artifactType")
            if wanted:
                found = [d for d in found if d["artifactType"] in wanted]
                headers.append(("OCI-Filters-Applied", "artifactType"))
            index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": sorted(found, key=lambda d: d["digest"])}
            return self.reply(200, json.dumps(index).encode(), headers)

        def handle_any(self):
            line = f"{self.command} {self.path}"
            host = self.headers.get("Host", "")
            url = urllib.parse.urlsplit(self.path)
            if a.referrers and self.command == "GET":
                m = re.fullmatch(r"/v2/(.+)/referrers/(sha256:[0-9a-f]{64})", url.path)
                if m:
                    return self.list_referrers(m.group(1), m.group(2), url.query)
            subject_push = a.referrers and self.command == "PUT" and re.fullmatch(r"/v2/(.+)/manifests/[^/]+", url.path)
            with lock:
                fail = a.fail and state["failures"] < a.fail and match.search(line)
                if fail:
                    state["failures"] += 1
            if fail:
                for _ in self.body_chunks():
                    pass
                body = b'{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}'
                return self.reply(a.status, body, [("Content-Type", "application/json")])
            if (a.redirect_blobs and self.command in ("HEAD", "GET") and host.startswith("127.0.0.1")
                    and re.search(r"/blobs/sha256:", self.path)):
                port = host.split(":")[1]
                return self.reply(307, b"", [("Location", f"http://localhost:{port}{self.path}")])
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            if a.redirect_blobs and host.startswith("localhost") and a.upstream_auth:
                headers["Authorization"] = "Basic " + base64.b64encode(a.upstream_auth.encode()).decode()
            conn = http.client.HTTPConnection(a.upstream, timeout=120)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders()
                body = b""
                for chunk in self.body_chunks():
                    conn.send(chunk)
                    if subject_push:
                        body += chunk
                resp = conn.getresponse()
                data = resp.read() if self.command != "HEAD" else b""
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self.close_connection = True  # the client's body may be half read
                return self.reply(502, f'{{"errors":[{{"code":"UNKNOWN","message":"proxy: {e}"}}]}}'.encode())
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            if subject_push and resp.status in (200, 201):
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                if isinstance(doc, dict) and isinstance(doc.get("subject"), dict):
                    subject = doc["subject"]["digest"]
                    descriptor = {"mediaType": doc.get("mediaType", self.headers.get("Content-Type")),
                                  "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
                                  "size": len(body),
                                  "artifactType": doc.get("artifactType") or doc["config"]["mediaType"]}
                    if doc.get("annotations"):
                        descriptor["annotations"] = doc["annotations"]
                    with lock:
                        referrers.setdefault((subject_push.group(1), subject), {})[descriptor["digest"]] = descriptor
                    self.send_header("OCI-Subject", subject)
            length = resp.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
            self.send_header("Content-Length", length or "0")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()
            self.record(resp.status)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
