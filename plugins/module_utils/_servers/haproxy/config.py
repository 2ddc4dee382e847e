# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A reader of HAProxy configuration: TLS binds, their certificate files, crt-lists and stats sockets.

Pure Python, standard library only. It reads what HAProxy reads (the files
given with `-f`, in order; a directory means its `*.cfg` files sorted), after
HAProxy itself accepted them (`haproxy -c -f ...`, run by the module). Words
are split as HAProxy's parser does: whitespace separates, `#` starts a comment
outside quotes, a backslash escapes the next character, single and double
quotes group. Certificate files are PEM bundles (certificate, chain, key);
HAProxy also reads `<crt>.key`, `<crt>.issuer` and `<crt>.ocsp` beside them.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

# Files HAProxy skips when it loads a whole directory of certificates (ssl_sock.c).
SKIPPED_SUFFIXES = (".key", ".ocsp", ".issuer", ".sctl", ".dpkg-old", ".dpkg-new", ".orig", ".bak")
SECTIONS = ("global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist",
            "mailers", "program", "http-errors", "ring", "cache", "crt-store")
BIND_SECTIONS = ("frontend", "listen")
# crt-list line options HAProxy >= 2.8 understands, as a name -> has a value.
CRT_LIST_OCSP_UPDATE = "ocsp-update"
# a crt-store `load` line's keywords that take a value (HAProxy 3.0)
LOAD_KEYWORDS = ("crt", "key", "ocsp", "issuer", "sctl", "alias", CRT_LIST_OCSP_UPDATE)
# global settings HAProxy's own OCSP updater depends on, kept as written
UPDATER_PREFIXES = ("ocsp-update.", "httpclient.")
# The haproxy_stapling role's own stanza sits between two comment lines carrying this tag; the model
# describes the user's configuration without it (the role's plan renders the stanza afresh each run).
ROLE_STANZA_TAG = "tlsops.ocsp haproxy_stapling"


class HaproxyConfigError(ValueError):
    """Configuration HAProxy would not read; the message names the file and line."""


def split_words(line: str, source: str = "config", number: int = 0) -> List[str]:
    """The words of one configuration line, as HAProxy's parser splits them (comment dropped)."""
    words: List[str] = []
    current: List[str] = []
    in_word = False
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"' and index + 1 < len(line):
                index += 1
                current.append(line[index])
            else:
                current.append(char)
        elif char in "\"'":
            quote, in_word = char, True
        elif char == "\\" and index + 1 < len(line):
            index += 1
            current.append(line[index])
            in_word = True
        elif char == "#":
            break
        elif char in " \t\r\n":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        else:
            current.append(char)
            in_word = True
        index += 1
    if quote:
        raise HaproxyConfigError("%s line %d: unterminated %s quote" % (source, number, quote))
    if in_word:
        words.append("".join(current))
    return words


