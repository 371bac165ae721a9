"""The dashboard server's network surface with the repository's .streamlit/config.toml: a WebSocket handshake whose
Host header names another machine is refused even when its Origin matches that Host (DNS rebinding), a foreign
Origin is refused, and the browser's own handshakes (Host 127.0.0.1 or localhost) are accepted."""

import base64
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request

import pytest

from apptest_helpers import ROOT

APP = 'import streamlit as st\nst.write("hello")\n'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    """`streamlit run` of a one-line app from the repository root, so the repository's config applies."""
    app = tmp_path_factory.mktemp("server-app") / "app.py"
    app.write_text(APP)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port)],
                            cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _handshake(port: int, host: str, origin: str | None) -> int:
    """Send a WebSocket upgrade request for Streamlit's stream with these Host and Origin headers to 127.0.0.1;
    return the HTTP status of the answer (101 = the connection was accepted)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /_stcore/stream HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    return int(status_line.split()[1]) if status_line.startswith("HTTP/") else 0


def test_the_config_pins_hosts_and_origins():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["address"] == "127.0.0.1" and server["enableCORS"] and server["enableXsrfProtection"]
    assert set(server["allowedHosts"]) == {"localhost", "127.0.0.1", "::1"}
    assert not server.get("corsAllowedOrigins") and server["enableAgentApi"] is False


def test_dns_rebinding_handshakes_are_refused(port):
    # a page on attacker.example whose name now resolves to 127.0.0.1: Host and Origin agree, both foreign
    assert _handshake(port, f"attacker.example:{port}", f"http://attacker.example:{port}") != 101
    assert _handshake(port, f"attacker.example:{port}", None) != 101
    # a foreign page talking to the real address
    assert _handshake(port, f"127.0.0.1:{port}", "http://attacker.example") != 101


def test_the_browsers_own_handshakes_are_accepted(port):
    assert _handshake(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}") == 101
    assert _handshake(port, f"localhost:{port}", f"http://localhost:{port}") == 101
