#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep HAProxy's OCSP staples fresh, with no Ansible on the host (installed by tlsops.ocsp.haproxy_stapling).

Reads the JSON settings the role wrote (certificate files, stats socket,
renewal margin, file mode), and for each certificate fetches, verifies,
writes `<crt>.ocsp` and pushes it live through the tlsops.ocsp engine, which
the role copied beside this program (ansible_collections/tlsops/ocsp/...).
One line per certificate goes to stdout (the journal, or the log file the
cron entry names). Exit status: 0 all good, 1 a failure to retry (responder
down, HAProxy refused), 2 a certificate is revoked, 3 unusable settings.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy.refresh import refresh_all  # noqa: E402
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.ocsp import MAX_RESPONSE_BYTES  # noqa: E402

USER_AGENT = "tlsops.ocsp haproxy refresher"


def urllib_fetch(url, body, headers, timeout):
    """ocsp.query's transport on the standard library: POST when `body` is given, else GET."""
    request = urllib.request.Request(url, data=body, headers=dict(headers, **{"User-Agent": USER_AGENT}),
                                     method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec: the URL is the certificate's
            return response.status, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_RESPONSE_BYTES)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", required=True, help="the JSON settings file the role wrote")
    parser.add_argument("--renew-before", type=int, help="renew when fewer seconds are left (overrides settings)")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON instead of lines")
    args = parser.parse_args()
    try:
        with open(args.settings, encoding="utf-8") as handle:
            settings = json.load(handle)
        paths = settings["certificates"]
        options = {"socket_path": settings.get("socket"), "mode": int(settings.get("file_mode", "0644"), 8),
                   "renew_before": args.renew_before or int(settings["renew_before"]),
                   "timeout": float(settings.get("timeout", 10))}
    except (OSError, ValueError, KeyError, TypeError) as error:
        print("tlsops-ocsp-haproxy-refresh: cannot use the settings %s (%s: %s); run the "
              "tlsops.ocsp.haproxy_stapling role again" % (args.settings, type(error).__name__, error), file=sys.stderr)
        return 3
    result = refresh_all(paths, urllib_fetch, **options)
    if args.json:
        print(json.dumps(result, indent=1, sort_keys=True))
    else:
        for record in result["certificates"]:
            print("%s %s: %s%s, %s: %s" % (result["checked_at"], record["path"], record["action"],
                                           " and pushed live" if record["pushed"] else "", record["verdict"],
                                           record["reason"]))
    if result["revoked"]:
        return 2
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
