# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IIS adapter of the stapling plan (see stapling_plan.py for the interface).

Sites are the HTTPS bindings the role's PowerShell inventory lists; IIS has no files
to write: Schannel staples by itself except on SNI and central-certificate-store
bindings, which need the DWORD ``EnableOcspStaplingForSni``. A binding's sslFlags
DisableOCSPStp is the user's own "stapling off" for it. Windows cannot run
certificate_info, so applicability comes from the staple check (the role's check
phase), not from the plan.

Extra settings: ``check_address`` (where the staple check connects).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import stapling_plan as common
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import USER, Found, Model, Plan, Site

VOCABULARY = common.Vocabulary(prefix="iis_stapling", global_scope="machine", site_scope="binding",
                               global_trouble="change nothing (IIS decides per binding)")
# sslFlags bits, per the IIS 10 schema
SNI = 1
CENTRAL_CERTIFICATE_STORE = 2
DISABLE_OCSP_STAPLING = 8


def decode(binding: Mapping[str, Any], check_address: str) -> Dict[str, Any]:
    """One binding of the inventory: `bindingInformation` is "ip:port:host" (ip "*" or "[v6]")."""
    ip, port, host_name = str(binding["binding_information"]).rsplit(":", 2)  # keeps "[::1]" whole
    flags = int(binding.get("ssl_flags") or 0)
    central = bool(flags & CENTRAL_CERTIFICATE_STORE)
    return {
        "site": binding["site"], "ip": ip, "port": int(port), "host_name": host_name, "ssl_flags": flags,
        "sni": bool(flags & SNI), "central_certificate_store": central,
        "stapling_disabled": bool(flags & DISABLE_OCSP_STAPLING),
        # the central certificate store names its files after the host name
        "certificate_path": (f"CentralCertStore:\\{host_name}.pfx" if central else
                             f"Cert:\\LocalMachine\\{binding.get('certificate_store')}\\{binding.get('certificate_hash')}"),
        "endpoint": {"host": check_address, "port": int(port), "server_name": host_name or None},
    }


def _bindings(discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> List[Dict[str, Any]]:
    return [decode(binding, settings["check_address"]) for binding in discovery.get("bindings", [])]


def model(discovery: Mapping[str, Any], certificates: List[Mapping[str, Any]],
          settings: Mapping[str, Any]) -> Model:
    sites = []
    for binding in _bindings(discovery, settings):
        where = f"binding {binding['ip']}:{binding['port']}:{binding['host_name']} of site '{binding['site']}'"
        off = Found(value="off", where=f"{where} (sslFlags DisableOCSPStp)", origin=USER)
        sites.append(Site(file=binding["site"], line=binding["port"], endpoints=[binding["endpoint"]],
                          certificates=[binding["certificate_path"]], can_include=False,
                          stapling=off if binding["stapling_disabled"] else None))
    return Model(sites=sites, certificates=certificates)


def finish(plan: Plan, model: Model, discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    bindings = _bindings(discovery, settings)
    return {
        "bindings": bindings,
        # only SNI and central-certificate-store bindings need the registry value
        "value_needed": any(binding["sni"] or binding["central_certificate_store"] for binding in bindings),
        "files": [],
        "absent": [],
        "reload": "restart",
    }
