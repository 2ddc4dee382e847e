# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read Apache httpd's view of its TLS virtual hosts.

Apache itself says where each virtual host starts (`apachectl -t -D DUMP_VHOSTS`,
the same as `-S`): `file:line` per address. From there this module reads the
directives of that one `<VirtualHost>` block, so that includes, `IfDefine`d
sites and disabled files are seen exactly as the running configuration sees
them, without re-implementing Apache's include logic.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

# `127.0.0.1:443   name (/path/file.conf:12)` or, under a NameVirtualHost header,
# `port 443 namevhost name (/path/file.conf:12)`.
_LOCATION = re.compile(r"^(?P<head>.*?)\s*\((?P<path>.+):(?P<line>\d+)\)\s*$")
_NAME_VHOST = re.compile(r"^port\s+(?P<port>\S+)\s+namevhost\s+(?P<name>\S+)$")
_ADDRESS_HEADER = re.compile(r"^(?P<address>\S+)\s+is a NameVirtualHost$")
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_RUN_CFG_VALUE = re.compile(r'^(?P<key>ServerRoot|PidFile|Main ErrorLog|Define):\s*(?P<value>.*)$')
_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+)')
_VERSION = re.compile(r"Apache/(?P<version>\d+(?:\.\d+)*)")
_CONFIG_FILE = re.compile(r'-D\s+SERVER_CONFIG_FILE="(?P<path>[^"]+)"')

CA_STORE_DIRECTIVES = ("sslcacertificatefile", "sslcacertificatepath")

INIT_SCRIPT = "/etc/init.d/apache2"  # the system instance's init script (Debian)


WILDCARD_HOSTS = ("*", "_default_", "", "0.0.0.0", "[::]")


class ApacheConfigError(ValueError):
    """Apache's output or a configuration file that cannot be read as expected."""


@dataclass(frozen=True)
class VhostLocation:
    """One line of Apache's virtual host dump: an address served by a block."""

    address: str
    server_name: str
    path: str
    line: int


@dataclass(frozen=True)
class Directive:
    name: str  # lower case; Apache directive names are case-insensitive
    args: Tuple[str, ...]
    line: int


def parse_vhost_dump(text: str) -> List[VhostLocation]:
    """Every (address, block) pair of `apachectl -S` output, in Apache's order."""
    locations: List[VhostLocation] = []
    header_address = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        header = _ADDRESS_HEADER.match(stripped)
        if header:
            header_address = header.group("address")
            continue
        located = _LOCATION.match(stripped)
        if not located or stripped.startswith("default server"):
            continue  # `default server` repeats a namevhost line that follows
        head = located.group("head").split()
        name_vhost = _NAME_VHOST.match(" ".join(head))
        if name_vhost:
            address, name = header_address, name_vhost.group("name")
        elif len(head) == 2 and not raw[:1].isspace():
            address, name = head
        else:
            continue
        locations.append(VhostLocation(address, name, located.group("path"), int(located.group("line"))))
    return locations


def parse_run_config(text: str) -> Tuple[Dict[str, str], Dict[str, str]]:
    """({ServerRoot, PidFile, Main ErrorLog}, `Define`d variables) from `apachectl -t -D DUMP_RUN_CFG`."""
    settings: Dict[str, str] = {}
    defines: Dict[str, str] = {}
    for raw in text.splitlines():
        match = _RUN_CFG_VALUE.match(raw.strip())
        if not match:
            continue
        value = match.group("value").strip()
        if match.group("key") == "Define":
            name, defined = (value.split("=", 1) + [""])[:2]
            defines[name] = defined
        else:
            settings[match.group("key")] = value.strip('"')
    return settings, defines


def parse_loaded_modules(text: str) -> List[str]:
    """Module identifiers (`ssl_module`) from `apachectl -M`."""
    modules = []
    for raw in text.splitlines():
        words = raw.split()
        if len(words) == 2 and words[0].endswith("_module") and words[1] in ("(static)", "(shared)"):
            modules.append(words[0])
    return modules


def parse_version(text: str) -> str:
    """`2.4.62` from `apachectl -v`, or an empty string."""
    match = _VERSION.search(text)
    return match.group("version") if match else ""


def parse_config_file(text: str) -> str:
    """The main configuration file (relative to ServerRoot) from `apachectl -V`, or an empty string."""
    match = _CONFIG_FILE.search(text)
    return match.group("path") if match else ""


