#!/usr/bin/env python3
"""Fuzz the API against its own OpenAPI document with Schemathesis.

Starts a real `steward serve` (the debug build) on a fresh SQLite data
directory, creates an administrator on the host, signs in, enrols a second
factor (so the installation's MFA rule can be switched on mid-run without
locking the token out), makes an API token with every scope, and runs
`schemathesis run --checks all` with it. Every route added later is fuzzed
against its own document automatically.

Usage: .ci/schemathesis.py SCHEMATHESIS_BIN [extra schemathesis args]
"""

import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEWARD = os.path.join(ROOT, "target", "debug", "steward")
EMAIL, PASSWORD = "fuzz@msp.example", "correct horse battery staple fuzz"


def totp(secret_b32: str) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = struct.pack(">Q", int(time.time()) // 30)
    mac = hmac.new(key, counter, hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off : off + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def main() -> int:
    schemathesis, extra = sys.argv[1], sys.argv[2:]
    data = tempfile.mkdtemp(prefix="steward-fuzz-")
    subprocess.run(
        [STEWARD, "admin", "create", "--data-dir", data, "--email", EMAIL, "--password-stdin"],
        input=PASSWORD + "\n", text=True, check=True, capture_output=True,
    )
    server = subprocess.Popen(
        # Idle keep-alive connections stay open for the whole run: closing
        # one at the instant the fuzzer reuses it is ordinary HTTP (a client
        # retries), but it would read as a failure of the run.
        [STEWARD, "serve", "--data-dir", data, "--listen", "127.0.0.1:0", "--http-header-timeout-secs", "600"],
        stdout=subprocess.PIPE, stderr=open(os.path.join(data, "server.stderr"), "w"), text=True,
        env={**os.environ, "STEWARD_LOG": "warn"},
    )
    try:
        base = None
        for line in server.stdout:
            if line.startswith("steward listening on "):
                base = line.split()[3]
                break
        if not base:
            print("the server did not start", file=sys.stderr)
            return 1
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(jar))
        csrf = {}

        def call(method, path, body=None):
            req = urllib.request.Request(base + path, method=method, data=json.dumps(body or {}).encode())
            req.add_header("content-type", "application/json")
            req.add_header("origin", base)
            if "token" in csrf:
                req.add_header("x-csrf-token", csrf["token"])
            with opener.open(req) as r:
                text = r.read().decode()
                return json.loads(text) if text else None

        me = call("POST", "/api/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
        csrf["token"] = me["csrf_token"]
        secret = call("POST", "/api/v1/me/mfa/start")["secret"]
        call("POST", "/api/v1/me/mfa/confirm", {"code": totp(secret)})
        scopes = me["permissions"]
        token = call("POST", "/api/v1/tokens", {"name": "schemathesis", "scopes": scopes, "expires_in_days": 1})["token"]
        cmd = [
            schemathesis, "--config-file", os.path.join(ROOT, ".ci", "schemathesis.toml"),
            "run", base + "/api/v1/openapi.json",
            "--checks", "all",
            "--tls-verify", "false",
            "-H", f"Authorization: Bearer {token}",
            "--max-examples", os.environ.get("STEWARD_FUZZ_EXAMPLES", "25"),
            "--workers", "2",
            # A request the server refuses before reading its body (a token
            # on a session-only route, a body over the limit) may find the
            # connection closed under it, as HTTP allows; clients retry.
            "--request-retries", "2",
            "--seed", os.environ.get("STEWARD_FUZZ_SEED", "1"),
            "--generation-deterministic",
            "--no-color",
            *extra,
        ]
        print(" ".join(c if "Bearer" not in c else "Authorization: Bearer …" for c in cmd), flush=True)
        result = subprocess.run(cmd)
        if server.poll() is not None:
            print("the server died during the run", file=sys.stderr)
            return 1
        return result.returncode
    finally:
        server.terminate()
        server.wait(timeout=40)
        with open(os.path.join(data, "server.stderr")) as f:
            log = f.read()
        if "internal error" in log:
            print("server log has internal errors:\n" + log[-4000:], file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
