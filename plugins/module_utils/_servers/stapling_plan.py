# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stapling plan: what discovery read on one server, turned into what its role does.

Every server role calls one filter, ``tlsops.ocsp.stapling_plan(kind, certificates, settings)``,
on its discovery module's result. This module holds the server-neutral model and every
decision the servers share; one small adapter per server kind (``_servers/nginx/adapter.py``,
``_servers/apache/adapter.py``, ...) reads its discovery into the model and adds what only it needs.

The model
---------
``Site``: one place that serves certificates (nginx ``server`` block, Apache
``<VirtualHost>``, HAProxy ``bind``): where it opens (file, line), the endpoints to
handshake with from the host, its certificate files, the directive that decides
stapling for it (``Found``: its own or inherited from the global level, with the
origin ``user`` or ``role``), whether the role's include line is in it and whether
one can go in.
``Model``: the TLS sites, the user's stapling directives at the global level, the
certificate facts (certificate_info entries) and the role's settings.

The adapter interface (a module ``_servers/<kind>/adapter.py``, listed by kind in registry.py)
-----------------------------------------------------------------------------------
``VOCABULARY: Vocabulary``
    the role's words: variable prefix, scope names (``global`` and ``site`` levels),
    what global stapling does to a certificate without OCSP URL.
``def model(discovery: dict, certificates: list, settings: dict) -> Model``
    the discovery module's result read into the model.
``def finish(plan: Plan, model: Model, discovery: dict, settings: dict) -> dict``
    the server's own keys of the plan (files, absent, reload, ...); its ``errors`` are
    added to the shared ones, the other keys merged over ``plan.as_dict()``.

The plan (a dict, what the roles wire)
--------------------------------------
``scope`` (the role's word, or ``none``), ``errors`` (stop before touching anything),
``warnings``, ``sites`` (managed, with ``stapling_applicable``, ``stapling_reason``,
``must_staple``, ``configured_by``), ``include_targets`` ([{path, after_lines}]),
``endpoints`` (report inputs: host, port, server_name, certificate_path,
stapling_applicable, stapling_reason, must_staple, configured_by, not_before), ``checks`` (what
staple_info takes, same order), plus the adapter's keys: ``files`` ([{path, content}]
to write), ``absent`` (paths to remove), ``reload`` (``reload`` | ``restart``),
``reload_method`` (``service`` or the server's own), ``exclude_from`` (files to take the
marked include line out of), ``snapshot`` (every path to save before changing any).

