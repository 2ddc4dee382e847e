# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's PKI on disk, the responder's `openssl ca` style index and the intermediate's CRL.

Root -> intermediate -> leaves, plus a delegated OCSP responder certificate
issued by the intermediate. Every leaf names the intermediate's CRL (served
by the OCSP relay) as its CRL distribution point. Private keys are 0600
files; CA keys live in a 0700 directory.
"""
from __future__ import annotations

import datetime
import os
import time
from pathlib import Path
from typing import Any, Optional

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support import pki

DOMAIN = "lab.test"
# name -> options of TestPKI.leaf; order matters: the first leaf is the default vhost.
LEAVES: dict[str, dict[str, Any]] = {
    "plain": {},
    "must_staple": {"must_staple": True},
    "revoked": {},
    "no_ocsp": {"ocsp_urls": ()},  # like Let's Encrypt since 2025
}
INITIALLY_REVOKED = "revoked"
REVOCATION_REASONS = (
    "unspecified", "keyCompromise", "CACompromise", "affiliationChanged",
    "superseded", "cessationOfOperation", "certificateHold",
)
CRL_PATH = "/crl/intermediate.crl"  # on the responder's URL; the relay serves it
CRL_VALIDITY = datetime.timedelta(days=7)  # nextUpdate after thisUpdate, as Let's Encrypt's CRLs
INDEX_TIME_FORMAT = "%y%m%d%H%M%SZ"  # UTCTime, as `openssl ca` writes it
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # times in lab.json


def server_name(leaf: str) -> str:
    return f"{leaf.replace('_', '-')}.{DOMAIN}"


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Write `data` with exactly `mode`, whatever the umask, never briefly wider."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)


def make_dir(path: Path, mode: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path


def not_after(cert: x509.Certificate) -> datetime.datetime:
    """Naive UTC expiry; cryptography >= 42 deprecates the naive attribute."""
    aware = getattr(cert, "not_valid_after_utc", None)
    return aware.replace(tzinfo=None) if aware else cert.not_valid_after


def _save_pair(issued: pki.Issued, cert_path: Path, key_path: Path) -> dict[str, str]:
    write_file(cert_path, issued.pem, 0o644)
    write_file(key_path, issued.key_pem, 0o600)
    return {"cert": str(cert_path), "key": str(key_path)}


def _index_serial(serial: int) -> str:
    """Serial as `openssl ca` writes it (BN_bn2hex: upper case, whole bytes)."""
    text = f"{serial:X}"
    return text if len(text) % 2 == 0 else "0" + text


def _leaf_entry(test_pki: pki.TestPKI, leaf: str, leaves_dir: Path, crl_url: str) -> dict[str, Any]:
    issued = test_pki.leaf(server_name(leaf), crl_urls=(crl_url,), **LEAVES[leaf])
    directory = make_dir(leaves_dir / leaf, 0o755)
    entry: dict[str, Any] = _save_pair(issued, directory / "cert.pem", directory / "key.pem")
    chain = test_pki.intermediate.pem
    write_file(directory / "chain.pem", chain, 0o644)
    write_file(directory / "fullchain.pem", issued.pem + chain, 0o644)
    entry.update({
        "name": leaf,
        "server_name": server_name(leaf),
        "chain": str(directory / "chain.pem"),
        "fullchain": str(directory / "fullchain.pem"),
        "serial": issued.cert.serial_number,
        "serial_hex": _index_serial(issued.cert.serial_number),
        "subject": issued.cert.subject.rfc4514_string(),
        "not_after": not_after(issued.cert).strftime(ISO_FORMAT),
        "ocsp_url": test_pki.ocsp_url if LEAVES[leaf].get("ocsp_urls", True) else None,
        "crl_url": crl_url,
        "must_staple": bool(LEAVES[leaf].get("must_staple")),
        "revocation": None,
    })
    return entry


def build(pki_dir: Path, ocsp_url: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Issue every certificate into `pki_dir`; return the `pki` and `leaves` sections of lab.json.

    The CRL itself is written by write_crl, once the leaves' revocations are known.
    """
    test_pki = pki.TestPKI(ocsp_url=ocsp_url)
    ca_dir = make_dir(pki_dir / "ca", 0o755)
    private_dir = make_dir(pki_dir / "private", 0o700)
    section: dict[str, Any] = {
        "root": _save_pair(test_pki.root, ca_dir / "root.pem", private_dir / "root.key"),
        "intermediate": _save_pair(test_pki.intermediate, ca_dir / "intermediate.pem",
                                   private_dir / "intermediate.key"),
        "responder": _save_pair(test_pki.delegate, ca_dir / "responder.pem", private_dir / "responder.key"),
        "ca_chain": str(ca_dir / "ca-chain.pem"),
        "index": str(pki_dir / "index.txt"),
        "crl": str(ca_dir / "intermediate.crl"),
        "crl_url": ocsp_url + CRL_PATH,
    }
    write_file(ca_dir / "ca-chain.pem", test_pki.intermediate.pem + test_pki.root.pem, 0o644)
    write_file(pki_dir / "index.txt.attr", b"unique_subject = no\n", 0o644)
    leaves = {leaf: _leaf_entry(test_pki, leaf, make_dir(pki_dir / "leaves", 0o755), section["crl_url"])
              for leaf in LEAVES}
    return section, leaves


