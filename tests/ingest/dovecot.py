"""A private Dovecot on a free loopback port, with its own config in a temporary folder.

Used by the ingest tests and by ``bench/imap_sync.py``. Mail is stored in Maildir under
the folder and owned by an unprivileged user (Dovecot refuses uid 0 for mail users).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from tests.net import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "info@vng.test"
PASSWORD = "geheim-wachtwoord"


def mail_owner() -> pwd.struct_passwd:
    """An unprivileged account to own the mail: ``nobody`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    return pwd.getpwnam("nobody")


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{privileges}
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
first_valid_gid = 1
mail_fsync = never
maildir_very_dirty_syncs = yes
login_trusted_networks = 127.0.0.0/8
protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
{oauth_passdb}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
"""

OAUTH_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
"""

OAUTH_CONF = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


class Dovecot:
    """Start, stop and restart one Dovecot; ``port`` (plain/STARTTLS) and ``tls_port`` (implicit TLS)."""

    def __init__(self, root: Path | None = None, cert: tuple[Path, Path] | None = None,
                 introspection_url: str | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix="vng-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port()
        self.cert = cert
        self.introspection_url = introspection_url
        self.process: subprocess.Popen | None = None
        self._write_config()

    def _write_config(self) -> None:
        owner = mail_owner()
        for name in ("mail", "home"):
            (self.root / name).mkdir(exist_ok=True)
            os.chown(self.root / name, owner.pw_uid, owner.pw_gid)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        ssl_files = ""
        if self.cert:
            ssl_files = f"ssl_cert = <{self.cert[0]}\nssl_key = <{self.cert[1]}\n"
        oauth = ""
        if self.introspection_url:
            (self.root / "oauth2.conf.ext").write_text(OAUTH_CONF.format(url=self.introspection_url))
            oauth = OAUTH_PASSDB.format(root=self.root)
        privileges = ""
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.geteuid()).pw_name
            privileges = (f"default_internal_user = {me}\ndefault_login_user = {me}\n"
                          f"default_internal_group = {me}\n")
        (self.root / "dovecot.conf").write_text(CONFIG.format(
            root=self.root, port=self.port, tls_port=self.tls_port if self.cert else 0,
            ssl="yes" if self.cert else "no", ssl_files=ssl_files, oauth_passdb=oauth,
            uid=owner.pw_uid, gid=owner.pw_gid, privileges=privileges))

    @property
    def config_file(self) -> Path:
        return self.root / "dovecot.conf"

    def start(self, timeout: float = 10) -> None:
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.config_file)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("dovecot did not start: " + self.process.stderr.read().decode()
                                   + self.log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not answer in time: " + self.log())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
