# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test PKIs, OCSP responses and CRLs made with cryptography.

Shared by the unit tests, the integration tests and the lab. Works with
cryptography 3.4.8 (the oldest a managed host ships) up to the newest, so it
only uses naive UTC datetimes and APIs that exist in both.
"""
from __future__ import annotations

import datetime
import pathlib
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

TLS_FEATURE_STATUS_REQUEST = x509.TLSFeature([x509.TLSFeatureType.status_request])
CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
)


def utcnow() -> datetime.datetime:
    """Naive UTC now, truncated to seconds (ASN.1 times have no fractions)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def new_key(kind: str = "ec"):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsops test"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


@dataclass
class Issued:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: object

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def issue(
    subject: str,
    issuer: Optional[Issued] = None,
    *,
    is_ca: bool = False,
    ocsp_urls: Sequence[str] = (),
    ca_issuers_urls: Sequence[str] = (),
    crl_urls: Sequence[str] = (),
    crl_points: Sequence[x509.DistributionPoint] = (),
    dns_names: Sequence[str] = (),
    must_staple: bool = False,
    must_staple_critical: bool = False,
    ocsp_signing: bool = False,
    not_before: Optional[datetime.datetime] = None,
    not_after: Optional[datetime.datetime] = None,
    key_kind: str = "ec",
    serial_number: Optional[int] = None,
) -> Issued:
    """Issue one certificate; self-signed when no issuer is given.

    `crl_urls` become one distribution point each; `crl_points` are added as they are.
    """
    key = new_key(key_kind)
    now = utcnow()
    not_before = not_before or now - datetime.timedelta(days=1)
    not_after = not_after or now + datetime.timedelta(days=90)
    signer_key = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial_number or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if is_ca:
        # RFC 5280 4.2.1.3; Python 3.13's default TLS context (VERIFY_X509_STRICT) rejects a CA without it.
        builder = builder.add_extension(CA_KEY_USAGE, critical=True)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    access = [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u))
              for u in ocsp_urls]
    access += [x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(u))
               for u in ca_issuers_urls]
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    if crl_urls or crl_points:
        points = [x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in crl_urls]
        points += crl_points
        builder = builder.add_extension(x509.CRLDistributionPoints(points), critical=False)
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns_names]), critical=False
        )
    if must_staple or must_staple_critical:
        builder = builder.add_extension(TLS_FEATURE_STATUS_REQUEST, critical=must_staple_critical)
    if ocsp_signing:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
    elif not is_ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return Issued(builder.sign(signer_key, hashes.SHA256()), key)


