#!/usr/bin/env python3
"""Bounded bodies, measured (issue 16 item 3; figures in docs/BENCHMARKS.md).

Starts the release binary (target/release/jubao; `cargo build --release --bin jubao`
first) on a fresh SQLite database with a plaintext WeChat account, then:

1. slow clients: opens SLOW (500) connections that send a request's headers, or a body,
   a byte at a time and keeps that many open (reopening those the server cuts), and
   meanwhile signs and sends a WeChat push every 0.5 s for SECONDS (30): every push must be
   answered within 5 s; prints the latencies and how the server cut the slow ones;
2. large uploads: UPLOADS (50) concurrent `POST /api/v1/reports`, each a form with one
   20 MiB WAV file, and prints the answers by status and the server's peak RSS (VmHWM).

    python3 benches/bodies.py
    UPLOAD_BOUND=off python3 benches/bodies.py    # the same uploads with the bound lifted

Only the standard library; loopback only. This is a benchmark, not a test: it prints
figures and exits 1 only when a push took 5 s or more.
"""

import hashlib
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BENCH_BIN", os.path.join(ROOT, "target/release/jubao"))
SLOW = int(os.environ.get("SLOW", "500"))
SECONDS = float(os.environ.get("SECONDS", "30"))
UPLOADS = int(os.environ.get("UPLOADS", "50"))
TOKEN = "bench-bot-token-0123456789"
FILE_BYTES = 20 * 1024 * 1024 - 4096  # under [evidence] max_file_bytes (20 MiB)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(work, port, extra_env):
    cfg = os.path.join(work, "jubao.toml")
    with open(cfg, "w") as f:
        f.write(
            '[[wechat]]\naccount = "plain"\nappid = "wx5823bf96d3bd56c7"\n'
            f'token = "{TOKEN}"\nappsecret = "bench-appsecret-0123456789"\n'
            'api_base = "http://127.0.0.1:9"\n'
        )
    env = dict(os.environ)
    env.update(
        {
            "JUBAO_CONFIG": cfg,
            "JUBAO_DATABASE_URL": f"sqlite://{work}/jubao.db",
            "JUBAO_KEYS_MASTER_KEY_FILE": f"{work}/master.key",
            "JUBAO_SERVER_LISTEN": f"127.0.0.1:{port}",
            "JUBAO_LOG_FILTER": "warn",
            "JUBAO_INTAKE_FILINGS_PER_CLIENT": "1000000",
            "JUBAO_OUTBOX_ENABLED": "false",
        }
    )
    env.update(extra_env)
    # BENCH_LOG=path keeps the server's log after the run (warnings and errors only).
    log = open(os.environ.get("BENCH_LOG") or os.path.join(work, "server.log"), "w")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=log)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            return proc
        except Exception:
            time.sleep(0.1)
    raise SystemExit("the server did not come up; see " + log.name)


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024  # MiB
    return 0


# -- 1. slow clients -------------------------------------------------------------------


class Slow:
    """SLOW connections that trickle: half send headers a byte at a time, half a body."""

    def __init__(self, port):
        self.port = port
        self.stop = False
        self.opened = 0
        self.cut = 0
        self.answers = {}
        self.lock = threading.Lock()

    def one(self, i):
        body_mode = i % 2 == 1
        while not self.stop:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                with self.lock:
                    self.opened += 1
                if body_mode:
                    s.sendall(
                        b"POST /api/v1/reports/lookup HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                    )
                else:
                    s.sendall(b"GET /healthz HTTP/1.1\r\n")
                s.settimeout(0.01)
                while not self.stop:
                    time.sleep(2.0 + random.random())
                    s.sendall(b" " if body_mode else b"X")
                    try:
                        got = s.recv(4096)
                    except socket.timeout:
                        continue
                    status = got[9:12].decode(errors="replace") if got else "closed"
                    with self.lock:
                        self.cut += 1
                        self.answers[status] = self.answers.get(status, 0) + 1
                    break
                s.close()
            except OSError:
                with self.lock:
                    self.cut += 1
                    self.answers["reset"] = self.answers.get("reset", 0) + 1
                time.sleep(0.1)


def sign(timestamp, nonce):
    parts = sorted([TOKEN, timestamp, nonce])
    return hashlib.sha1("".join(parts).encode()).hexdigest()


def push(port, n):
    ts = str(int(time.time()))
    nonce = str(random.randrange(10**9))
    xml = (
        "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
        f"<FromUserName><![CDATA[oBench{n % 20}]]></FromUserName>"
        f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[帮助]]></Content><MsgId>{7_000_000_000 + n}</MsgId></xml>"
    ).encode()
    q = f"signature={sign(ts, nonce)}&timestamp={ts}&nonce={nonce}"
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/bots/wechat/plain?{q}",
        data=xml,
        headers={"Content-Type": "text/xml"},
    )
    t = time.monotonic()
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
        assert r.status == 200 and b"<Content>" in body, body
    return time.monotonic() - t


