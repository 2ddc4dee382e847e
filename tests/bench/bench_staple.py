#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the staple checks (a script, not a test: `make test` never runs it).

1. The same endpoint checked N times: the engine (tls.handshake alone, and the
   full staple.check_endpoint with verification) against `openssl s_client
   -status` run as a subprocess, the way a shell script would check a staple.
2. One check over many endpoints (default 1,000) on loopback addresses
   127.0.0.x: a private nginx with ten sites (good, revoked, unstapled, a
   foreign staple, a forged staple, no OCSP URL), each listening on its share
   of the ports, checked by one `ansible localhost -m tlsops.ocsp.staple_info`
   call (every verdict compared with the one expected), by the engine alone,
   by sslyze `--certinfo` (from a venv the bench makes on demand) and by
   serial `openssl s_client -status` (a sample, extrapolated), with ratios.

Everything runs on loopback in a temporary directory and is stopped at the
end. See tests/bench/README.md.
"""
from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tests.conftest import COLLECTIONS_PATH  # noqa: E402  (makes the collection importable)
from tests.support.many_endpoints import Site, Target, make_targets, private_nginx  # noqa: E402
from tests.support.pki import Issued, SServer, TestPKI, corrupt_signature  # noqa: E402

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import staple
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import tls  # noqa: E402

SERVER_NAME = "www.example.test"
MODULE = "tlsops.ocsp.staple_info"
SSLYZE_VERSION = "6.3.1"  # installs on Python 3.9 .. 3.13 from wheels
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tlsops-bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="part 1: checks of the same endpoint (default 200)")
    parser.add_argument("--tls-version", default="TLSv1.3", choices=sorted(tls.TLS_VERSIONS),
                        help="part 1: protocol (part 2 lets each client and nginx agree, as users run it)")
    parser.add_argument("--endpoints", type=int, default=1000, help="part 2: endpoints (default 1000)")
    parser.add_argument("--addresses", type=int, default=4,
                        help="part 2: loopback addresses 127.0.0.1..N the endpoints spread over (default 4)")
    parser.add_argument("--workers", type=int, default=64, help="part 2: concurrent checks of the engine run")
    parser.add_argument("--s-client-sample", type=int, default=50,
                        help="part 2: endpoints checked by serial s_client, extrapolated to all (default 50)")
    parser.add_argument("--sslyze-version", default=SSLYZE_VERSION, help="sslyze from PyPI (default %(default)s)")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx", help="nginx binary")
    parser.add_argument("--skip-single", action="store_true", help="skip part 1 (same endpoint N times)")
    parser.add_argument("--skip-fleet", action="store_true", help="skip part 2 (many endpoints)")
    parser.add_argument("--skip-sslyze", action="store_true", help="part 2 without sslyze")
    parser.add_argument("--outside", type=int, default=10000,
                        help="part 3: endpoints of the whole tlsops.ocsp.audit playbook run (default 10000)")
    parser.add_argument("--skip-outside", action="store_true", help="skip part 3 (the audit playbook)")
    return parser.parse_args()


# ---------------------------------------------------------------- timing helpers

def timed(action: Callable[[], object]) -> Tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def with_cpu(action: Callable[[], object]) -> Tuple[object, float]:
    """`action`'s result and the CPU seconds (user + system) it cost this process and the children it waited for.

    On a loaded machine wall times stretch with the load; CPU seconds much less.
    """
    def used() -> float:
        return sum(usage.ru_utime + usage.ru_stime
                   for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))
    before = used()
    result = action()
    return result, used() - before


def mean_ms(action: Callable[[], object], count: int, accept: Callable[[object], bool]) -> float:
    """Mean wall time of `count` runs of `action` in milliseconds; every run must pass `accept`."""
    return statistics.mean(checked_run(action, accept) for _run in range(count)) * 1000


def checked_run(action: Callable[[], object], accept: Callable[[object], bool]) -> float:
    seconds, result = timed(action)
    if not accept(result):
        raise SystemExit("benchmark run gave an unexpected result: %r" % (result,))
    return seconds


def print_table(title: str, rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print("\n" + title)
    for index, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("  " + "  ".join("-" * width for width in widths))


# ---------------------------------------------------------------- part 1: one endpoint, N times

def s_client_status(port: int, tls_version: str) -> bytes:
    flag = "-tls1_3" if tls_version.endswith("1.3") else "-tls1_2"
    completed = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", SERVER_NAME, "-status", flag],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, check=False,
    )
    return completed.stdout


def bench_single(workdir: Path, pki: TestPKI, leaf: Issued, staple_der: bytes, args: argparse.Namespace) -> None:
    """Part 1: the mean per check of each method, with its ratio to s_client."""
    version = args.tls_version
    with SServer(workdir / "s_server", 0, leaf, [pki.intermediate], staple_der) as server:
        check = functools.partial(staple.check_endpoint, "127.0.0.1", server.port, SERVER_NAME, tls_version=version)
        shake = functools.partial(tls.handshake, "127.0.0.1", server.port, SERVER_NAME,
                                  min_version=version, max_version=version)
        client = functools.partial(s_client_status, server.port, version)
        s_client_ms = mean_ms(client, args.count, lambda out: b"OCSP Response Status: successful" in out)
        handshake_ms = mean_ms(shake, args.count, lambda result: result.stapled == staple_der)
        check_ms = mean_ms(check, args.count, lambda entry: entry["verdict"] == "good")
    print_table(
        "1. same endpoint, %d times (%s, openssl s_server on loopback)" % (args.count, args.tls_version),
        [
            ("method", "mean per check", "ratio to s_client"),
            ("openssl s_client -status (subprocess)", "%.2f ms" % s_client_ms, "1.00"),
            ("engine tls.handshake", "%.2f ms" % handshake_ms, "%.2f" % (handshake_ms / s_client_ms)),
            ("engine staple.check_endpoint (+ verify)", "%.2f ms" % check_ms, "%.2f" % (check_ms / s_client_ms)),
        ],
    )


# ---------------------------------------------------------------- part 2: many endpoints

# Ten sites, each on every tenth endpoint: (kind, the verdict staple_info must give).
SITE_KINDS = ["good"] * 5 + ["revoked", "no_staple", "wrong_certificate", "bad_signature", "not_applicable"]
EXPECTED = {"good": "good", "revoked": "revoked", "no_staple": "no_staple", "wrong_certificate": "wrong_certificate",
            "bad_signature": "bad_signature", "not_applicable": "not_applicable"}


def make_sites(pki: TestPKI) -> List[Site]:
    sites = []
    foreign = pki.leaf("foreign.example.test")
    for number, kind in enumerate(SITE_KINDS):
        name = "site%02d.example.test" % number
        leaf = pki.leaf(name, ocsp_urls=()) if kind == "not_applicable" else pki.leaf(name)
        staple = {
            "good": lambda: pki.response(leaf.cert),
            "revoked": lambda: pki.response(leaf.cert, "revoked"),
            "wrong_certificate": lambda: pki.response(foreign.cert),
            "bad_signature": lambda: corrupt_signature(pki.response(leaf.cert)),
        }.get(kind, lambda: None)()
        sites.append(Site(name, kind, leaf.pem + pki.intermediate.pem, leaf.key_pem, staple))
    return sites


# ---------------------------------------------------------------- part 2: the methods

def counts(values: Sequence[str]) -> str:
    return ", ".join("%s %d" % item for item in sorted(collections.Counter(values).items()))


def judged(entries: Sequence[Dict], targets: Sequence[Target]) -> Tuple[int, str]:
    """(how many entries have a wrong verdict, a summary of the verdicts and of the mistakes)."""
    wrong = [(target, entry) for target, entry in zip(targets, entries)
             if (entry["host"], entry["port"]) != (target.address, target.port)
             or entry["verdict"] != EXPECTED[target.site.kind]]
    summary = ("all %d right" % len(entries) if not wrong else "%d WRONG" % len(wrong)) + " (%s)" % counts(
        [entry["verdict"] for entry in entries])
    if wrong:
        target, entry = wrong[0]
        summary += "; first wrong: %s:%d expected %s, got %s: %s" % (
            target.address, target.port, EXPECTED[target.site.kind], entry["verdict"], entry["reason"])
    return len(wrong), summary


def ansible_env(workdir: Path) -> Dict[str, str]:
    home = workdir / "ansible-home"
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_HOME=str(home),
                ANSIBLE_LOCAL_TEMP=str(home / "tmp"), ANSIBLE_REMOTE_TMP=str(home / "remote-tmp"),
                ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
                ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="False")


def run_ansible(module: str, module_args: str, workdir: Path) -> Tuple[float, Dict]:
    """One `ansible localhost -m MODULE -a ARGS`: wall time and the host's result."""
    ansible = str(Path(sys.executable).parent / "ansible")
    seconds, completed = timed(lambda: subprocess.run(
        [ansible, "localhost", "-c", "local", "-m", module, "-a", module_args],
        env=ansible_env(workdir), capture_output=True, text=True, timeout=900, check=False,
    ))
    try:
        return seconds, json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise SystemExit("ansible gave no result (rc %d): %s"
                         % (completed.returncode, (completed.stderr or completed.stdout)[-2000:])) from None


