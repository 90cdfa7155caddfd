"""S3 faults: a small HTTP proxy on 127.0.0.1 in front of the moto server answers a configurable
share / sequence of requests with 503 SlowDown or 500 InternalError, either instead of forwarding
(the request never reached S3) or after forwarding (the write happened, the answer was lost).
`flowc run` with an s3:// datastore through the proxy must complete with the right results: the
runtime's boto3 client retries with backoff (standard mode) and its writes are idempotent."""
from __future__ import annotations

import http.client
import os
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest

from tests.runtime_fixtures import SHARED_VALID, run

_ERRORS = {
    503: b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
         b"<Message>Please reduce your request rate.</Message></Error>",
    500: b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
         b"<Message>We encountered an internal error. Please try again.</Message></Error>",
}
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class FaultProxy:
    """`fraction` of requests fail (seeded), or exactly the request numbers in `sequence`;
    `max_burst` caps consecutive failures so that boto3's 10 attempts always suffice. Each fault
    is (status, "before" | "after" forwarding)."""

    def __init__(self, upstream: str, fraction: float = 0.0, sequence=(), seed: int = 0, max_burst: int = 3):
        self.upstream = urlparse(upstream)
        self.fraction, self.sequence, self.max_burst = fraction, set(sequence), max_burst
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.count = 0
        self.burst = 0
        self.faults: list[tuple[int, int, str, str, str, float]] = []   # (n, status, mode, method, path, t)
        self.forwarded: list[tuple[str, str, float]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _fail(self, status):
                body = _ERRORS[status]
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _serve(self):
                body = self._body()
                fault = proxy.decide(self.command, self.path)
                if fault and fault[1] == "before":
                    return self._fail(fault[0])
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                if body or self.command in ("PUT", "POST"):
                    headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                with proxy.lock:
                    proxy.forwarded.append((self.command, self.path, time.monotonic()))
                if fault:
                    return self._fail(fault[0])
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                import sys
                if not isinstance(sys.exc_info()[1], ConnectionError):   # a client hung up: fine
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def decide(self, method, path):
        with self.lock:
            self.count += 1
            n = self.count
            fail = n in self.sequence or (self.fraction and self.rng.random() < self.fraction)
            if not fail or self.burst >= self.max_burst:
                self.burst = 0
                return None
            self.burst += 1
            status = self.rng.choice((503, 500))
            mode = self.rng.choice(("before", "after"))
            self.faults.append((n, status, mode, method, path, time.monotonic()))
            return status, mode

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


FAULTS_INJECTED: list[int] = []


@pytest.fixture
def proxy(moto_server, monkeypatch):
    p = FaultProxy(moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", p.url)      # the runner and every task go through it
    yield p
    p.stop()
    FAULTS_INJECTED.append(len(p.faults))


def _check_run(root, rid, expect):
    from runtime_shim.client import Run

    r = Run(rid, datastore=root)
    assert r.successful
    expect(r)


@pytest.mark.parametrize("flow,params,expect", [
    ("foreach.py", (), lambda r: r["end"].task.finished),
    ("branch.py", (), lambda r: r["end"].task.finished),
])
def test_flowc_run_survives_throttling_and_500s(s3_root, proxy, flow, params, expect):
    proxy.fraction, proxy.rng, proxy.max_burst = 0.1, random.Random(7), 2
    code, rid, out = run(os.path.join(SHARED_VALID, flow), *params, datastore=s3_root, max_workers=4)
    assert code == 0, out
    print("faults injected: %d of %d requests" % (len(proxy.faults), proxy.count))
    assert len(proxy.faults) >= 5, "too few faults injected to mean anything"
    assert {f[1] for f in proxy.faults} == {500, 503} and {f[2] for f in proxy.faults} == {"before", "after"}
    flow_name = {"foreach.py": "ForeachFlow", "branch.py": "BranchFlow"}[flow]
    proxy.fraction = 0.0
    _check_run(s3_root, "%s/%s" % (flow_name, rid), expect)


def test_retries_back_off(s3_root, proxy):
    """A burst of consecutive SlowDowns on one request: the retries are spaced out (backoff), and
    the write lands once."""
    from runtime_shim.datastore import FlowDatastore

    ds = FlowDatastore(s3_root, "Backoff")
    start = proxy.count
    proxy.sequence = {start + 2, start + 3, start + 4}     # the PUT after the existence check
    proxy.max_burst = 3
    proxy.rng = random.Random(1)
    sha, _ = ds.save_artifact({"k": "v" * 1000})
    assert ds.load_artifact(sha) == {"k": "v" * 1000}
    assert len(proxy.faults) == 3
    times = [f[5] for f in proxy.faults]
    puts = [t for m, _p, t in proxy.forwarded if m == "PUT"]
    assert puts and puts[-1] > times[-1]
    # botocore standard mode: random(0,1) * 2**attempt; three retries waiting < 1 ms in total
    # would mean no backoff at all
    assert puts[-1] - times[0] > 0.001
