# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab as a Python API; lab.py is its command line, lab_fixtures.py its pytest face."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Iterator, Optional, Protocol

from tests.lab import apache_instance, haproxy_instance, lab_pki, nginx_instance, packages, responder, \
    state as lab_state
from tests.lab.processes import LabError, PortTaken, port_taken


class Component(Protocol):
    """What the lab drives: the responder module and the two Server objects."""

    def start(self, state: dict[str, Any]) -> None:
        """Start the component; it is running on return."""

    def stop(self, state: dict[str, Any]) -> None:
        """Stop the component; nothing of it runs on return."""

    def status(self, state: dict[str, Any]) -> dict[str, Any]:
        """Whether the component runs and answers, with its pid and port."""


COMPONENTS = ("responder", "nginx", "apache", "haproxy")
MODULES: dict[str, Component] = {
    "responder": responder, "nginx": nginx_instance.component, "apache": apache_instance.component,
    "haproxy": haproxy_instance.component,
}
# Web servers: their modules describe and write their configurations at init.
SERVER_MODULES: dict[str, ModuleType] = {
    "nginx": nginx_instance, "apache": apache_instance, "haproxy": haproxy_instance,
}
# Directories that init owns inside the lab directory (rebuilt by `init --force`).
OWNED_DIRS = ("pki", "responder", "nginx", "apache2", "haproxy")
DEFAULT_NEXT_UPDATE_MINUTES = 60
DEFAULT_RESPONDER_WORKERS = 4


def selected(only: Iterable[str]) -> list[str]:
    """Components in start order; unknown names are an error."""
    wanted = set(only)
    unknown = wanted - set(COMPONENTS)
    if unknown:
        raise LabError(f"unknown component(s) {', '.join(sorted(unknown))}; choose from {', '.join(COMPONENTS)}")
    return [component for component in COMPONENTS if component in wanted]