def sslyze_binary(version: str) -> Path:
    """sslyze from PyPI in a venv of the bench's own (made once, under ~/.cache/tlsops-bench)."""
    venv = CACHE_DIR / ("sslyze-%s" % version)
    binary = venv / "bin" / "sslyze"
    if not binary.exists():
        print("installing sslyze %s into %s ..." % (version, venv), flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "sslyze==%s" % version],
                       check=True)
    return binary


def run_sslyze(binary: Path, targets: Sequence[Target], workdir: Path) -> Tuple[float, str]:
    """sslyze --certinfo over every target (`name:port{address}`): wall time and the staple statuses it saw."""
    targets_file = workdir / "sslyze-targets.txt"
    targets_file.write_text("".join("%s:%d{%s}\n" % (t.site.name, t.port, t.address) for t in targets))
    report = workdir / "sslyze.json"
    seconds, completed = timed(lambda: subprocess.run(
        [str(binary), "--certinfo", "--quiet", "--json_out", str(report), "--targets_in", str(targets_file)],
        capture_output=True, text=True, timeout=3600, check=False,
    ))
    if not report.exists():
        raise SystemExit("sslyze wrote no report (rc %d): %s" % (completed.returncode, completed.stderr[-2000:]))
    return seconds, counts([sslyze_status(result) for result in json.loads(report.read_text())["server_scan_results"]])