def config_files(paths: List[str]) -> List[str]:
    """The files HAProxy reads for `-f path` each: a directory stands for its *.cfg files, sorted."""
    files: List[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(os.path.join(path, name) for name in sorted(os.listdir(path)) if name.endswith(".cfg"))
        else:
            files.append(path)
    return files


def parse(texts: List[Tuple[str, str]]) -> Dict[str, Any]:
    """The model of (path, text) configuration files, in HAProxy's reading order.

    Returns global_settings (crt_base, ocsp_update_mode, stats_sockets, updater_settings: the global
    `ocsp-update.*` and `httpclient.*` lines, issuers_chain_path), binds: [{section, name, file, line,
    addresses, ssl, crt, crt_list, options}] and crt_stores (3.0: {store name ("" unnamed): {crt_base,
    key_base, loads: {alias or crt: the load line's keywords}}}). Relative crt paths are left as written;
    `resolve` joins them to crt-base.
    """
    model: Dict[str, Any] = {"crt_base": None, "ocsp_update_mode": None, "stats_sockets": [], "binds": [],
                             "role_stanza": [], "updater_settings": {}, "issuers_chain_path": None, "crt_stores": {}}
    for path, text in texts:
        section, name = None, None
        in_stanza = False
        for number, line in enumerate(text.splitlines(), start=1):
            if ROLE_STANZA_TAG in line and line.lstrip().startswith("#"):
                in_stanza = " BEGIN " in line
                continue
            words = split_words(line, path, number)
            if in_stanza:
                model["role_stanza"].append({"file": path, "line": number, "words": words})
                continue
            if not words:
                continue
            if words[0] in SECTIONS:
                section, name = words[0], (words[1] if len(words) > 1 else None)
                continue
            if section == "global":
                _global_line(model, words, path, number)
            elif section == "crt-store":
                store = model["crt_stores"].setdefault(name or "", {"crt_base": None, "key_base": None, "loads": {}})
                _crt_store_line(store, words, path, number)
            elif section in BIND_SECTIONS and words[0] == "bind":
                model["binds"].append(_bind(words, section, name, path, number))
    return model


def _global_line(model: Dict[str, Any], words: List[str], path: str, number: int) -> None:
    keyword, args = words[0], words[1:]
    if keyword == "crt-base" and args:
        model["crt_base"] = args[0]
    elif keyword == "ocsp-update.mode" and args:
        model["ocsp_update_mode"] = args[0]
    elif keyword.startswith(UPDATER_PREFIXES) and args:
        model["updater_settings"][keyword] = " ".join(args)
    elif keyword == "issuers-chain-path" and args:
        model["issuers_chain_path"] = args[0]
    elif keyword == "stats" and args[:1] == ["socket"] and len(args) > 1:
        model["stats_sockets"].append(_stats_socket(args[1], args[2:], path, number))


def _crt_store_line(store: Dict[str, Any], words: List[str], path: str, number: int) -> None:
    """A line of a `crt-store` section: its crt-base, key-base, or a `load` of one certificate."""
    keyword, args = words[0], words[1:]
    if keyword in ("crt-base", "key-base") and args:
        store[keyword.replace("-", "_")] = args[0]
    elif keyword == "load":
        load = _pairs(args, LOAD_KEYWORDS)
        if not isinstance(load.get("crt"), str):
            raise HaproxyConfigError("%s line %d: `load` without `crt <file>`" % (path, number))
        load.update(file=path, line=number)
        store["loads"][load.get("alias") or load["crt"]] = load


def _stats_socket(address: str, params: List[str], path: str, number: int) -> Dict[str, Any]:
    """A `stats socket` line: its UNIX path (None for ipv4@/ipv6@ ones) and level (HAProxy's default: operator)."""
    options = _pairs(params, ("level", "mode", "user", "group", "uid", "gid", "expose-fd", "process", "name"))
    unix_path = address[len("unix@"):] if address.startswith("unix@") else address
    if "@" in address and not address.startswith("unix@") or address.startswith(("ipv4@", "ipv6@")) or \
            ":" in address and not address.startswith("/"):
        unix_path = None
    return {"address": address, "path": unix_path, "level": options.get("level", "operator"),
            "mode": options.get("mode"), "file": path, "line": number}


def _pairs(params: List[str], with_value: Tuple[str, ...]) -> Dict[str, Any]:
    """`key value` and bare flag words of a parameter list, last one wins."""
    options: Dict[str, Any] = {}
    index = 0
    while index < len(params):
        key = params[index]
        if key in with_value and index + 1 < len(params):
            options[key] = params[index + 1]
            index += 2
        else:
            options[key] = True
            index += 1
    return options


def _bind(words: List[str], section: Optional[str], name: Optional[str], path: str, number: int) -> Dict[str, Any]:
    if len(words) < 2:
        raise HaproxyConfigError("%s line %d: `bind` without an address" % (path, number))
    bind: Dict[str, Any] = {"section": section, "name": name, "file": path, "line": number,
                            "addresses": words[1].split(","), "ssl": False, "crt": [], "crt_list": [],
                            "ocsp_update": None}
    params = words[2:]
    index = 0
    while index < len(params):
        key = params[index]
        value = params[index + 1] if index + 1 < len(params) else None
        if key == "ssl":
            bind["ssl"] = True
        elif key in ("crt", "crt-list") and value is not None:
            bind["crt" if key == "crt" else "crt_list"].append(value)
            index += 1
        elif key == CRT_LIST_OCSP_UPDATE and value is not None:
            bind["ocsp_update"] = value
            index += 1
        index += 1
    return bind


def parse_crt_list(text: str, source: str) -> List[Dict[str, Any]]:
    """crt-list lines: `<crtfile> [<[ssl options]>] [[!]<sni filter> ...]`."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        options_text = ""
        if "[" in stripped:
            head, _bracket, rest = stripped.partition("[")
            options_text, closing, tail = rest.partition("]")
            if not closing:
                raise HaproxyConfigError("%s line %d: `[` without `]`" % (source, number))
            stripped = head + " " + tail
        words = split_words(stripped, source, number)
        options = _pairs(split_words(options_text, source, number), (CRT_LIST_OCSP_UPDATE,))
        entries.append({"crt": words[0], "filters": words[1:], "line": number,
                        "ocsp_update": options.get(CRT_LIST_OCSP_UPDATE)})
    return entries


def resolve(path: str, crt_base: Optional[str]) -> str:
    """A crt path as HAProxy opens it: relative ones below crt-base."""
    if crt_base and not os.path.isabs(path):
        return os.path.join(crt_base, path)
    return path


def certificate_files(path: str) -> List[str]:
    """A `crt` argument: the file itself, or a directory's certificate files (sorted, side files skipped)."""
    if not os.path.isdir(path):
        return [path]
    return [os.path.join(path, name) for name in sorted(os.listdir(path))
            if not name.startswith(".") and not name.endswith(SKIPPED_SUFFIXES)
            and os.path.isfile(os.path.join(path, name))]


def admin_socket(model: Dict[str, Any]) -> Optional[str]:
    """The first UNIX stats socket with level admin, or None."""
    for socket_entry in model["stats_sockets"]:
        if socket_entry["level"] == "admin" and socket_entry["path"]:
            return socket_entry["path"]
    return None


def side_files(crt: str) -> Dict[str, Any]:
    """The files HAProxy reads beside a certificate bundle, and whether each exists."""
    return {"ocsp_path": crt + ".ocsp", "ocsp_exists": os.path.exists(crt + ".ocsp"),
            "issuer_path": crt + ".issuer" if os.path.exists(crt + ".issuer") else None}


def discover(paths: List[str], reader: Any = None) -> Dict[str, Any]:
    """The model of the configuration HAProxy loads from `paths` (its `-f` arguments).

    Adds `certificates`: one entry per certificate file a TLS bind serves
    (path, binds, sni_filters, crt_list, ocsp_update, and side_files()).
    """
    read = reader or read_text
    files = config_files(paths)
    model = parse([(path, read(path)) for path in files])
    model["config_files"] = files
    model["admin_socket"] = admin_socket(model)
    certificates: Dict[str, Dict[str, Any]] = {}
    for bind in model["binds"]:
        if not bind["ssl"]:
            continue
        where = "%s line %d" % (bind["file"], bind["line"])
        for crt in bind["crt"]:
            for path, loaded in _served(crt, model, where):
                _add(certificates, path, bind, None, [], bind["ocsp_update"], loaded)
        for crt_list in bind["crt_list"]:
            list_path = resolve(crt_list, None)
            for entry in parse_crt_list(read(list_path), list_path):
                for path, loaded in _served(entry["crt"], model, "%s line %d" % (list_path, entry["line"])):
                    _add(certificates, path, bind, list_path, entry["filters"], entry["ocsp_update"], loaded)
    model["certificates"] = list(certificates.values())
    return model


def _served(crt: str, model: Dict[str, Any], where: str) -> List[Tuple[str, Optional[Dict[str, Any]]]]:
    """The certificate files a `crt` word serves, each with the crt-store `load` line it comes from (or None).

    `@<store>/<alias or crt>` (`@/<...>` for the unnamed store) names a certificate a crt-store loaded (3.0)."""
    if not crt.startswith("@"):
        return [(path, None) for path in certificate_files(resolve(crt, model["crt_base"]))]
    store_name, _slash, name = crt[1:].partition("/")
    store = model["crt_stores"].get(store_name)
    load = store["loads"].get(name) if store else None
    if load is None:
        raise HaproxyConfigError("%s: %s names no certificate a crt-store loaded (crt-store %s, load ... alias %s); "
                                 "HAProxy would refuse it" % (where, crt, store_name or "without a name", name))
    base = store["crt_base"] or model["crt_base"]
    return [(resolve(load["crt"], base), dict(load, crt_store=store_name, base=base))]


def _add(certificates: Dict[str, Dict[str, Any]], path: str, bind: Dict[str, Any], crt_list: Optional[str],
         filters: List[str], ocsp_update: Optional[str], loaded: Optional[Dict[str, Any]] = None) -> None:
    """One served certificate; one a crt-store loaded takes its `ocsp-update` and `ocsp` file from its load line."""
    side = side_files(path)
    if loaded is not None:
        ocsp_update = loaded.get(CRT_LIST_OCSP_UPDATE, ocsp_update)
        if isinstance(loaded.get("ocsp"), str):
            ocsp_path = resolve(loaded["ocsp"], loaded["base"])  # HAProxy 3.0 reads it below crt-base too
            side.update(ocsp_path=ocsp_path, ocsp_exists=os.path.exists(ocsp_path))
    entry = certificates.setdefault(path, dict({"path": path, "binds": [], "sni_filters": [], "crt_list": crt_list,
                                                "ocsp_update": ocsp_update, "bind_file": bind["file"],
                                                "bind_line": bind["line"]}, **side))
    if loaded is not None:
        entry.update(crt_store=loaded["crt_store"], alias=loaded.get("alias"))
    label = "%s %s (%s line %d)" % (bind["section"], bind["name"], bind["file"], bind["line"])
    if label not in entry["binds"]:
        entry["binds"].append(label)
    entry.setdefault("addresses", [])
    entry["addresses"].extend(address for address in bind["addresses"] if address not in entry["addresses"])
    entry["sni_filters"].extend(name for name in filters if name not in entry["sni_filters"])


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as error:
        raise HaproxyConfigError("%s: cannot be read (%s); check the path and permissions"
                                 % (path, error.strerror or error)) from None


def parse_version(text: str) -> Optional[Tuple[int, int]]:
    """(major, minor) from `haproxy -v` output ("HAProxy version 2.6.12-1+deb12u4 ..."), or None."""
    for word in text.split():
        head = word.split("-")[0].split(".")
        if len(head) >= 2 and head[0].isdigit() and head[1].isdigit():
            return int(head[0]), int(head[1])
    return None