def split_arguments(text: str) -> Tuple[str, ...]:
    """Apache's argument words: whitespace separates, double or single quotes group.

    Backslashes stay literal except before a quote inside double quotes, as in
    Apache's own ap_getword_conf; this never fails on odd input.
    """
    words = []
    for match in _WORD.finditer(text):
        double, single, bare = match.groups()
        if double is not None:
            words.append(re.sub(r'\\(["\\])', r"\1", double))
        else:
            words.append(single if single is not None else bare)
    return tuple(words)


def _logical_lines(lines: List[str], start: int) -> Iterator[Tuple[int, str]]:
    """(first line number, text) from line index `start`, joining `\\` continuations."""
    index = start
    while index < len(lines):
        number = index + 1
        text = lines[index].rstrip("\r\n")
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text[:-1] + lines[index].rstrip("\r\n")
        index += 1
        yield number, text.strip()


def read_block(text: str, line: int, source: str) -> List[Directive]:
    """Directives of the `<VirtualHost>` block that opens at 1-based `line`.

    Nested sections (`<IfModule>`, `<Directory>`, ...) are read through: their
    conditions are what Apache evaluated when it listed this block, and the
    certificate directives never sit under a condition that is false for a
    virtual host Apache actually serves.
    """
    lines = text.splitlines(keepends=True)
    if not 1 <= line <= len(lines) or not lines[line - 1].lstrip().lower().startswith("<virtualhost"):
        raise ApacheConfigError(
            f"{source}:{line}: Apache names this line as a <VirtualHost> opening, but it is not; "
            "the file changed since Apache read it; run the role again")
    directives: List[Directive] = []
    depth = 0
    for number, logical in _logical_lines(lines, line - 1):
        if not logical or logical.startswith("#"):
            continue
        if logical.startswith("</"):
            depth -= 1
            if depth == 0:
                return directives
            continue
        if logical.startswith("<"):
            depth += 1
            continue
        words = logical.split(None, 1)
        directives.append(Directive(words[0].lower(), split_arguments(words[1] if len(words) > 1 else ""), number))
    raise ApacheConfigError(f"{source}:{line}: the <VirtualHost> block has no closing </VirtualHost>")


def expand_variables(value: str, variables: Mapping[str, str]) -> str:
    """Apache's `${NAME}` from Define and the environment; unknown names stay as they are."""
    return _VARIABLE.sub(lambda match: variables.get(match.group(1), match.group(0)), value)


def split_address(address: str) -> Tuple[Optional[str], Optional[int]]:
    """(host or None for a wildcard, port or None) of `*:443`, `[::1]:8443`, `10.0.0.1`."""
    host, port = address, None
    match = re.match(r"^(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>[0-9*]+))?$", address)
    if match:
        host = match.group("host")
        port = int(match.group("port")) if match.group("port") not in (None, "*") else None
    if host in WILDCARD_HOSTS:
        return None, port
    return host.strip("[]"), port


def _server_name(value: str) -> str:
    """`ServerName https://www.example.org:443` names `www.example.org`."""
    name = value.split("://", 1)[-1]
    if name.startswith("["):
        return name[1:name.index("]")] if "]" in name else name
    return name.rsplit(":", 1)[0] if name.count(":") == 1 else name


def _last_value(directives: List[Directive], name: str) -> Optional[str]:
    values = [directive.args[0] for directive in directives if directive.name == name and directive.args]
    return values[-1] if values else None


def is_stapling_directive(name: str) -> bool:
    """SSLUseStapling and every SSLStapling* setting (names in lower case)."""
    return name == "sslusestapling" or name.startswith("sslstapling")


def is_stapling_or_ca_store(name: str) -> bool:
    """A stapling directive, or one that names the CA store mod_ssl looks for a missing issuer in."""
    return is_stapling_directive(name) or name in CA_STORE_DIRECTIVES


def _stapling_directive(directive: Directive, path: str) -> Dict[str, Any]:
    return {"name": directive.name, "args": list(directive.args), "file": path, "line": directive.line}


def _absolute(path: Optional[str], server_root: str, variables: Mapping[str, str]) -> Optional[str]:
    if path is None:
        return None
    expanded = expand_variables(path, variables)
    return os.path.normpath(os.path.join(server_root, expanded)) if server_root else expanded