def sslyze_status(result: Dict) -> str:
    if result.get("scan_status") != "COMPLETED":
        return "unreachable"
    certinfo = result["scan_result"]["certificate_info"]
    if certinfo["status"] != "COMPLETED":
        return "error"
    response = certinfo["result"]["certificate_deployments"][0]["ocsp_response"]
    return "no staple" if response is None else response["certificate_status"].lower()


def s_client_staple(target: Target) -> str:
    """One `openssl s_client -status` as a shell check runs it: the status line it prints."""
    completed = subprocess.run(
        ["openssl", "s_client", "-connect", "%s:%d" % (target.address, target.port),
         "-servername", target.site.name, "-status"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, check=False,
    )
    output = completed.stdout.decode(errors="replace")
    if "OCSP response: no response sent" in output:
        return "no staple"
    for line in output.splitlines():
        if line.strip().startswith("Cert Status:"):
            return line.split(":", 1)[1].strip()
    return "unreachable"


def bench_fleet(workdir: Path, pki: TestPKI, args: argparse.Namespace) -> int:
    """Part 2; returns how many of our verdicts were wrong."""
    sites = make_sites(pki)
    targets = make_targets(sites, args.endpoints, args.addresses)
    endpoints = [target.endpoint for target in targets]
    binary = None if args.skip_sslyze else sslyze_binary(args.sslyze_version)
    load_before = os.getloadavg()[0]
    with private_nginx(args.nginx, workdir / "nginx", targets):
        (module_seconds, result), module_cpu = with_cpu(
            lambda: run_ansible(MODULE, json.dumps({"endpoints": endpoints}), workdir))
        if "endpoints" not in result:
            raise SystemExit("%s failed: %s" % (MODULE, result.get("msg", result)))
        module_wrong, module_summary = judged(result["endpoints"], targets)
        (engine_seconds, entries), engine_cpu = with_cpu(
            lambda: timed(lambda: staple.check_endpoints(endpoints, workers=args.workers)))
        engine_wrong, engine_summary = judged(entries, targets)
        (ping_seconds, _ping), ping_cpu = with_cpu(lambda: run_ansible("ansible.builtin.ping", "", workdir))
        sslyze_row = None
        if binary is not None:
            (sslyze_seconds, sslyze_seen), sslyze_cpu = with_cpu(lambda: run_sslyze(binary, targets, workdir))
            sslyze_row = ("sslyze %s --certinfo (all endpoints)" % args.sslyze_version, sslyze_seconds, sslyze_cpu,
                          sslyze_seen)
        sample = sorted(random.Random(1).sample(range(len(targets)), min(args.s_client_sample, len(targets))))
        (s_client_seconds, seen), s_client_cpu = with_cpu(
            lambda: timed(lambda: [s_client_staple(targets[index]) for index in sample]))
    rows = [("method", "wall", "per endpoint", "ratio to ours", "x the engine", "CPU", "CPU ratio",
             "verdicts / staple statuses seen")]

    def row(label: str, seconds: float, cpu: float, seen: str) -> None:
        rows.append((label, "%.2f s" % seconds, "%.2f ms" % (seconds * 1000 / len(targets)),
                     "%.2f" % (seconds / module_seconds), "%.1f" % (seconds / engine_seconds), "%.2f s" % cpu,
                     "%.2f" % (cpu / module_cpu), seen))

    row("ours: ansible localhost -m %s (one call)" % MODULE, module_seconds, module_cpu, module_summary)
    row("ours: engine staple.check_endpoints (workers %d)" % args.workers, engine_seconds, engine_cpu,
        engine_summary)
    row("ansible localhost -m ping (ansible's start-up alone)", ping_seconds, ping_cpu, "-")
    if sslyze_row is not None:
        row(*sslyze_row)
    factor = len(targets) / len(sample)
    row("openssl s_client -status, serially (%d measured, x %.1f)" % (len(sample), factor),
        s_client_seconds * factor, s_client_cpu * factor, counts(seen) + " (in the sample)")
    print_table("2. one check over %d endpoints on %d loopback addresses (private nginx, %d sites: %s; "
                "load average %.1f before, %.1f after, %d CPUs)"
                % (len(targets), args.addresses, len(sites), counts([site.kind for site in sites]),
                   load_before, os.getloadavg()[0], os.cpu_count() or 0), rows)
    return module_wrong + engine_wrong


# ---------------------------------------------------------------- part 3: the audit playbook from outside

def bench_outside(workdir: Path, pki: TestPKI, args: argparse.Namespace) -> int:
    """Part 3: `ansible-playbook tlsops.ocsp.audit` with every endpoint in tlsops_ocsp_outside_endpoints (no host
    to log in to), timed as a whole, report written; returns how many verdicts in its report were wrong."""
    sites = make_sites(pki)
    targets = make_targets(sites, args.outside, args.addresses)
    extra_vars = workdir / "outside.json"
    report_dir = workdir / "outside-report"
    extra_vars.write_text(json.dumps({"tlsops_ocsp_outside_endpoints": [target.text for target in targets],
                                      "tlsops_ocsp_report_dir": str(report_dir)}))
    inventory = workdir / "no-hosts.ini"
    inventory.write_text("")  # the report play runs on the implicit localhost
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    load_before = os.getloadavg()[0]
    with private_nginx(args.nginx, workdir / "nginx-outside", targets):
        (seconds, run), cpu = with_cpu(lambda: timed(lambda: subprocess.run(
            [playbook, "-i", str(inventory), "tlsops.ocsp.audit", "-e", "@%s" % extra_vars],
            env=dict(ansible_env(workdir), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
            capture_output=True, text=True, timeout=900, check=False)))
    report_file = report_dir / "ocsp-audit.json"
    if not report_file.exists():
        raise SystemExit("the audit wrote no report (rc %d): %s" % (run.returncode, (run.stdout + run.stderr)[-3000:]))
    rows = {(row["host"], row["port"]): row for row in json.loads(report_file.read_text())["endpoints"]}
    wrong, summary = judged([rows.get((t.address, t.port), {"host": None, "port": None, "verdict": None,
                                                            "reason": "missing from the report"}) for t in targets],
                            targets)
    title = ("3. the whole audit playbook over %d endpoints from outside (exit %d: the report's critical findings; "
             "load average %.1f before, %.1f after)" % (len(targets), run.returncode, load_before, os.getloadavg()[0]))
    print_table(title,
                [("run", "wall", "per endpoint", "CPU (ansible and its modules)", "verdicts in the report"),
                 ("ansible-playbook tlsops.ocsp.audit", "%.2f s" % seconds, "%.3f ms" % (seconds * 1000 / len(targets)),
                  "%.2f s" % cpu, summary)])
    return wrong


def main() -> None:
    args = parse_args()
    pki = TestPKI()
    wrong = 0
    with tempfile.TemporaryDirectory(prefix="tlsops-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_single:
            leaf = pki.leaf(SERVER_NAME)
            bench_single(workdir, pki, leaf, pki.response(leaf.cert), args)
        if not args.skip_fleet:
            wrong = bench_fleet(workdir, pki, args)
        if not args.skip_outside:
            wrong += bench_outside(workdir, pki, args)
    if wrong:
        raise SystemExit("%d verdicts of ours were wrong (see above)" % wrong)


if __name__ == "__main__":
    main()
