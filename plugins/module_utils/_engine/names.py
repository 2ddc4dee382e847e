# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Distinguished names read from a certificate's DER, for names cryptography refuses to decode.

Certificates whose subject or issuer holds bytes that are not valid in their
string type (a UTF8String that is not UTF-8, the commonest case in the wild)
load, but cryptography raises ValueError when `subject` or `issuer` is read.
This reader takes the names from the TBSCertificate bytes, decodes every value
leniently (U+FFFD for bytes that do not decode) and says which attributes were
odd, so such a certificate still gets its facts.
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import der_children

_SEQUENCE = 0x30
_VERSION_TAG = 0xA0  # [0] EXPLICIT Version, absent in v1 certificates

# RFC 4514 short names, as cryptography writes them; other types are written as dotted OIDs.
_SHORT_NAMES: Dict[str, str] = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET",
    "2.5.4.10": "O", "2.5.4.11": "OU", "0.9.2342.19200300.100.1.1": "UID",
}

# string tag -> (codec, what the bytes must be)
_STRING_CODECS: Dict[int, Tuple[str, str]] = {
    0x0C: ("utf-8", "UTF-8"),                 # UTF8String
    0x1E: ("utf-16-be", "UTF-16 (BMPString)"),  # BMPString
    0x1C: ("utf-32-be", "UTF-32 (UniversalString)"),
    0x13: ("ascii", "ASCII (PrintableString)"),
    0x16: ("ascii", "ASCII (IA5String)"),
    0x1A: ("ascii", "ASCII (VisibleString)"),
    0x14: ("latin-1", "T.61 (TeletexString)"),
}


class RawName(NamedTuple):
    """A name as read from the DER: RFC 4514 text, the DER bytes (to compare names) and its oddities."""
    text: str
    der: bytes
    oddities: List[str]


def subject_and_issuer(tbs_certificate: bytes) -> Tuple[RawName, RawName]:
    """(subject, issuer) of the TBSCertificate DER; ValueError if it is not a TBSCertificate."""
    (tbs,) = der_children(tbs_certificate)
    fields = der_children(tbs.content)
    if fields and fields[0].tag == _VERSION_TAG:
        fields = fields[1:]
    if len(fields) < 5 or fields[2].tag != _SEQUENCE or fields[4].tag != _SEQUENCE:
        raise ValueError("not a TBSCertificate")
    return read_name(fields[4].raw, "subject"), read_name(fields[2].raw, "issuer")


def read_name(name_der: bytes, which: str) -> RawName:
    """The RFC 4514 text of a Name (last RDN first), with an oddity per attribute that does not decode."""
    (name,) = der_children(name_der)
    rdns: List[str] = []
    oddities: List[str] = []
    for rdn in der_children(name.content):
        parts = []
        for attribute in der_children(rdn.content):
            oid_element, value = der_children(attribute.content)[:2]
            label = _SHORT_NAMES.get(oid_text(oid_element.content), oid_text(oid_element.content))
            text, problem = _decode(value.tag, value.content)
            if problem:
                oddities.append("the %s's %s is not valid %s (%d bytes), shown with U+FFFD where bytes do not "
                                "decode; tools that decode names strictly may refuse the certificate: reissue it "
                                "with a valid %s name when convenient" % (which, label, problem, len(value.content), which))
            parts.append("%s=%s" % (label, _escape(text) if value.tag in _STRING_CODECS else text))
        rdns.append("+".join(parts))
    return RawName(",".join(reversed(rdns)), name_der, oddities)


def _decode(tag: int, content: bytes) -> Tuple[str, str]:
    """(text, "" or what the bytes should have been)."""
    codec, expected = _STRING_CODECS.get(tag, ("", ""))
    if not codec:
        return "#" + content.hex(), ""  # a value RFC 4514 writes as hex (not a string type)
    try:
        return content.decode(codec), ""
    except UnicodeDecodeError:
        return content.decode(codec, errors="replace"), expected


def _escape(text: str) -> str:
    escaped = "".join("\\" + char if char in ',+"\\<>;' else char for char in text)
    if escaped[:1] in ("#", " "):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def oid_text(content: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's content bytes."""
    arcs: List[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise ValueError("empty OBJECT IDENTIFIER")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in [first, arcs[0] - 40 * first, *arcs[1:]])