@dataclass
class TestPKI:
    """Root -> intermediate -> leaves, plus a delegated OCSP responder."""

    __test__ = False  # not a pytest test class

    ocsp_url: str = "http://127.0.0.1:8888"
    root: Issued = field(init=False)
    intermediate: Issued = field(init=False)
    delegate: Issued = field(init=False)

    def __post_init__(self) -> None:
        self.root = issue("tlsops Test Root CA", is_ca=True, not_after=utcnow() + datetime.timedelta(days=3650))
        self.intermediate = issue(
            "tlsops Test Intermediate CA", self.root, is_ca=True,
            not_after=utcnow() + datetime.timedelta(days=1825),
        )
        self.delegate = issue("tlsops Test OCSP Responder", self.intermediate, ocsp_signing=True)

    def leaf(self, host: str = "www.example.test", **kwargs) -> Issued:
        kwargs.setdefault("ocsp_urls", (self.ocsp_url,))
        kwargs.setdefault("dns_names", (host,))
        return issue(host, kwargs.pop("issuer", self.intermediate), **kwargs)

    def response(
        self,
        cert: x509.Certificate,
        status: str = "good",
        *,
        issuer: Optional[Issued] = None,
        signer: Optional[Issued] = None,
        this_update: Optional[datetime.datetime] = None,
        next_update: Optional[datetime.datetime] = None,
        no_next_update: bool = False,
        revocation_time: Optional[datetime.datetime] = None,
        revocation_reason: Optional[x509.ReasonFlags] = None,
        hash_algorithm: hashes.HashAlgorithm = hashes.SHA1(),
        responder_by_hash: bool = False,
        include_signer: bool = True,
    ) -> bytes:
        """A signed, DER-encoded OCSP response for `cert`.

        `issuer` issued `cert` (default: the intermediate); `signer` signs the
        response (default: the issuer itself). `extra` adds responses for
        other (certificate, issuer) pairs before this one.
        """
        issuer = issuer or self.intermediate
        signer = signer or issuer
        now = utcnow()
        this_update = this_update or now - datetime.timedelta(minutes=5)
        if not no_next_update:
            next_update = next_update or this_update + datetime.timedelta(days=4)
        builder = ocsp.OCSPResponseBuilder()
        cert_status = {
            "good": ocsp.OCSPCertStatus.GOOD,
            "revoked": ocsp.OCSPCertStatus.REVOKED,
            "unknown": ocsp.OCSPCertStatus.UNKNOWN,
        }[status]
        if status == "revoked":
            revocation_time = revocation_time or now - datetime.timedelta(hours=1)
        builder = builder.add_response(
            cert, issuer.cert, hash_algorithm, cert_status, this_update,
            None if no_next_update else next_update,
            revocation_time if status == "revoked" else None,
            revocation_reason if status == "revoked" else None,
        )
        encoding = ocsp.OCSPResponderEncoding.HASH if responder_by_hash else ocsp.OCSPResponderEncoding.NAME
        builder = builder.responder_id(encoding, signer.cert)
        if include_signer and signer is not issuer:
            builder = builder.certificates([signer.cert])
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def error_response(status: ocsp.OCSPResponseStatus) -> bytes:
    """An unsuccessful OCSP response (tryLater, unauthorized, malformedRequest, ...)."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def corrupt_signature(response_der: bytes) -> bytes:
    """Flip a bit in the last byte region of a DER response, where its signature lies."""
    data = bytearray(response_der)
    loaded = ocsp.load_der_ocsp_response(response_der)
    signature = loaded.signature
    offset = bytes(data).rfind(signature)
    data[offset + len(signature) // 2] ^= 0x01
    return bytes(data)


@dataclass
class Revocation:
    """One entry of a CRL."""

    serial_number: int
    time: datetime.datetime
    reason: Optional[x509.ReasonFlags] = None


def crl(issuer: Issued, revoked: Sequence[Revocation] = (), *, signer: Optional[Issued] = None,
        this_update: Optional[datetime.datetime] = None, next_update: Optional[datetime.datetime] = None,
        no_next_update: bool = False, number: Optional[int] = 1,
        extensions: Sequence[Tuple[x509.ExtensionType, bool]] = (), pem: bool = False) -> bytes:
    """A CRL in `issuer`'s name listing `revoked`, signed by `signer` (default: the issuer), DER or PEM.

    Defaults: thisUpdate an hour ago, nextUpdate a day after it. `extensions`
    are (value, critical) pairs added to the CRL.
    """
    signer = signer or issuer
    this_update = this_update or utcnow() - datetime.timedelta(hours=1)
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(issuer.cert.subject)
               .last_update(this_update)
               .next_update(next_update or this_update + datetime.timedelta(days=1)))
    if number is not None:
        builder = builder.add_extension(x509.CRLNumber(number), critical=False)
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    for entry in revoked:
        revoked_builder = (x509.RevokedCertificateBuilder()
                           .serial_number(entry.serial_number).revocation_date(entry.time))
        if entry.reason is not None:
            revoked_builder = revoked_builder.add_extension(x509.CRLReason(entry.reason), critical=False)
        builder = builder.add_revoked_certificate(revoked_builder.build())
    der = builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if no_next_update:  # cryptography builds no CRL without nextUpdate: take it out and sign again
        der = _resigned_without_next_update(der, signer.key)
    return x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM) if pem else der


_TIME_TAGS = (0x17, 0x18)  # UTCTime, GeneralizedTime


def _resigned_without_next_update(der: bytes, key: object) -> bytes:
    # Imported here: the lab imports this module from a plain script, without the collection path.
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import der_children

    (certificate_list,) = der_children(der)
    tbs, algorithm, _signature = der_children(certificate_list.content)
    fields = der_children(tbs.content)
    times = [index for index, element in enumerate(fields) if element.tag in _TIME_TAGS]
    tbs_der = _der(0x30, b"".join(element.raw for index, element in enumerate(fields) if index != times[1]))
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(tbs_der, ec.ECDSA(hashes.SHA256()))
    return _der(0x30, tbs_der + algorithm.raw + _der(0x03, b"\x00" + signature))


def _der(tag: int, content: bytes) -> bytes:
    """One DER element (definite length)."""
    if len(content) < 0x80:
        return bytes((tag, len(content))) + content
    size = (len(content).bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + len(content).to_bytes(size, "big") + content


class SServer:
    """A private `openssl s_server` on 127.0.0.1 serving `leaf` (and `chain`).

    With `status_der` it staples those bytes (`-status_file`); `protocol`
    ("tls1_2" or "tls1_3") pins the version. Port 0 lets the system pick a
    free port (no race with other processes); `port` holds the real one once
    started. Use as a context manager, or call start() and stop() (stop is
    idempotent: call it from a finalizer).
    """

    __test__ = False

    def __init__(self, workdir: pathlib.Path, port: int, leaf: Issued, chain: Sequence[Issued] = (),
                 status_der: Optional[bytes] = None, protocol: Optional[str] = None) -> None:
        self.port = port
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.command = ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-www",
                        "-cert", self._write("leaf.pem", leaf.pem), "-key", self._write("leaf.key", leaf.key_pem)]
        if chain:
            self.command += ["-cert_chain", self._write("chain.pem", b"".join(c.pem for c in chain))]
        if status_der is not None:
            self.command += ["-status_file", self._write("status.der", status_der)]
        if protocol:
            self.command.append("-" + protocol)
        self.process = None

    def _write(self, filename: str, data: bytes) -> str:
        path = self.workdir / filename
        path.write_bytes(data)
        path.chmod(0o600)
        return str(path)

    def start(self, wait: float = 10.0) -> "SServer":
        """Start s_server and return once it listens (its `ACCEPT host:port` line)."""
        log_path = self.workdir / "s_server.log"
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and self.process.poll() is None:
            # "ACCEPT" alone for a given port, "ACCEPT host:port" for port 0.
            listening = re.search(rb"^ACCEPT(?: .*:(\d+))?$", log_path.read_bytes(), re.MULTILINE)
            if listening:
                self.port = int(listening.group(1) or self.port)
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("openssl s_server did not listen on 127.0.0.1:%d: %s"
                           % (self.port, log_path.read_text(errors="replace")))

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> "SServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
