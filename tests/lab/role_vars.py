# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables that point tlsops.ocsp's server roles at a lab's private instances.

One place for the mapping from lab.json to nginx_stapling_* and
apache_stapling_* variables, shared by the integration tests, the demo and
the benchmarks.
"""
from __future__ import annotations

from typing import Any

# A lab server staples within a few handshakes; these bound the warm-up.
WARM = {"retries": 10, "delay": 0.5}


def nginx(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    section = state["nginx"]
    return {
        "nginx_stapling_binary": section["binary"],
        "nginx_stapling_prefix": section["prefix"] + "/",
        "nginx_stapling_config_file": section["config_file"],
        "nginx_stapling_extra_args": ["-e", section["error_log"]],
        "nginx_stapling_dropin_dir": section["dropin_dir"],
        "nginx_stapling_snippet_dir": section["prefix"] + "/tlsops-ocsp",
        "nginx_stapling_ca_file": state["pki"]["root"]["cert"],
        "nginx_stapling_warm_retries": WARM["retries"],
        "nginx_stapling_warm_delay": WARM["delay"],
        **extra,
    }


def apache(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    section = state["apache"]
    return {
        "apache_stapling_config_dir": section["confdir"],
        "apache_stapling_ctl": section["ctl"],
        "apache_stapling_environment": section["env"],
        "apache_stapling_warm_retries": WARM["retries"],
        "apache_stapling_warm_delay": WARM["delay"],
        **extra,
    }


def haproxy(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    section = state["haproxy"]
    return {
        "haproxy_stapling_binary": section["binary"],
        "haproxy_stapling_config_files": [section["config_file"]],
        "haproxy_stapling_reload_method": "signal",
        "haproxy_stapling_pid_file": section["pid_file"],
        "haproxy_stapling_socket_path": section["socket_path"],
        "haproxy_stapling_refresher": "cron",
        "haproxy_stapling_refresher_dir": section["prefix"] + "/refresher",
        "haproxy_stapling_cron_file": section["prefix"] + "/cron.d/tlsops-ocsp-haproxy",
        "haproxy_stapling_log_file": section["prefix"] + "/refresher.log",
        "haproxy_stapling_warm_retries": WARM["retries"],
        "haproxy_stapling_warm_delay": WARM["delay"],
        **extra,
    }
