# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.config_include import (
    ConfigEditError,
    ensure_lines,
    remove_lines,
)

MARK = "include /etc/nginx/tlsops-ocsp/stapling-server.conf;"

SITE = """\
server {
    listen 80;
}

server {
        listen 443 ssl;
        ssl_certificate a.pem;
}
"""


def test_adds_after_opening_with_the_blocks_indentation():
    result = ensure_lines(SITE, MARK, [5])
    lines = result.text.splitlines()
    assert lines[5] == "        " + MARK
    assert result.added == [6]
    assert result.removed == []
    assert result.text.count(MARK) == 1


def test_second_application_changes_nothing():
    once = ensure_lines(SITE, MARK, [5]).text
    # the opening line keeps its number because the marker goes after it
    again = ensure_lines(once, MARK, [5])
    assert not again.changed
    assert again.text == once


def test_marker_elsewhere_is_moved_and_numbers_refer_to_the_current_file():
    with_stray = SITE.replace("    listen 80;\n", "    " + MARK + "\n    listen 80;\n")
    result = ensure_lines(with_stray, MARK, [6])
    assert result.removed == [2]
    assert result.text == ensure_lines(SITE, MARK, [5]).text


def test_empty_block_gets_one_step_deeper_than_the_opening():
    text = "http {\n  server {\n  }\n}\n"
    result = ensure_lines(text, MARK, [2])
    assert result.text.splitlines()[2] == "      " + MARK


def test_crlf_files_keep_their_line_endings():
    text = SITE.replace("\n", "\r\n")
    result = ensure_lines(text, MARK, [1, 5])
    assert "\r\n" + "    " + MARK + "\r\n" in result.text
    assert "\n" not in result.text.replace("\r\n", "")


def test_vertical_tab_and_form_feed_do_not_split_lines():
    text = "server {\n    # a\x0bb\x0c\n    listen 443;\n}\n"
    result = ensure_lines(text, MARK, [1])
    assert result.added == [2]
    assert remove_lines(result.text, MARK).text == text


@pytest.mark.parametrize("number", [0, 9, 100])
def test_line_numbers_out_of_range_are_refused_with_the_file_name(number):
    with pytest.raises(ConfigEditError, match="site.conf: line"):
        ensure_lines(SITE, MARK, [number], source="site.conf")


def test_unterminated_last_line_is_refused():
    with pytest.raises(ConfigEditError, match="unterminated"):
        ensure_lines("server {", MARK, [1])


def test_remove_restores_the_original_bytes():
    added = ensure_lines(SITE, MARK, [1, 5]).text
    removed = remove_lines(added, MARK)
    assert removed.text == SITE
    assert removed.removed == [2, 7]


def test_remove_without_marker_changes_nothing():
    result = remove_lines(SITE, MARK)
    assert not result.changed
    assert result.text == SITE


line_text = st.text(alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=20)


@given(st.lists(line_text, min_size=1, max_size=12), st.data())
def test_add_then_remove_is_identity(lines, data):
    lines = [line for line in lines if line.strip() != MARK]
    text = "".join(line + "\n" for line in lines)
    candidates = [n for n, line in enumerate(lines, start=1) if line.strip()]
    if not candidates:
        return
    chosen = data.draw(st.lists(st.sampled_from(candidates), unique=True, min_size=1))
    added = ensure_lines(text, MARK, chosen)
    assert len(added.added) == len(chosen)
    assert remove_lines(added.text, MARK).text == text
