#!/usr/bin/env python3
"""A docker token server (the registry's "token" auth) for the registry tests.

    token_server.py --port PORT --key KEY.pem --cert CERT.pem --user USER --password PASS
                    [--service S] [--issuer I] [--expired-first] [--refuse-after N] [--log FILE]

GET /token?service=S&scope=repository:NAME:pull,push... with HTTP Basic
credentials answers a JWT (RS256, signed with `openssl dgst`, the certificate in
its x5c header) granting the asked scopes. Wrong or missing credentials: 401.
--expired-first makes the first token of each push scope one the registry
refuses as expired, so that the client must fetch a fresh one. --refuse-after N
answers 401 to every request after the first N tokens. The log has one line
per request: "scope=... service=... user=USER|- status=N" (never a password).
"""
import argparse
import base64
import http.server
import json
import subprocess
import threading
import time
import urllib.parse
import uuid


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--service", default="dmc-test-registry")
    p.add_argument("--issuer", default="dmc-test-issuer")
    p.add_argument("--expired-first", action="store_true")
    p.add_argument("--refuse-after", type=int, default=-1)
    p.add_argument("--log")
    a = p.parse_args()
    der = subprocess.run(["openssl", "x509", "-in", a.cert, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    x5c = base64.b64encode(der).decode()
    issued = set()
    granted = []
    lock = threading.Lock()
    logf = open(a.log, "a", buffering=1) if a.log else None

    def sign(claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", a.key], input=signing_input,
                             check=True, capture_output=True).stdout
        return signing_input.decode() + "." + b64url(sig)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, body, extra=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(url.query)
            scopes = q.get("scope", [])
            user = "-"
            ok = False
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                u, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                user = u
                ok = u == a.user and pw == a.password
            with lock:
                if ok and a.refuse_after >= 0 and len(granted) >= a.refuse_after:
                    ok = False
                if ok:
                    granted.append(1)
            status = 200 if ok else 401
            if logf:
                logf.write(f"scope={' '.join(scopes)} service={q.get('service', [''])[0]} "
                           f"user={user} status={status}\n")
            if url.path != "/token":
                return self.send(404, b"{}")
            if not ok:
                return self.send(401, b'{"details":"wrong user or password"}',
                                 [("WWW-Authenticate", 'Basic realm="token"')])
            access = []
            for s in scopes:
                kind, name, actions = s.split(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            key = " ".join(sorted(scopes))
            with lock:
                expired = a.expired_first and "push" in key and key not in issued
                issued.add(key)
            # Past the registry's leeway of a minute: refused as expired.
            exp = now - 600 if expired else now + 300
            claims = {"iss": a.issuer, "sub": user, "aud": a.service, "exp": exp,
                      "nbf": now - 1200, "iat": now - 1200 if expired else now,
                      "jti": str(uuid.uuid4()), "access": access}
            token = sign(claims)
            self.send(200, json.dumps({"token": token, "access_token": token,
                                       "expires_in": 300}).encode())

    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
