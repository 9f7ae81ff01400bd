"""The ``[alerts]`` table of the site file: who is told when a device needs someone, and how.

```toml
[alerts]
repeat_after_min = 60                 # an incident still open is told again after this long (0: never)
settle_s = 60                         # a recovery is told once it has held this long (0: at once)
timeout_s = 10                        # longest one e-mail or webhook may take before it is given up
email_to = ["kythuat@ttphvhcc.example.gov.vn"]
email_from = "motcua@ttphvhcc.example.gov.vn"
smtp_host = "smtp.ttphvhcc.example.gov.vn"   # the centre's relay; no e-mail when absent
smtp_port = 25
smtp_starttls = false
smtp_user = "motcua"                  # optional; its password comes from smtp_password_file
smtp_password_file = "/etc/motcua/secrets/smtp-password"
webhook_url_file = "/etc/motcua/secrets/chat-webhook"   # a file holding the URL (it often holds a token)
webhook_url = "http://chat.local/hooks/ky-thuat"        # or the URL itself when it holds no secret
```

Both channels are optional; with neither, incidents are still recorded and shown on the dashboard.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from siteconf.base import Section

if TYPE_CHECKING:
    from siteconf.model import Site

_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value


class AlertsConf(Section):
    """E-mail through the centre's SMTP relay and a JSON webhook for chat tools."""

    repeat_after_min: float = Field(default=60.0, ge=0, le=7 * 24 * 60)
    # A recovery is told only after it has held this long; the same fault back within it (a paper
    # sensor flickering at the roll's end, a cable that drops again) continues the incident silently.
    settle_s: float = Field(default=60.0, ge=0, le=3600)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    email_to: list[str] = Field(default_factory=list, max_length=50)
    email_from: str | None = None
    smtp_host: str | None = Field(default=None, min_length=1, max_length=253)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_user: str | None = Field(default=None, min_length=1, max_length=200)
    smtp_password_file: str | None = None
    webhook_url: str | None = None
    webhook_url_file: str | None = None

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _ADDRESS.match(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @field_validator("email_from")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.smtp_host is not None and (not self.email_to or self.email_from is None):
            raise ValueError("smtp_host needs email_to (at least one address) and email_from")
        if self.email_to and self.smtp_host is None:
            raise ValueError("email_to needs smtp_host, the centre's SMTP relay")
        if self.smtp_password_file is not None and self.smtp_user is None:
            raise ValueError("smtp_password_file needs smtp_user")
        if self.webhook_url is not None and self.webhook_url_file is not None:
            raise ValueError("give webhook_url or webhook_url_file, not both")
        return self

    @property
    def email(self) -> bool:
        return self.smtp_host is not None

    @property
    def repeat_after_s(self) -> float:
        return self.repeat_after_min * 60

    def problems(self, site: Site) -> list[str]:
        return []
