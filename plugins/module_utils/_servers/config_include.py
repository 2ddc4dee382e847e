# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Marked include lines: one identical line right after chosen block-opening lines.

Pure text editing shared by the nginx (`server {`) and Apache
(`<VirtualHost ...>`) roles. Lines are handled as text with their own line
endings, so removing what was added gives the original bytes back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, List, Sequence

DEFAULT_INDENT_STEP = "    "


class ConfigEditError(ValueError):
    """A request that cannot be applied to the file as it is."""


@dataclass
class EditResult:
    text: str
    added: List[int] = field(default_factory=list)  # 1-based, in the new text
    removed: List[int] = field(default_factory=list)  # 1-based, in the old text

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _split_lines(text: str) -> List[str]:
    """Lines with their endings; only LF ends a line (as nginx and Apache read them)."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _line_ending(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""


def _is_block_end(stripped: str) -> bool:
    return stripped.startswith("}") or stripped.startswith("</")


def _is_blank_or_comment(stripped: str) -> bool:
    return not stripped or stripped.startswith("#")


def _body_indentation(lines: Sequence[str], opening_index: int, marker: str) -> str:
    """Indentation of the block's first directive, or one step deeper than the opening."""
    for line in lines[opening_index + 1:]:
        stripped = line.strip()
        if _is_blank_or_comment(stripped) or stripped == marker:
            continue
        if _is_block_end(stripped):
            break
        return _indentation(line)
    return _indentation(lines[opening_index]) + DEFAULT_INDENT_STEP


def _check_openings(lines: Sequence[str], after_lines: Iterable[int], source: str) -> set:
    openings = set()
    for number in after_lines:
        if not 1 <= number <= len(lines):
            raise ConfigEditError(
                f"{source}: line {number} does not exist (the file has {len(lines)} lines); "
                "pass the line numbers of block-opening lines as the file is now")
        if lines[number - 1].strip() == "" or not _line_ending(lines[number - 1]):
            raise ConfigEditError(
                f"{source}: line {number} is empty or the unterminated last line, "
                "not a block-opening line")
        openings.add(number)
    return openings


def ensure_lines(text: str, marker: str, after_lines: Iterable[int], source: str = "<text>") -> EditResult:
    """Make `marker` appear right after each opening line and nowhere else."""
    marker = marker.strip()
    if not marker:
        raise ConfigEditError(f"{source}: the include line must not be empty")
    lines = _split_lines(text)
    openings = _check_openings(lines, after_lines, source)
    result = EditResult(text="")
    output: List[str] = []
    for number, line in enumerate(lines, start=1):
        if line.strip() == marker and (number - 1) not in openings:
            result.removed.append(number)
            continue
        output.append(line)
        following = lines[number] if number < len(lines) else ""
        if number in openings and following.strip() != marker:
            output.append(_body_indentation(lines, number - 1, marker) + marker + _line_ending(line))
            result.added.append(len(output))
    result.text = "".join(output) if result.changed else text
    return result


def remove_lines(text: str, marker: str) -> EditResult:
    """Remove every line whose stripped text equals `marker`."""
    marker = marker.strip()
    lines = _split_lines(text)
    kept = [line for line in lines if line.strip() != marker]
    removed = [number for number, line in enumerate(lines, start=1) if line.strip() == marker]
    return EditResult(text="".join(kept), removed=removed)
