"""What the public side of the HTTP API needs to reveal nothing private: lookup keys and rate limits.

Dossier codes are sequential (``H21.65-220914-0011``, ``-0012`` ...), so a code alone must not open a
dossier's status: the public lookup also needs the dossier's *lookup key*, a keyed hash of the code
(HMAC-SHA256 under a server secret, 10 base32 characters: 50 bits) printed on the receipt inside its
QR (``{public_url}/d/{code}?k={key}``) and as text. Nothing is stored per dossier: the server
recomputes the key from the code, so keys survive restarts as long as the secret file does.
The secret lives in a file outside the database (``0600``), made on first use.

Every public endpoint (tickets by token, dossiers by code and key, the ticket and dossier pages) is
rate-limited per client address with a token bucket held in the process: a burst of ``burst`` requests,
then ``rate`` per second. Enumeration is then both useless (the key) and slow (the bucket).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request

log = logging.getLogger(__name__)

LOOKUP_KEY_CHARS = 10
SECRET_BYTES = 32


class LookupKeys:
    """The lookup key of each dossier code, derived from one server secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the dossier lookup secret must be at least 16 bytes")
        self._secret = secret

    @classmethod
    def from_file(cls, path: Path) -> LookupKeys:
        """The secret in ``path``; a new random one written there (mode 0600) if the file does not exist."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(SECRET_BYTES))
            log.info("made a new dossier lookup secret in %s", path)
        return cls(path.read_bytes())

    @classmethod
    def ephemeral(cls) -> LookupKeys:
        """A secret for this process only (tests, demo): receipts printed before a restart stop working."""
        return cls(secrets.token_bytes(SECRET_BYTES))

    def key(self, code: str) -> str:
        digest = hmac.new(self._secret, code.encode("utf-8"), hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:LOOKUP_KEY_CHARS]

    def matches(self, code: str, given: str | None) -> bool:
        """Whether ``given`` (as printed, any case, spaces ignored) is the lookup key of ``code``."""
        if not given:
            return False
        cleaned = given.replace(" ", "").replace("-", "").upper()
        return hmac.compare_digest(cleaned.encode("ascii", "replace"), self.key(code).encode("ascii"))


class RateLimiter:
    """A token bucket per client address: ``burst`` requests at once, then ``rate`` per second.

    At most ``max_clients`` buckets are kept (the least recently used go first), so a flood of spoofed
    addresses costs memory only up to that bound.
    """

    def __init__(self, rate: float = 2.0, burst: int = 30, max_clients: int = 10_000) -> None:
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> float:
        """0 if ``client`` may go on now, else how many seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    def __call__(self, request: Request) -> None:
        """A FastAPI dependency: 429 with ``Retry-After`` when the caller's bucket is empty."""
        client = request.client.host if request.client else "unknown"
        wait = self.allow(client)
        if wait > 0:
            log.warning("a client went over the public rate limit (%s per second)", self.rate)
            raise HTTPException(
                429, "too many requests: please wait and try again", {"Retry-After": str(int(wait) + 1)}
            )


@dataclass(frozen=True)
class Public:
    """What the public endpoints need: lookup keys, a rate limit, the base URL printed on receipts."""

    lookup_keys: LookupKeys
    limit: RateLimiter = field(default_factory=RateLimiter)
    public_url: str = ""

    def lookup_url(self, code: str) -> str:
        """``{base}/d/{code}?k={key}``; ``base`` is the site's ``public_url`` without its ticket ``/t/``."""
        base = self.public_url.rstrip("/").removesuffix("/t")
        return f"{base}/d/{code}?k={self.lookup_keys.key(code)}"
