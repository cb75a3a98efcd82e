"""DKIM signatures (RFC 6376) on outgoing mail, made with dkimpy from the configured key.

The signing domain (`d=`) is the domain of `SOESMART_MAIL_FROM` unless
`SOESMART_DKIM_DOMAIN` names a parent of it; a From outside the signing domain would
fail DMARC alignment at every receiver, so the service refuses to start with it, as
with a key it cannot read (`launcher.preflight`, and the service itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim
from dkim import crypto

from soesmart.config import Settings

# Every header a reader sees or a filter judges; the list headers because RFC 8058
# requires List-Unsubscribe and List-Unsubscribe-Post to be covered by the signature.
# A listed header a mail lacks is signed as absent, so nobody can add it on the way.
SIGNED_HEADERS = tuple(h.encode() for h in (
    "from", "to", "subject", "date", "message-id", "mime-version", "content-type",
    "list-unsubscribe", "list-unsubscribe-post", "auto-submitted",
))


class DkimConfigurationError(ValueError):
    """The DKIM settings cannot work; the message says which setting and why."""


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    domain: str
    private_key: bytes  # PEM

    @classmethod
    def from_settings(cls, settings: Settings) -> DkimSigner | None:
        """The signer the settings describe; None if no selector is set (no signing)."""
        if not settings.dkim_selector:
            if settings.dkim_private_key or settings.dkim_private_key_file or settings.dkim_domain:
                raise DkimConfigurationError(
                    "DKIM: a key or domain is set but no SOESMART_DKIM_SELECTOR; set the "
                    "selector whose DNS record holds the public key")
            return None
        sender_domain = settings.mail_from.rpartition("@")[2].lower().rstrip(".")
        domain = (settings.dkim_domain or sender_domain).lower().rstrip(".")
        if not aligned(sender_domain, domain):
            raise DkimConfigurationError(
                f"DKIM: SOESMART_MAIL_FROM {settings.mail_from!r} is not in the signing domain "
                f"{domain!r} (SOESMART_DKIM_DOMAIN); receivers would not count the signature "
                f"for the From address (DMARC alignment): use an address at {domain} or one "
                "of its subdomains, or sign for the From domain")
        key = _read_key(settings)
        signer = cls(settings.dkim_selector, domain, key)
        try:
            signer.sign(b"From: <check@" + domain.encode() + b">\r\n\r\ncheck\r\n")
        except dkim.DKIMException as exc:
            raise DkimConfigurationError(f"DKIM: the key cannot sign: {exc}") from None
        return signer

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header in front (CRLF line ends)."""
        header = dkim.sign(message, self.selector.encode(), self.domain.encode(),
                           self.private_key, include_headers=list(SIGNED_HEADERS),
                           canonicalize=(b"relaxed", b"relaxed"), linesep=b"\r\n")
        return header + message


def aligned(sender_domain: str, signing_domain: str) -> bool:
    """Relaxed DMARC alignment: From's domain is the signing domain or below it."""
    return sender_domain == signing_domain or sender_domain.endswith("." + signing_domain)


def _read_key(settings: Settings) -> bytes:
    if settings.dkim_private_key:
        source, text = "SOESMART_DKIM_PRIVATE_KEY", settings.dkim_private_key.encode()
    elif settings.dkim_private_key_file:
        source = f"SOESMART_DKIM_PRIVATE_KEY_FILE {settings.dkim_private_key_file}"
        try:
            text = Path(settings.dkim_private_key_file).read_bytes()
        except OSError as exc:
            raise DkimConfigurationError(f"DKIM: cannot read the key: {source}: "
                                         f"{exc.strerror or exc}") from None
    else:
        raise DkimConfigurationError(
            "DKIM: SOESMART_DKIM_SELECTOR is set but no key: set SOESMART_DKIM_PRIVATE_KEY_FILE "
            "(a PEM file) or SOESMART_DKIM_PRIVATE_KEY (the PEM text, e.g. from a secret)")
    try:
        crypto.parse_pem_private_key(text)
    except (crypto.UnparsableKeyError, ValueError, IndexError) as exc:
        raise DkimConfigurationError(
            f"DKIM: {source} is not an RSA private key in PEM form ({exc})") from None
    return text