def revocation(reason: str, at: Optional[datetime.datetime] = None) -> dict[str, str]:
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"unknown revocation reason {reason!r}; use one of {', '.join(REVOCATION_REASONS)}")
    at = at or pki.utcnow()
    return {"time": at.strftime(ISO_FORMAT), "reason": reason}


def _index_line(leaf: dict[str, Any]) -> str:
    cert = x509.load_pem_x509_certificate(Path(leaf["cert"]).read_bytes())
    expiry = not_after(cert).strftime(INDEX_TIME_FORMAT)
    subject = "/" + "/".join(attribute.rfc4514_string() for attribute in cert.subject)
    status, revoked_field = "V", ""
    if leaf["revocation"]:
        when = datetime.datetime.strptime(leaf["revocation"]["time"], ISO_FORMAT)
        status, revoked_field = "R", f"{when.strftime(INDEX_TIME_FORMAT)},{leaf['revocation']['reason']}"
    return "\t".join((status, expiry, revoked_field, leaf["serial_hex"], "unknown", subject)) + "\n"


def write_index(index_path: Path, leaves: dict[str, dict[str, Any]]) -> None:
    """Write the responder's index: one V (valid) or R (revoked) line per leaf."""
    write_file(index_path, "".join(_index_line(leaf) for leaf in leaves.values()).encode(), 0o644)


def _reason_flag(reason: str) -> x509.ReasonFlags:
    """The CRL reason for an `openssl ca` reason name (they differ only in case: CACompromise)."""
    return next(flag for flag in x509.ReasonFlags if flag.value.lower() == reason.lower())


def write_crl(pki_section: dict[str, Any], leaves: dict[str, dict[str, Any]]) -> None:
    """Write the intermediate's CRL (DER): every revoked leaf with its time and reason, fresh from now.

    The CRL number is the time in seconds, so it grows with every write.
    """
    key = serialization.load_pem_private_key(Path(pki_section["intermediate"]["key"]).read_bytes(), None)
    cert = x509.load_pem_x509_certificate(Path(pki_section["intermediate"]["cert"]).read_bytes())
    revoked = [pki.Revocation(leaf["serial"], datetime.datetime.strptime(leaf["revocation"]["time"], ISO_FORMAT),
                              _reason_flag(leaf["revocation"]["reason"]))
               for leaf in leaves.values() if leaf["revocation"]]
    now = pki.utcnow()
    data = pki.crl(pki.Issued(cert, key), revoked, this_update=now, next_update=now + CRL_VALIDITY,
                   number=int(time.time()))
    write_file(Path(pki_section["crl"]), data, 0o644)
