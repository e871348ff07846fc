"""Throw-away TLS material for tests: a private CA, a server certificate for 127.0.0.1 and a
client certificate CP1, made with the ``openssl`` command (tests skip without it)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

__all__ = ["make_pki", "openssl", "server_tls"]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(cwd: Path) -> Path:
    """Write ca.pem/ca.key, server.pem/server.key (127.0.0.1, localhost) and client.pem/
    client.key (CN=CP1) into ``cwd``; skips the calling test without openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=cwd)  # fmt: skip
    for name, extensions in (
        ("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ):
        (cwd / f"{name}.ext").write_text(
            "basicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\n" + extensions
        )
        subject = "/CN=127.0.0.1" if name == "server" else "/CN=CP1"
        openssl("req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", subject, cwd=cwd)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                "-out", f"{name}.pem", cwd=cwd)  # fmt: skip
    return cwd


def server_tls(pki: Path, *, client_certificate: bool = True) -> ssl.SSLContext:
    """The server side: its certificate, and (``client_certificate``) a client one required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    if client_certificate:
        context.load_verify_locations(pki / "ca.pem")
        context.verify_mode = ssl.CERT_REQUIRED
    return context