def describe_vhost(
    locations: List[VhostLocation],
    text: str,
    server_root: str,
    variables: Mapping[str, str],
    include_line: str = "",
) -> dict:
    """Facts of one `<VirtualHost>` block; `locations` are its lines in Apache's dump."""
    first = locations[0]
    directives = read_block(text, first.line, first.path)
    host, port = split_address(first.address)
    server_name = _last_value(directives, "servername")
    engine = _last_value(directives, "sslengine")
    include_args = tuple(include_line.split()[1:]) if include_line else ()
    return {
        "path": first.path,
        "line": first.line,
        "addresses": sorted({location.address for location in locations}),
        "host": host,
        "port": port,
        "server_name": _server_name(server_name) if server_name else first.server_name,
        "server_aliases": [alias for d in directives if d.name == "serveralias" for alias in d.args],
        "ssl_engine": engine.lower() if engine else None,
        "certificate_file": _absolute(_last_value(directives, "sslcertificatefile"), server_root, variables),
        "chain_file": _absolute(_last_value(directives, "sslcertificatechainfile"), server_root, variables),
        # a CA store of its own, and client verification: what a server-level SSLCACertificateFile would change
        "own_ca": any(d.name in CA_STORE_DIRECTIVES for d in directives),
        "verify_client": (_last_value(directives, "sslverifyclient") or "none").lower(),
        "stapling_directives": [_stapling_directive(directive, first.path) for directive in directives
                                if is_stapling_directive(directive.name)],
        "include_present": bool(include_args) and any(
            d.name in ("include", "includeoptional") and d.args == include_args for d in directives),
    }


def describe_vhosts(
    dump: str,
    read_text: Callable[[str], str],
    server_root: str,
    variables: Mapping[str, str],
    include_line: str = "",
) -> List[dict]:
    """One entry per `<VirtualHost>` block of the dump, in Apache's order."""
    grouped: Dict[Tuple[str, int], List[VhostLocation]] = {}
    for location in parse_vhost_dump(dump):
        grouped.setdefault((location.path, location.line), []).append(location)
    texts: Dict[str, str] = {}
    vhosts = []
    for (path, _line), locations in grouped.items():
        if path not in texts:
            texts[path] = read_text(path)
        vhosts.append(describe_vhost(locations, texts[path], server_root, variables, include_line))
    return vhosts


def _included_paths(pattern: str, server_root: str, variables: Mapping[str, str],
                    expand_glob: Callable[[str], List[str]]) -> List[str]:
    path = _absolute(pattern, server_root, variables) or pattern
    if glob.has_magic(path):
        return sorted(expand_glob(path))  # Apache reads wildcard matches in alphabetical order
    return [path]


def server_directives(
    main_file: str,
    read_text: Callable[[str], str],
    server_root: str,
    variables: Mapping[str, str],
    wanted: Callable[[str], bool] = is_stapling_directive,
    expand_glob: Callable[[str], List[str]] = glob.glob,
) -> List[Dict[str, Any]]:
    """The `wanted` directives in server context, {name, args, file, line}, in the order Apache reads them.

    The main file and every Include/IncludeOptional are followed (missing optional files skipped);
    whatever sits inside a <VirtualHost> section belongs to that host and is left out.
    """
    found: List[Dict[str, Any]] = []

    def read(path: str, seen: Tuple[str, ...]) -> None:
        try:
            lines = read_text(path).splitlines(keepends=True)
        except OSError:
            return  # Apache accepted the configuration: an unreadable file here is one it did not need
        depth = 0  # inside a <VirtualHost> (and the sections nested in it)
        for number, logical in _logical_lines(lines, 0):
            if not logical or logical.startswith("#"):
                continue
            lowered = logical.lower()
            if depth:
                depth += 1 if lowered.startswith("<") and not lowered.startswith("</") else 0
                depth -= 1 if lowered.startswith("</") else 0
                continue
            if lowered.startswith("<virtualhost"):
                depth = 1
                continue
            if logical.startswith("<"):
                continue
            words = logical.split(None, 1)
            directive = Directive(words[0].lower(), split_arguments(words[1] if len(words) > 1 else ""), number)
            if directive.name in ("include", "includeoptional") and directive.args:
                for included in _included_paths(directive.args[0], server_root, variables, expand_glob):
                    if included not in seen:
                        read(included, seen + (included,))
            elif wanted(directive.name):
                found.append(_stapling_directive(directive, path))

    main = _absolute(main_file, server_root, variables) or main_file
    read(main, (main,))
    return found


def is_tls(vhost: Mapping[str, Any]) -> bool:
    """A block that serves a certificate: mod_ssl needs SSLCertificateFile and an engine not turned off."""
    return bool(vhost.get("certificate_file")) and vhost.get("ssl_engine") != "off"
