# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DER name reader: names cryptography refuses to decode still get RFC 4514 text and their oddities."""
from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import names
from tests.support.pki import _der


def attribute(oid_der: bytes, tag: int, value: bytes) -> bytes:
    return _der(0x31, _der(0x30, _der(0x06, oid_der) + _der(tag, value)))


CN, O = bytes.fromhex("550403"), bytes.fromhex("55040a")


def test_a_readable_name_reads_as_cryptography_writes_it() -> None:
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example, Inc."),
                      x509.NameAttribute(NameOID.COMMON_NAME, "#www.example.test ")])
    read = names.read_name(name.public_bytes(), "subject")
    assert read.text == name.rfc4514_string()
    assert read.oddities == []


@pytest.mark.parametrize("tag, value, text, expected", [
    (0x0C, b"Caf\xe9", "Caf\ufffd", "UTF-8"),
    (0x13, b"caf\xc3\xa9", "caf\ufffd\ufffd", "ASCII (PrintableString)"),
    (0x1E, b"\x00A\xd8", "A\ufffd", "UTF-16 (BMPString)"),
])
def test_bytes_that_do_not_decode_are_named(tag: int, value: bytes, text: str, expected: str) -> None:
    read = names.read_name(_der(0x30, attribute(O, 0x0C, b"Example") + attribute(CN, tag, value)), "issuer")
    assert read.text == "CN=%s,O=Example" % text
    (oddity,) = read.oddities
    assert oddity.startswith("the issuer's CN is not valid %s (%d bytes)" % (expected, len(value)))


def test_unknown_attribute_types_are_dotted_and_non_strings_hex() -> None:
    read = names.read_name(_der(0x30, attribute(bytes.fromhex("2b0601040182373c020101"), 0x04, b"\x01\x02")), "subject")
    assert read.text == "1.3.6.1.4.1.311.60.2.1.1=#0102"


def test_not_a_name_raises_value_error() -> None:
    with pytest.raises(ValueError):
        names.subject_and_issuer(b"\x30\x03\x02\x01\x01")