def slow_clients(port, pid):
    slow = Slow(port)
    threads = [threading.Thread(target=slow.one, args=(i,), daemon=True) for i in range(SLOW)]
    for t in threads:
        t.start()
    time.sleep(3)
    latencies = []
    end = time.monotonic() + SECONDS
    n = 0
    while time.monotonic() < end:
        n += 1
        latencies.append(push(port, n))
        time.sleep(0.5)
    open_now = sum(1 for _ in os.listdir(f"/proc/{pid}/fd"))
    slow.stop = True
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(
        f"slow clients: {SLOW} kept open ({slow.opened} opened in all; the server cut "
        f"{slow.cut}: {dict(sorted(slow.answers.items()))}); server fds at the end: {open_now}"
    )
    print(
        f"bot pushes during it: {len(latencies)}, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms (limit 5000 ms)"
    )
    return latencies[-1] < 5.0


# -- 2. large uploads ------------------------------------------------------------------


def wav(n):
    rate, data = 16000, n - 44
    header = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", data)
    return header + os.urandom(data)


def upload(port, body, boundary, results, i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=120)
        head = (
            f"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nIdempotency-Key: bench-{i}-{time.time()}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        s.sendall(head)
        view = memoryview(body)
        status = None
        for off in range(0, len(body), 256 * 1024):
            try:
                s.sendall(view[off : off + 256 * 1024])
            except OSError:
                break  # the server answered early (429) and closed
        s.settimeout(120)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        status = got[9:12].decode() if got else "closed"
        s.close()
    except OSError as e:
        status = type(e).__name__
    results.append(status)


def large_uploads(port, pid):
    report = {
        "target": {"name": "基准测试医院", "kind": "hospital", "region_code": "371502"},
        "categories": ["fake_patient"],
        "description": "基准测试：大文件上传时内存是否有界。",
        "reporter": {"anonymous": True},
    }
    boundary = "jubaobenchboundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"report\"\r\n"
        f"Content-Type: application/json\r\n\r\n{json.dumps(report)}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"a.wav\"\r\n"
        f"Content-Type: audio/wav\r\n\r\n"
    ).encode() + wav(FILE_BYTES) + f"\r\n--{boundary}--\r\n".encode()
    before = vm(pid, "VmRSS")
    results = []
    threads = [
        threading.Thread(target=upload, args=(port, body, boundary, results, i))
        for i in range(UPLOADS)
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    counts = {}
    for r in results:
        counts[r] = counts.get(r, 0) + 1
    print(
        f"large uploads: {UPLOADS} at once, {len(body) / 2**20:.1f} MiB each, in {took:.1f} s: "
        f"answers {dict(sorted(counts.items()))}; RSS before {before} MiB, "
        f"peak {vm(pid, 'VmHWM')} MiB, after {vm(pid, 'VmRSS')} MiB"
    )


def main():
    if not os.path.exists(BIN):
        raise SystemExit(f"{BIN} is missing: cargo build --release --bin jubao")
    extra = {}
    if os.environ.get("UPLOAD_BOUND") == "off":
        extra = {
            "JUBAO_EVIDENCE_MAX_CONCURRENT_UPLOADS": "100000",
            "JUBAO_EVIDENCE_UPLOAD_BYTES_IN_FLIGHT": str(2**32 - 1),
        }
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        proc = start_server(work, port, extra)
        try:
            print(f"idle RSS: {vm(proc.pid, 'VmRSS')} MiB")
            ok = True
            if SLOW > 0:
                ok = slow_clients(port, proc.pid)
            if UPLOADS > 0:
                large_uploads(port, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