``settings`` keys every adapter reads: ``state`` (present | absent), ``audit`` (bool:
report what is on disk), ``scope`` (the role's word or ``auto``), ``selected``
(certificate files; empty: all), ``manage_includes`` (bool), ``include_line``,
``reload_method`` (auto or a method), ``service_mgr``, ``private`` (bool: an instance of
its own, unknown to the service manager).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

USER = "user"
ROLE = "role"
GLOBAL = "global"
SITE = "site"
NONE = "none"


class PlanError(ValueError):
    """Settings or discovery the plan cannot work from; the message names the variable."""


@dataclass(frozen=True)
class Vocabulary:
    prefix: str  # the role's variable prefix, e.g. nginx_stapling
    global_scope: str  # the role's word for the global level, e.g. http
    site_scope: str  # the role's word for one site, e.g. server
    global_trouble: str  # what global stapling does to a certificate without OCSP URL

    def scope_word(self, neutral: str) -> str:
        return {GLOBAL: self.global_scope, SITE: self.site_scope}.get(neutral, NONE)

    def neutral(self, word: str) -> str:
        words = {"auto": "auto", self.global_scope: GLOBAL, self.site_scope: SITE}
        if word not in words:
            raise PlanError(f"{self.prefix}_scope must be one of {', '.join(words)}, not {word!r}")
        return words[word]


@dataclass(frozen=True)
class Found:
    """A stapling directive as discovery found it."""

    value: str  # its first argument, lower case (on, off, ...)
    where: str  # file:line
    origin: str  # USER or ROLE


@dataclass
class Site:
    file: str
    line: int  # where it opens: the include line goes right after it
    endpoints: List[Dict[str, Any]]
    certificates: List[str]
    stapling: Optional[Found] = None  # the site's own directive (None: inherits the global level)
    include_present: bool = False  # the role's include line is inside it
    can_include: bool = True
    extra: Dict[str, Any] = field(default_factory=dict)  # adapter facts carried into the plan's sites

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Model:
    sites: List[Site]  # TLS sites only
    certificates: List[Mapping[str, Any]]
    global_stapling: Optional[Found] = None  # the global level's directive, whoever wrote it


@dataclass
class Plan:
    scope: str  # neutral: GLOBAL, SITE or NONE
    sites: List[Dict[str, Any]]
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    include_targets: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def stapled(self) -> List[Dict[str, Any]]:
        """The managed sites stapled by the role's own directives."""
        return [site for site in self.sites if site["configured_by"] == ROLE]

    def as_dict(self, vocabulary: Vocabulary) -> Dict[str, Any]:
        endpoints = [dict(endpoint, certificate_path=(site["certificates"] or [None])[0],
                          **{key: site[key] for key in REPORTED})
                     for site in self.sites for endpoint in site["endpoints"]]
        return {
            "scope": vocabulary.scope_word(self.scope),
            "errors": self.errors,
            "warnings": self.warnings,
            "sites": self.sites,
            "include_targets": self.include_targets,
            "endpoints": endpoints,
            "checks": [{key: endpoint[key] for key in ("host", "port", "server_name")} for endpoint in endpoints],
        }


REPORTED = ("stapling_applicable", "stapling_reason", "must_staple", "configured_by", "not_before")


def leaf_facts(certificates: List[Mapping[str, Any]]) -> Dict[str, Mapping[str, Any]]:
    """The first certificate of each file: the servers require the leaf to come first."""
    leaves: Dict[str, Mapping[str, Any]] = {}
    for facts in certificates:
        leaves.setdefault(facts["path"], facts)
    return leaves


def origin(path: str, role_files: List[str]) -> str:
    return ROLE if path in role_files else USER


def last_found(directives: List[Mapping[str, Any]], name: str, role_files: List[str]) -> Optional[Found]:
    """The directive `name` that applies at one level (servers take the last one), who wrote it and where.

    `directives` are discovery's {name, args, file, line} entries, in the order the server reads them.
    """
    found = [item for item in directives if item["name"] == name and item["args"]]
    if not found:
        return None
    last = found[-1]
    return Found(value=str(last["args"][0]).lower(), where=f"{last['file']}:{last['line']}",
                 origin=origin(last["file"], role_files))


def not_before(site: Site, leaves: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    facts = leaves.get(site.certificates[0]) if site.certificates else None
    return facts.get("not_before") if facts else None


def applicability(site: Site, leaves: Mapping[str, Mapping[str, Any]]) -> Tuple[bool, bool, str]:
    """(stapling applies to every certificate, one is Must-Staple, the reason naming the site)."""
    reasons = []
    for path in site.certificates:
        facts = leaves.get(path)
        if facts is None:
            reasons.append(f"{site.where}: {path} could not be inspected (named by variables, or unreadable)")
        elif not facts["stapling_applicable"]:
            reasons.append(f"{site.where}: {facts['stapling_reason']}")
    if not site.certificates:
        reasons.append(f"{site.where}: serves TLS without a certificate file")
    must_staple = any(leaves[path]["must_staple"] for path in site.certificates if path in leaves)
    return not reasons, must_staple, "; ".join(reasons) or f"{site.where}: every certificate names an OCSP responder"


def _user_directive(site: Site, model: Model) -> Optional[Found]:
    """The user's directive deciding stapling for the site: its own, else the global level's."""
    own = site.stapling if site.stapling and site.stapling.origin == USER else None
    if own or (site.stapling and site.stapling.origin == ROLE):
        return own
    glob = model.global_stapling
    return glob if glob and glob.origin == USER else None


def _choose_scope(requested: str, model: Model, decided: List[Tuple[Site, Dict[str, Any]]],
                  vocabulary: Vocabulary) -> Tuple[str, List[str]]:
    """GLOBAL when every site that would inherit it can staple, else SITE; NONE when the role has nothing to do."""
    free = [(site, facts) for site, facts in decided if facts["user_directive"] is None]
    if not any(facts["stapling_applicable"] for _site, facts in free):
        return NONE, []
    # the global level reaches every site without a directive of its own
    inheriting = [facts for site, facts in free if site.stapling is None or site.stapling.origin == ROLE]
    blocked = [facts for facts in inheriting if not facts["stapling_applicable"]]
    if requested == GLOBAL and blocked:
        return GLOBAL, [f"{vocabulary.prefix}_scope is {vocabulary.global_scope}, but stapling at that level "
                        f"would {vocabulary.global_trouble} for: {facts['stapling_reason']}; use scope "
                        f"{vocabulary.site_scope} or auto" for facts in blocked]
    if requested == GLOBAL or (requested == "auto" and not blocked):
        return GLOBAL, []
    return SITE, []


def _configured_by(site: Site, facts: Dict[str, Any], scope: str, settings: Mapping[str, Any]) -> Optional[str]:
    if facts["user_directive"] is not None:
        return USER
    if settings.get("audit"):  # what is on disk now
        own_role = site.stapling is not None and site.stapling.origin == ROLE
        return ROLE if own_role or site.include_present or facts["global_role"] else None
    if settings["state"] != "present" or not facts["stapling_applicable"]:
        return None
    if scope == GLOBAL or (scope == SITE and (settings["manage_includes"] or site.include_present)):
        return ROLE
    return None


def _user_reason(site: Site, found: Found, facts: Dict[str, Any], vocabulary: Vocabulary) -> str:
    if found.value == "off":
        return (f"{site.where}: stapling is turned off by your own directive at {found.where}; "
                f"{vocabulary.prefix} leaves it as you wrote it")
    if not facts["stapling_applicable"]:
        return (f"{facts['stapling_reason']}; your own directive at {found.where} turns stapling on for it, "
                f"which the server ignores: remove that line for this certificate, or serve one that names "
                "an OCSP responder")
    return f"{facts['stapling_reason']}; stapling is configured by your own directive at {found.where}"


def decide(model: Model, settings: Mapping[str, Any], vocabulary: Vocabulary) -> Plan:
    """The decisions every server shares: applicability, who configures each site, scope, includes, gates."""
    leaves = leaf_facts(list(model.certificates))
    decided: List[Tuple[Site, Dict[str, Any]]] = []
    for site in model.sites:
        applicable, must_staple, reason = applicability(site, leaves)
        glob = model.global_stapling
        decided.append((site, {"stapling_applicable": applicable, "must_staple": must_staple,
                               "stapling_reason": reason, "user_directive": _user_directive(site, model),
                               "global_role": site.stapling is None and glob is not None and glob.origin == ROLE}))
    scope, errors = _choose_scope(vocabulary.neutral(settings["scope"]), model, decided, vocabulary)
    if settings["state"] != "present" and not settings.get("audit"):
        scope, errors = NONE, []
    selected = set(settings.get("selected") or [])
    sites: List[Dict[str, Any]] = []
    warnings: List[str] = []
    targets: Dict[str, List[int]] = {}
    for site, facts in decided:
        if selected and not selected & set(site.certificates):
            continue
        configured_by = _configured_by(site, facts, scope, settings)
        found = facts["user_directive"]
        reason = _user_reason(site, found, facts, vocabulary) if found else facts["stapling_reason"]
        if found and found.value != "off" and not facts["stapling_applicable"]:
            warnings.append(reason)
        if configured_by == ROLE and scope == SITE and not settings.get("audit") and settings["manage_includes"]:
            if not site.can_include:
                errors.append(f"{site.where}: the block opens and closes on one line, so no include line can go "
                              f"inside it; include the role's snippet yourself and set "
                              f"{vocabulary.prefix}_manage_includes to false")
            targets.setdefault(site.file, []).append(site.line)
        sites.append(dict(site.extra, file=site.file, line=site.line, endpoints=site.endpoints,
                          certificates=site.certificates, include_present=site.include_present,
                          stapling_applicable=facts["stapling_applicable"], must_staple=facts["must_staple"],
                          stapling_reason=reason, configured_by=configured_by,
                          not_before=not_before(site, leaves)))
    return Plan(scope=scope, sites=sites, errors=errors, warnings=warnings,
                include_targets=[{"path": path, "after_lines": lines} for path, lines in targets.items()])


def flag(value: Any) -> bool:
    """A boolean setting as a role passes it (Jinja may hand over "False" or "true")."""
    return value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)


def reload_method(settings: Mapping[str, Any], own: str, discovery: Optional[Mapping[str, Any]] = None) -> str:
    """How the server is reloaded: a method the settings name; else the service manager when the running master
    runs in a systemd service (discovery's ``process``, read from /proc: a host with systemd can run a server
    started by hand), the server's own way otherwise (``nginx -s reload``, ``apachectl graceful`` work however it
    was started). Where discovery did not read the process, or none runs: the service manager for the system
    instance under systemd.

    A private instance (its own prefix or configuration) is unknown to the service manager.
    """
    if settings.get("reload_method", "auto") != "auto":
        return settings["reload_method"]
    private = flag(settings.get("private"))
    running = (discovery or {}).get("process")
    if running:
        return "service" if running.get("systemd_unit") and not private else own
    return "service" if settings.get("service_mgr") == "systemd" and not private else own


def edits(plan: Plan, owned: List[str], marked: List[str], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The files to take the marked include line out of, and every path to snapshot before changing any.

    Without managed includes the lines are the author's (their templates write them): never removed.
    """
    targets = [target["path"] for target in plan.include_targets]
    excluded = [path for path in marked if path not in targets] if settings["manage_includes"] else []
    return {"exclude_from": excluded, "snapshot": list(dict.fromkeys(owned + marked + targets))}


def stapling_plan(discovery: Mapping[str, Any], server: Any, certificates: List[Mapping[str, Any]],
                  settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The whole plan of one server: the shared decisions, then the adapter's own keys.

    `server` is the adapter module (_servers/<kind>/adapter.py); the filter picks it by kind.
    """
    settings = dict(settings, **{key: flag(settings.get(key)) for key in ("audit", "manage_includes")})
    model = server.model(discovery, certificates, settings)
    plan = decide(model, settings, server.VOCABULARY)
    result = plan.as_dict(server.VOCABULARY)
    own = dict(server.finish(plan, model, discovery, settings))
    result["errors"] = plan.errors + own.pop("errors", [])
    result.update(own)
    if hasattr(server, "diagnosis_hint"):
        # what the check needs to say why an endpoint staples nothing, per site (module_utils/_servers/diagnosis.py)
        hints = [server.diagnosis_hint(site, discovery, settings)
                 for site in plan.sites for unused in site["endpoints"]]
        result["endpoints"] = [dict(endpoint, diagnosis=hint) for endpoint, hint in zip(result["endpoints"], hints)]
    # the adapter's word on how an endpoint's certificate gets its responses (HAProxy: who fetches, and why)
    notes = result.get("endpoint_notes") or {}
    result["endpoints"] = [dict(endpoint, note=notes[endpoint["certificate_path"]])
                           if endpoint["certificate_path"] in notes else endpoint for endpoint in result["endpoints"]]
    return result
