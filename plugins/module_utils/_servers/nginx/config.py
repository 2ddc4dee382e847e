# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An exact reader of nginx configuration, as `nginx -T` prints it.

The tokenizer follows nginx's own `ngx_conf_read_token` (src/core/ngx_conf_file.c):
whitespace separates words; `;`, `{` and `}` end them; `#` starts a comment only
at the start of a word; "}" ends nothing inside a word; a quote starts a quoted word only at the start of a word;
a backslash protects the next character; `${` inside a word is a variable, not a
block; and words are unescaped as nginx does (\\" \\' \\\\ \\t \\r \\n).
The tree has crossplane's shape ({directive, line, args, block}) so that the
unit tests can compare both on the same files.
"""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

Directive = Dict[str, Any]

DUMP_HEADER = re.compile(r"^# configuration file (?P<path>.+):$")
SPECIAL = ";{}"
SPACE = " \t\r\n"  # nginx separates words by these only
UNESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}

INIT_SCRIPT = "/etc/init.d/nginx"  # the system instance's init script (Debian)


class NginxConfigError(ValueError):
    """Text that nginx would not accept; the message names the file and line."""


@dataclass
class Token:
    value: str
    line: int
    quoted: bool = False


def _unescape(raw: str) -> str:
    out: List[str] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw) and raw[index + 1] in UNESCAPES:
            out.append(UNESCAPES[raw[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


class _Lexer:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0
        self.line = 1

    def _next_char(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char == "\n":
            self.line += 1
        return char

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip_comment(self) -> None:
        while self._peek() and self._peek() != "\n":
            self._next_char()

    def _quoted(self, quote: str, line: int) -> Token:
        raw: List[str] = []
        while True:
            if not self._peek():
                raise NginxConfigError(f"{self.source}:{line}: unexpected end of file, expecting {quote}")
            char = self._next_char()
            if char == "\\" and self._peek():
                raw.append(char + self._next_char())
                continue
            if char == quote:
                break
            raw.append(char)
        follower = self._peek()
        if follower and follower not in SPACE + ";{)":
            raise NginxConfigError(f'{self.source}:{self.line}: unexpected "{follower}" after a quoted word')
        return Token(_unescape("".join(raw)), line, quoted=True)

    def _word(self, line: int) -> Token:
        raw: List[str] = []
        while self._peek():
            char = self._peek()
            # nginx ends a word at space, ";" or "{" (not "${"): a "}" belongs to the word
            if char in SPACE or char == ";" or (char == "{" and not (raw and raw[-1] == "$")):
                break
            self._next_char()
            if char == "\\" and self._peek():
                raw.append(char + self._next_char())
                continue
            raw.append(char)
        return Token(_unescape("".join(raw)), line)

    def tokens(self) -> Iterator[Token]:
        while self._peek():
            char = self._peek()
            if char in SPACE:
                self._next_char()
            elif char == "#":
                self._skip_comment()
            elif char in SPECIAL:
                yield Token(self._next_char(), self.line)
            elif char in "\"'":
                line = self.line
                self._next_char()
                yield self._quoted(char, line)
            else:
                yield self._word(self.line)


def tokenize(text: str, source: str = "<config>") -> List[Token]:
    return list(_Lexer(text, source).tokens())


def _parse_block(tokens: List[Token], index: int, source: str, nested: bool) -> Tuple[List[Directive], int]:
    directives: List[Directive] = []
    words: List[Token] = []
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.quoted or token.value not in SPECIAL:
            words.append(token)
            continue
        if token.value == "}":
            if words or not nested:
                raise NginxConfigError(f'{source}:{token.line}: unexpected "}}"')
            return directives, index
        if not words:
            raise NginxConfigError(f'{source}:{token.line}: unexpected "{token.value}"')
        directive: Directive = {"directive": words[0].value, "line": words[0].line,
                                "args": [word.value for word in words[1:]]}
        if token.value == "{":
            directive["block_line"] = token.line
            directive["block"], index = _parse_block(tokens, index, source, nested=True)
            directive["block_end_line"] = tokens[index - 1].line
        directives.append(directive)
        words = []
    if nested:
        raise NginxConfigError(f'{source}: unexpected end of file, expecting "}}"')
    if words:
        raise NginxConfigError(f'{source}:{words[-1].line}: unexpected end of file, expecting ";" or "}}"')
    return directives, index


def parse(text: str, source: str = "<config>") -> List[Directive]:
    """Directives of one file, nested blocks included, includes not followed."""
    return _parse_block(tokenize(text, source), 0, source, nested=False)[0]


def split_dump(dump: str) -> Dict[str, str]:
    """`nginx -T` output -> {file path: its text}, in the order nginx read them."""
    files: Dict[str, str] = {}
    current: Optional[str] = None
    lines: List[str] = []
    for line in dump.splitlines(keepends=True):
        header = DUMP_HEADER.match(line.rstrip("\n"))
        if header:
            if current is not None:
                files[current] = _without_dump_newline(lines)
            current, lines = header.group("path"), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        files[current] = _without_dump_newline(lines)
    return files


def _without_dump_newline(lines: List[str]) -> str:
    # nginx writes one line feed after each file's contents
    text = "".join(lines)
    return text[:-1] if text.endswith("\n") else text


def _glob_matches(pattern: str, path: str) -> bool:
    """glob(3) semantics: wildcards never cross a slash."""
    pattern_parts, path_parts = pattern.split("/"), path.split("/")
    return len(pattern_parts) == len(path_parts) and all(
        fnmatch.fnmatchcase(name, part) for part, name in zip(pattern_parts, path_parts))


def full_path(prefix: str, path: str) -> str:
    return path if path.startswith("/") else os.path.normpath(os.path.join(prefix, path))


@dataclass
class Server:
    file: str
    line: int
    block_line: int
    block_end_line: int
    listens: List[List[str]] = field(default_factory=list)
    server_names: List[str] = field(default_factory=list)
    ssl: bool = False  # serves TLS on some listen
    ssl_on: bool = False  # the old `ssl on;`: every listen is TLS
    certificates: List[str] = field(default_factory=list)
    includes: List[str] = field(default_factory=list)
    # the stapling directives written inside the block (its includes followed): {name, args, file, line}
    stapling_directives: List[Dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class NginxConfig:
    """The configuration as nginx sees it: files, includes resolved, http servers."""

    main_file: str
    files: Dict[str, List[Directive]]
    servers: List[Server] = field(default_factory=list)
    http_includes: List[str] = field(default_factory=list)
    http_directive_files: Dict[str, List[str]] = field(default_factory=dict)  # name -> files setting it
    http_stapling_directives: List[Dict[str, Any]] = field(default_factory=list)  # at http level
    texts: Dict[str, str] = field(default_factory=dict)

    @property
    def conf_prefix(self) -> str:
        return os.path.dirname(self.main_file)

    def included_files(self, pattern: str) -> List[str]:
        absolute = full_path(self.conf_prefix, pattern)
        return sorted(path for path in self.files if _glob_matches(absolute, path))

    def expand(self, file: str, directives: List[Directive],
               ancestors: Tuple[str, ...] = ()) -> List[Tuple[str, Directive]]:
        """(file, directive) pairs; each include is kept and followed by what it includes."""
        expanded: List[Tuple[str, Directive]] = []
        for directive in directives:
            expanded.append((file, directive))
            if directive["directive"] != "include" or not directive["args"]:
                continue
            for path in self.included_files(directive["args"][0]):
                if path not in ancestors:  # a loop: nginx -T would have failed, never follow it
                    expanded += self.expand(path, self.files[path], ancestors + (path,))
        return expanded

    def http_is_including(self, path: str) -> bool:
        """Whether a file at `path` would be read at http level (a drop-in)."""
        return any(_glob_matches(full_path(self.conf_prefix, pattern), path) for pattern in self.http_includes)


Block = List[Tuple[str, Directive]]

# what a block may already say about stapling: the role's snippet sets these too
STAPLING_DIRECTIVES = ("ssl_stapling", "ssl_stapling_verify", "ssl_stapling_file", "ssl_stapling_responder",
                       "ssl_trusted_certificate", "resolver", "resolver_timeout")


def stapling_directives(block: Block) -> List[Dict[str, Any]]:
    """The stapling directives of one level (server or http), with the file and line of each."""
    return [{"name": directive["directive"], "args": directive["args"], "file": source, "line": directive["line"]}
            for source, directive in block if directive["directive"] in STAPLING_DIRECTIVES]


def _values(block: Block, name: str) -> List[List[str]]:
    return [directive["args"] for _source, directive in block if directive["directive"] == name]


def _last_value(block: Block, name: str) -> Optional[str]:
    values = [args for args in _values(block, name) if args]
    return values[-1][0] if values else None


def _server(config: NginxConfig, file: str, directive: Directive, http: Block) -> Server:
    body = config.expand(file, directive["block"])
    listens = _values(body, "listen")
    ssl_on = (_last_value(body, "ssl") or _last_value(http, "ssl")) == "on"
    certificates = ([args[0] for args in _values(body, "ssl_certificate") if args]
                    or [args[0] for args in _values(http, "ssl_certificate") if args])
    return Server(
        file=file, line=directive["line"], block_line=directive["block_line"],
        block_end_line=directive["block_end_line"], listens=listens,
        server_names=[name for args in _values(body, "server_name") for name in args],
        ssl=ssl_on or any("ssl" in args[1:] for args in listens), ssl_on=ssl_on,
        # a certificate named by variables is chosen per handshake and cannot be read here
        certificates=[path if "$" in path else full_path(config.conf_prefix, path) for path in certificates],
        includes=[args[0] for args in _values(body, "include") if args],
        stapling_directives=stapling_directives(body),
    )


def load_dump(dump: str, main_file: Optional[str] = None) -> NginxConfig:
    """Parse `nginx -T` output; the first file is the main configuration unless named."""
    texts = split_dump(dump)
    if not texts:
        raise NginxConfigError("the nginx -T output holds no '# configuration file' sections")
    files = {path: parse(text, path) for path, text in texts.items()}
    config = NginxConfig(main_file=main_file or next(iter(texts)), files=files, texts=texts)
    top = config.expand(config.main_file, files[config.main_file], (config.main_file,))
    for file, directive in top:
        if directive["directive"] != "http" or "block" not in directive:
            continue
        http = config.expand(file, directive["block"])
        config.http_stapling_directives += stapling_directives(http)
        config.http_includes += [args[0] for args in _values(http, "include") if args]
        for source, item in http:
            config.http_directive_files.setdefault(item["directive"], []).append(source)
            if item["directive"] == "server" and "block" in item:
                config.servers.append(_server(config, source, item, http))
    return config


# --- from servers to TLS endpoints ---------------------------------------------------

WILDCARD_HOSTS = ("", "*", "0.0.0.0", "[::]")


def listen_address(args: List[str]) -> Optional[Tuple[str, int]]:
    """(address as written, port) of a `listen`; None for unix sockets."""
    address = args[0] if args else ""
    if address.startswith("unix:"):
        return None
    if address.isdigit():
        return "", int(address)
    host, separator, port = address.rpartition(":")
    if separator and port.isdigit() and not host.endswith(":"):
        return host, int(port)
    return address, 80  # nginx's default port when only an address is given


def _connect_host(address: str, check_host: str, check_host_v6: str) -> str:
    if address == "[::]":
        return check_host_v6
    if address in WILDCARD_HOSTS:
        return check_host
    return address[1:-1] if address.startswith("[") else address


def sni_name(server_names: List[str]) -> Optional[str]:
    """The first name a client could send as SNI: no catch-all, wildcard, regex or variable."""
    for name in server_names:
        if name and name != "_" and not name.startswith("~") and "*" not in name and "$" not in name \
                and not name.startswith("."):
            return name
    return None


def server_endpoints(server: Dict[str, Any], check_host: str = "127.0.0.1",
                     check_host_v6: str = "::1") -> List[Dict[str, Any]]:
    """Where to handshake with a TLS server block from the host itself.

    A wildcard IPv6 listen on a port that also has an IPv4 wildcard is the same
    server reached twice; only the IPv4 one is kept.
    """
    tls_listens = [args for args in server["listens"] if "ssl" in args[1:] or server["ssl_on"]]
    addresses = [address for address in map(listen_address, tls_listens) if address]
    v4_wildcard_ports = {port for host, port in addresses if host in ("", "*", "0.0.0.0")}
    endpoints: List[Dict[str, Any]] = []
    for host, port in addresses:
        if host == "[::]" and port in v4_wildcard_ports:
            continue
        endpoint = {"host": _connect_host(host, check_host, check_host_v6), "port": port,
                    "server_name": sni_name(server["server_names"])}
        if endpoint not in endpoints:
            endpoints.append(endpoint)
    return endpoints


def resolvers(resolv_conf: str) -> List[str]:
    """The nameservers of resolv.conf as nginx's `resolver` wants them (IPv6 in brackets)."""
    found: List[str] = []
    for line in resolv_conf.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) < 2 or words[0] != "nameserver" or "%" in words[1]:
            continue  # nginx cannot use a link-local address with a zone
        address = f"[{words[1]}]" if ":" in words[1] else words[1]
        if address not in found:
            found.append(address)
    return found
