# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check phase's options.

C(tlsops.ocsp.stapling_check): the C(settings) and C(check) options of the discovery modules (nginx_config_info,
apache_config_info, haproxy_config_info); C(tlsops.ocsp.stapling_check.check_options): the options of
stapling_check_info.
"""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  settings:
    description:
      - The settled settings of the server's role, as the C(tlsops.ocsp.server_settings) filter returns them,
        passed as one value. When given, the module takes its options from the C(discovery) key of this
        value (and, where it says C(audit), the O(check) option from its C(check) key) instead of its own
        options; the mapping from role variables to module options lives in that filter only.
    type: dict
  check:
    description:
      - Also plan stapling for this server, check it, and return both, in this one read-only call (the
        audit of the server roles makes only this call per server).
      - The plan is the one the roles' C(tlsops.ocsp.stapling_plan) filter makes. The check handshakes
        with every planned endpoint and verifies its staple as M(tlsops.ocsp.staple_info) does, asks the
        OCSP responder from this host where an endpoint that should staple staples nothing (as
        M(tlsops.ocsp.responder_info) does), and asks the CRL once per certificate without an OCSP URL
        (as M(tlsops.ocsp.crl_info) does).
      - Implies O(inspect). Needs pyOpenSSL on the host, as M(tlsops.ocsp.staple_info) does.
    type: dict
    suboptions:
      settings:
        description: The plan's settings, as the server's role builds them (C(state), C(audit), C(scope), ...).
        type: dict
        required: true
      retries:
        description: Handshakes to retry per endpoint while it staples nothing valid yet.
        type: int
        default: 0
      retry_delay:
        description: Seconds between those handshakes.
        type: float
        default: 1
      timeout:
        description: Seconds allowed for each handshake, responder request and CRL download.
        type: float
        default: 10
"""

    CHECK_OPTIONS = r"""
options:
  retries:
    description: Handshakes to retry per endpoint while it staples nothing valid yet.
    type: int
    default: 0
  retry_delay:
    description: Seconds between those handshakes.
    type: float
    default: 1
  timeout:
    description: Seconds allowed for each handshake, responder request and CRL download.
    type: float
    default: 10
"""
