#!/usr/bin/env python3
"""Loopback fakes of the chat-group robots the service posts staff alerts to, for the
integration tests. Independent of the Rust service: Python 3 standard library only, and the
DingTalk signature is checked by the steps DingTalk documents for custom robots
("加签"): string_to_sign = timestamp + "\\n" + secret; sign = base64(HMAC-SHA256(key=secret,
msg=string_to_sign)), sent URL-encoded as the `sign` query parameter beside `timestamp`
(milliseconds), which must be within an hour of now.

  robot_sink.py --port-file F --record F [--dingtalk-secret S] [--wecom-key K ...]

Routes:
  POST /cgi-bin/webhook/send?key=K     WeCom group robot. A key not given with --wecom-key
                                       answers errcode 93000 (invalid webhook url).
  POST /robot/send?access_token=T&timestamp=..&sign=..
                                       DingTalk custom robot. A wrong or missing signature
                                       answers errcode 310000.
  POST /flaky/...                      answers 503 the first time for each path, then like
                                       the route after /flaky.

Every request is appended to the record file as one JSON line:
  {"robot": "wecom"|"dingtalk", "path", "token" (the key or access_token), "verified": bool,
   "body": {...}, "status": int, "errcode": int}
The port is written to the port file once the socket is listening.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def dingtalk_sign(secret: str, timestamp: str) -> str:
    string_to_sign = f"{timestamp}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Sink:
    def __init__(self, record: str, secret: str | None, wecom_keys: list[str]):
        self.record = record
        self.secret = secret
        self.wecom_keys = set(wecom_keys)
        self.flaky_seen: set[str] = set()
        self.lock = threading.Lock()

    def write(self, entry: dict) -> None:
        with self.lock, open(self.record, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()


def handler(sink: Sink):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            path = url.path
            if path.startswith("/flaky/"):
                with sink.lock:
                    first = path not in sink.flaky_seen
                    sink.flaky_seen.add(path)
                path = path[len("/flaky"):]
                if first:
                    sink.write({"robot": "flaky", "path": url.path, "status": 503,
                                "errcode": None, "verified": False, "body": body,
                                "token": None})
                    self.answer(503, {"error": "busy"})
                    return
            if path == "/cgi-bin/webhook/send":
                token = (q.get("key") or [""])[0]
                ok = token in sink.wecom_keys
                errcode = 0 if ok else 93000
                robot = "wecom"
            elif path == "/robot/send":
                token = (q.get("access_token") or [""])[0]
                ts = (q.get("timestamp") or [""])[0]
                sign = (q.get("sign") or [""])[0]
                ok = False
                if sink.secret and ts.isdigit() and abs(int(ts) - time.time() * 1000) < 3600_000:
                    ok = hmac.compare_digest(sign, dingtalk_sign(sink.secret, ts))
                errcode = 0 if ok else 310000
                robot = "dingtalk"
            else:
                self.answer(404, {"error": "no such route"})
                return
            if not (isinstance(body, dict) and body.get("msgtype") == "text"
                    and isinstance(body.get("text", {}).get("content"), str)):
                ok, errcode = False, 40035
            sink.write({"robot": robot, "path": url.path, "token": token, "verified": ok,
                        "body": body, "status": 200, "errcode": errcode})
            self.answer(200, {"errcode": errcode, "errmsg": "ok" if errcode == 0 else "refused"})

    return H


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file")
    ap.add_argument("--record")
    ap.add_argument("--dingtalk-secret")
    ap.add_argument("--wecom-key", action="append", default=[])
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        # DingTalk's documented steps on fixed inputs (also the Rust unit test's vector).
        assert dingtalk_sign("SECtest", "1700000000000") == \
            "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="
        return 0
    sink = Sink(a.record, a.dingtalk_secret, a.wecom_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(sink))
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
