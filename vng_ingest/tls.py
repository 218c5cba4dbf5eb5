"""One TLS policy for every connection we open (IMAP, SMTP): verify by default."""

from __future__ import annotations

import ssl
from pathlib import Path


def tls_context(ca_file: Path | None, verify: bool) -> ssl.SSLContext:
    """The system's trust store (or a configured CA file); verification off only when configured so."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
