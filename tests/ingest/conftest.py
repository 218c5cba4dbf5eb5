"""Fixtures for the IMAP ingest tests: a real Dovecot on loopback, a SQLite store, messages."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import threading
from email.utils import make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dovecot import DOVECOT, PASSWORD, USER, Dovecot  # noqa: E402

from store import open_store  # noqa: E402
from store.schema import Message  # noqa: E402
from vng_ingest.config import Config  # noqa: E402
from vng_ingest.shared import DEV_CORPUS

CORPUS = DEV_CORPUS

pytestmark = pytest.mark.dovecot


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ingest" in str(item.fspath):
            item.add_marker(pytest.mark.dovecot)


@pytest.fixture(scope="session", autouse=True)
def _need_dovecot():
    if not Path(DOVECOT).exists():
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd)")


@pytest.fixture
def dovecot():
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def store(tmp_path):
    db = open_store(f"sqlite:///{tmp_path}/vng.sqlite")
    yield db
    db.dispose()


def crlf(raw: bytes) -> bytes:
    """IMAP serves CRLF line ends whatever was appended; compare against that form."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def corpus_messages() -> list[bytes]:
    files = sorted(CORPUS.glob("*.eml"))
    if not files:
        pytest.skip(f"no corpus messages in {CORPUS}")
    return [crlf(path.read_bytes()) for path in files]


def generated(count: int, size: int = 5000, tag: str = "gen") -> list[bytes]:
    """Distinct plain-text messages of about ``size`` bytes."""
    out = []
    for index in range(count):
        head = (f"From: Gemeente Test {index} <opvang{index}@gemeente.test>\r\n"
                f"To: info@vng.test\r\nSubject: Opvanglocatie {tag} {index}\r\n"
                f"Message-ID: {make_msgid(domain='gemeente.test')}\r\n"
                f"Date: Tue, 01 Mar 2022 10:{index % 60:02d}:00 +0100\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
        line = f"Wij bieden {index % 90 + 10} plaatsen vanaf 1 april 2022. Regel {tag}-{index}.\r\n"
        body = line * max(1, (size - len(head)) // len(line))
        out.append((head + body).encode())
    return out


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def append(server: Dovecot, messages: list[bytes], folder: str = "INBOX") -> None:
    with connect(server) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in messages:
            client.append(folder, raw)


def connect(server: Dovecot) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False)
    client.login(USER, PASSWORD)
    return client


def folder_uids(server: Dovecot, folder: str) -> list[int]:
    with connect(server) as client:
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        return client.search(["ALL"])


def assert_stored_once(store, appended: list[bytes]) -> None:
    """Every appended message is in the store exactly once, and nothing else is."""
    with store.session() as session:
        rows = session.scalar(select(func.count()).select_from(Message))
        hashes = set(session.scalars(select(Message.sha256)))
    expected = {sha(raw) for raw in appended}
    assert rows == len(expected), f"{rows} rows for {len(expected)} distinct messages"
    assert hashes == expected


def imap_config(server: Dovecot, monkeypatch, port: int | None = None, **imap) -> Config:
    monkeypatch.setenv("VNG_TEST_IMAP_PASSWORD", PASSWORD)
    settings = {"host": "127.0.0.1", "port": port or server.port, "security": "none",
                "username": USER, "password": {"env": "VNG_TEST_IMAP_PASSWORD"}}
    settings.update(imap)
    return Config.model_validate({"source": {"kind": "imap", "imap": settings},
                                  "poll": {"interval_minutes": 5, "max_backoff_minutes": 60}})


@pytest.fixture
def tls_files(tmp_path):
    """A private CA and a server certificate for 127.0.0.1 signed by it."""
    from datetime import datetime, timedelta, timezone
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vng-ingest test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder = Path(shutil.os.environ.get("TMPDIR", "/tmp")) / f"vng-tls-{tmp_path.name}"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    yield ca_file, cert_file, key_file
    shutil.rmtree(folder, ignore_errors=True)


class Introspection:
    """A tiny OAuth2 token introspection endpoint (RFC 7662) for Dovecot's oauth2 passdb."""

    def __init__(self, tokens: dict[str, str]):
        self.tokens = tokens
        self.requests = 0
        self.down = False           # answer 503, as a sign-in service in an outage does
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                token = (form.get("token") or [""])[0]
                auth = self.headers.get("Authorization", "")
                if not token and auth.lower().startswith("bearer "):
                    token = auth[7:]
                outer.requests += 1
                if outer.down:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                user = outer.tokens.get(token)
                body = json.dumps({"active": "true", "username": user} if user else {"active": "false"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/introspect"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def oauth_dovecot():
    endpoint = Introspection({"good-token": USER})
    server = Dovecot(introspection_url=endpoint.url)
    server.start()
    yield server, endpoint
    server.cleanup()
    endpoint.close()


@pytest.fixture
def tls_dovecot(tls_files):
    ca_file, cert_file, key_file = tls_files
    server = Dovecot(cert=(cert_file, key_file))
    server.start()
    yield server, ca_file
    server.cleanup()