class Lab:
    """One lab in one directory; every method is idempotent."""

    def __init__(self, directory: Path | str = lab_state.DEFAULT_DIR) -> None:
        self.directory = Path(directory).absolute()

    @property
    def exists(self) -> bool:
        return lab_state.state_path(self.directory).exists()

    def state(self) -> dict[str, Any]:
        return lab_state.load(self.directory)

    def init(self, base_port: Optional[int] = None, *, force: bool = False, revoke_initially: bool = True,
             next_update_minutes: int = DEFAULT_NEXT_UPDATE_MINUTES,
             responder_workers: int = DEFAULT_RESPONDER_WORKERS,
             responder_signer: str = responder.DELEGATE) -> dict[str, Any]:
        """Build the PKI and every configuration; keep an existing lab unless `force`.

        `responder_signer`: who signs the responder's answers, its delegated responder certificate (as most
        CAs do) or the issuing CA itself (responder.ISSUER)."""
        with lab_state.locked(self.directory):
            if self.exists and not force:
                current = lab_state.load(self.directory)
                if base_port in (None, current["base_port"]):
                    return current
                raise LabError(f"the lab in {self.directory} uses base port {current['base_port']}; "
                               f"add --force to rebuild it on {base_port}")
            if self.exists:
                self._stop_for_rebuild()
            self._remove_owned()
            state = self._build(base_port or lab_state.default_base_port(self.directory),
                                revoke_initially, next_update_minutes, responder_workers, responder_signer)
            lab_state.save(self.directory, state)
            return state

    def rebuild_and_start(self, components: Iterable[str] = COMPONENTS, base_port: Optional[int] = None,
                          attempts: int = 3, **init_options: Any) -> dict[str, Any]:
        """`init --force` and `start`, on `base_port` or a free block of ports.

        When a port is taken meanwhile (labs of parallel sessions), try again on
        another free block. init_options: those of init.
        """
        for _attempt in range(attempts):
            try:
                self.init(base_port or lab_state.free_base_port(), force=True, **init_options)
                return self.start(components)
            except PortTaken:
                self.stop()
                base_port = None
        raise LabError(f"no free block of ports for the lab in {self.directory} after {attempts} attempts")

    def _stop_for_rebuild(self) -> None:
        try:
            self._stop(lab_state.load(self.directory), COMPONENTS)
        except LabError:  # a lab.json of another version: stop what its pid files name
            lab_state.stop_listed_processes(self.directory)

    def _remove_owned(self) -> None:
        for name in OWNED_DIRS:
            shutil.rmtree(self.directory / name, ignore_errors=True)

    def _build(self, base_port: int, revoke_initially: bool, next_update_minutes: int,
               responder_workers: int, responder_signer: str) -> dict[str, Any]:
        ports = lab_state.ports(base_port)
        taken = [str(port) for port in ports.values() if port_taken(port)]
        if taken:
            raise PortTaken(f"port(s) {', '.join(taken)} of base port {base_port} are in use; "
                            f"pick another --base-port (a lab uses {lab_state.PORT_BLOCK} ports from it)")
        packages.ensure_installed()
        lab_pki.make_dir(self.directory, 0o755)
        url = f"http://{responder.HOST}:{ports['responder']}"
        pki_section, leaves = lab_pki.build(self.directory / "pki", url)
        if revoke_initially:
            leaves[lab_pki.INITIALLY_REVOKED]["revocation"] = lab_pki.revocation("keyCompromise")
        lab_pki.write_index(Path(pki_section["index"]), leaves)
        lab_pki.write_crl(pki_section, leaves)
        state = {
            "version": lab_state.STATE_VERSION,
            "dir": str(self.directory),
            "base_port": base_port,
            "ports": ports,
            "pki": pki_section,
            "leaves": leaves,
            "responder": responder.describe(self.directory, ports["responder"], ports["openssl_ocsp"],
                                            pki_section, next_update_minutes, responder_workers,
                                            responder_signer),
        }
        for kind, module in SERVER_MODULES.items():
            state[kind] = module.describe(self.directory, ports[kind], leaves)
            module.configure(state)
        return state

    @contextmanager
    def _locked_state(self) -> Iterator[dict[str, Any]]:
        """lab.json, read under the lab's lock (a missing lab is an error, and no directory is made)."""
        lab_state.load(self.directory)
        with lab_state.locked(self.directory):
            yield lab_state.load(self.directory)

    def _not_initialised(self) -> dict[str, Any]:
        return {"dir": str(self.directory), "initialised": False}

    def start(self, only: Iterable[str] = COMPONENTS) -> dict[str, Any]:
        with self._locked_state() as state:
            try:
                for component in selected(only):
                    MODULES[component].start(state)
            finally:
                lab_state.save(self.directory, state)
            return self._status(state)

    def stop(self, only: Iterable[str] = COMPONENTS) -> dict[str, Any]:
        if not self.exists:
            return self._not_initialised()
        with self._locked_state() as state:
            self._stop(state, only)
            return self._status(state)

    def _stop(self, state: dict[str, Any], only: Iterable[str]) -> None:
        try:
            for component in reversed(selected(only)):
                if component in state:
                    MODULES[component].stop(state)
        finally:
            lab_state.save(self.directory, state)

    def status(self) -> dict[str, Any]:
        if not self.exists:
            return self._not_initialised()
        return self._status(lab_state.load(self.directory))

    def _status(self, state: dict[str, Any]) -> dict[str, Any]:
        report: dict[str, Any] = {
            "dir": state["dir"],
            "initialised": True,
            "base_port": state["base_port"],
            "leaves": {
                name: {"server_name": leaf["server_name"], "revocation": leaf["revocation"]}
                for name, leaf in state["leaves"].items()
            },
        }
        for component in COMPONENTS:
            report[component] = MODULES[component].status(state)
        return report

    def revoke(self, leaf: str, reason: str = "keyCompromise") -> dict[str, Any]:
        """Mark `leaf` revoked in the index and the CRL; a running responder restarts to read the index."""
        with self._locked_state() as state:
            if leaf not in state["leaves"]:
                raise LabError(f"no leaf {leaf!r} in {self.directory}; leaves: {', '.join(state['leaves'])}")
            entry = state["leaves"][leaf]
            if entry["revocation"] is None:
                try:
                    entry["revocation"] = lab_pki.revocation(reason)
                except ValueError as error:
                    raise LabError(str(error)) from None
                lab_pki.write_index(Path(state["pki"]["index"]), state["leaves"])
                lab_pki.write_crl(state["pki"], state["leaves"])
                lab_state.save(self.directory, state)
                responder.reload_index(state)
                lab_state.save(self.directory, state)
            return self._status(state)
