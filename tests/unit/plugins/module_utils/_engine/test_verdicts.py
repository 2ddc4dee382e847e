# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts


def test_vocabulary_is_the_design_list() -> None:
    assert verdicts.ALL == (
        "good", "revoked", "unknown", "no_staple", "not_applicable", "bad_signature",
        "unauthorized_signer", "wrong_certificate", "expired", "not_yet_valid",
        "responder_error", "malformed", "unreachable",
    )


@pytest.mark.parametrize("verdict", verdicts.ALL)
def test_every_verdict_has_its_own_sentence(verdict: str) -> None:
    text = verdicts.sentence(verdict)
    assert text.endswith(".")
    assert sum(verdicts.sentence(other) == text for other in verdicts.ALL) == 1


def test_unknown_word_is_refused() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        verdicts.sentence("nonsense")
    with pytest.raises(ValueError):
        verdicts.severity("nonsense")


@pytest.mark.parametrize("verdict,plain,must_staple", [
    (verdicts.GOOD, verdicts.OK, verdicts.OK),
    (verdicts.NOT_APPLICABLE, verdicts.OK, verdicts.CRITICAL),
    (verdicts.REVOKED, verdicts.CRITICAL, verdicts.CRITICAL),
    (verdicts.NO_STAPLE, verdicts.WARNING, verdicts.CRITICAL),
    (verdicts.EXPIRED, verdicts.WARNING, verdicts.CRITICAL),
    (verdicts.UNKNOWN, verdicts.WARNING, verdicts.CRITICAL),
    (verdicts.UNREACHABLE, verdicts.WARNING, verdicts.CRITICAL),
])
def test_severity_depends_on_must_staple(verdict: str, plain: str, must_staple: str) -> None:
    assert verdicts.severity(verdict) == plain
    assert verdicts.severity(verdict, must_staple=True) == must_staple
