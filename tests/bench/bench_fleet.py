#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet benchmark (a script, not a test: `make test` never runs it).

N hosts h001.. against one lab (PKI and the real `openssl ocsp` responder on
this machine), each serving `--names` TLS names (4: the lab's leaves; 20: the
leaves and aliases of them) from nginx with stapling off:

  --connection ssh (default): the test fleet of tests/fleet, Debian 12 hosts
      with systemd as PID 1, reached over SSH with pipelining; nginx is the
      host's own, reloaded through systemd (by the role and by the baseline)
  --connection local: private nginx instances on this machine (own prefix,
      own port), reached with a local connection

It times, for the role and the baseline, each on a fresh fleet:

  role:      ansible-playbook tlsops.ocsp.enable, the same again (every host
             must recap changed=0), tlsops.ocsp.audit
  baseline:  tests/bench/fleet/baseline_enable.yml (lineinfile, reload,
             grep `openssl s_client -status`), the same again, and its
             s_client check alone (`--tags check`: one s_client per endpoint
             on the host, the baseline of the audit)
  floor:     tests/bench/fleet/one_round_trip.yml (one ping per host), the
             least any playbook that reaches every host costs

Everything runs on 127.0.0.1 in a temporary directory; every server and host
started is stopped. See tests/bench/README.md.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tests.conftest import free_port  # noqa: E402
from tests.fleet import fleet as test_fleet  # noqa: E402
from tests.lab import core, nginx_instance, role_vars, state as lab_state  # noqa: E402
from tests.support import ansible_env  # noqa: E402

BASELINE_PLAYBOOK = str(Path(__file__).resolve().parent / "fleet" / "baseline_enable.yml")
# one ping per host: what any per-host work costs at the least (measured on the baseline's fleet)
FLOOR_PLAYBOOK = str(Path(__file__).resolve().parent / "fleet" / "one_round_trip.yml")
FLOOR = "one round trip"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
# (phase, role's argv, baseline's argv); the audit's baseline is the s_client check alone
PHASES = (
    ("enable", ["tlsops.ocsp.enable"], [BASELINE_PLAYBOOK]),
    ("enable again", ["tlsops.ocsp.enable"], [BASELINE_PLAYBOOK]),
    ("audit / check", ["tlsops.ocsp.audit"], [BASELINE_PLAYBOOK, "--tags", "check"]),
)
IDEMPOTENT_PHASE = "enable again"
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+ok=\d+\s+changed=(?P<changed>\d+)\s+"
                        r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.MULTILINE)
PROFILE_LINE = re.compile(r"^(?P<task>\S.*?) -+ +(?P<seconds>\d+\.\d+)s$", re.MULTILINE)
SLOWEST_TASKS = 5


@dataclass
class Run:
    """One timed ansible-playbook run."""

    seconds: float
    problems: list[str]  # empty when every host ran as expected
    slowest: list[str]  # from profile_tasks, when --profile


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", "--sizes", dest="sizes", default="25",
                        help="fleet sizes, comma separated (default 25; e.g. 10,25,50 shows the growth)")
    parser.add_argument("--names", type=int, default=4,
                        help="TLS names per host (default 4, the lab's leaves; more are aliases of them)")
    parser.add_argument("--connection", choices=("ssh", "local"), default="ssh",
                        help="ssh: hosts with systemd over SSH (tests/fleet, default); local: private nginx "
                             "instances on this machine")
    parser.add_argument("--forks", type=int, default=10, help="ansible forks (default 10)")
    parser.add_argument("--serial", default="",
                        help="batch sizes for both playbooks, e.g. 100%% or 1,10%%,25%% "
                             "(default: the enable playbook's own, all hosts at once for the baseline)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per playbook run (default 1800)")
    parser.add_argument("--profile", action="store_true",
                        help="enable ansible.posix.profile_tasks and print the slowest tasks of the role's runs")
    parser.add_argument("--live", action="store_true",
                        help="run the checkout as it is (default: a snapshot of HEAD, so edits made meanwhile "
                             "do not change what is measured)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (inventories, logs)")
    return parser.parse_args()


# ---------------------------------------------------------------- the fleet

@contextmanager
def responder_lab(directory: Path) -> Iterator[dict[str, Any]]:
    """The lab's PKI and OCSP responder (its own nginx and apache stay stopped); yields lab.json."""
    lab = core.Lab(directory)
    try:
        lab.init(lab_state.free_base_port(), revoke_initially=False)
        lab.start(["responder"])
        yield lab.state()
    finally:
        lab.stop()


def site_leaves(lab: dict[str, Any], names: int) -> dict[str, dict[str, Any]]:
    """One lab.json-like leaf per TLS name (aliases carry their leaf's certificate), for the local instances."""
    return {site.server_name: {**lab["leaves"][site.leaf], "name": site.server_name, "server_name": site.server_name}
            for site in test_fleet.sites(lab["leaves"], names)}


def baseline_names(lab: dict[str, Any], names: int) -> list[str]:
    """The names whose certificate has an OCSP URL: the ones the baseline checks."""
    return [site.server_name for site in test_fleet.sites(lab["leaves"], names)
            if lab["leaves"][site.leaf]["ocsp_url"]]


@contextmanager
def local_fleet(lab: dict[str, Any], directory: Path, size: int, names: int) -> Iterator[Path]:
    """`size` private nginx instances on this machine and their local inventory; all stopped at the end."""
    fleet: list[dict[str, Any]] = []
    leaves = site_leaves(lab, names)
    try:
        for index in range(1, size + 1):
            # the previous instance already listens, so free_port() cannot hand its port out again
            section = nginx_instance.describe(directory / host_name(index), free_port(), leaves)
            host = {**lab, "leaves": leaves, "nginx": section}
            nginx_instance.configure(host)
            fleet.append(host)
            nginx_instance.component.start(host)
        yield write_local_inventory(directory / "inventory.json", lab, fleet, baseline_names(lab, names))
    finally:
        for host in fleet:
            nginx_instance.component.stop(host)


@contextmanager
def ssh_fleet(lab: dict[str, Any], directory: Path, size: int, names: int) -> Iterator[Path]:
    """`size` hosts of tests/fleet over SSH (nginx under systemd) and their inventory; all killed at the end."""
    lab_dir = test_fleet.LAB_DIR
    common = {
        **{key: value for key, value in role_vars.nginx(lab).items() if "warm" in key},
        "baseline_reload_command": ["systemctl", "reload", "nginx"],
        "baseline_trusted_certificate": f"{lab_dir}/ca-chain.pem",
        "baseline_ca_file": f"{lab_dir}/root.pem",
        "baseline_resolver": "127.0.0.1",  # the OCSP URL is an IP address: nginx never asks it
        "baseline_server_names": baseline_names(lab, names),
    }
    sites = [test_fleet.nginx_site_path(index, site) for index, site in enumerate(test_fleet.sites(lab["leaves"], names))]

    def host_vars(host: test_fleet.Host) -> dict[str, Any]:
        return {"baseline_port": host.ports["nginx"], "baseline_sites": sites}

    with test_fleet.fleet(directory, lab, size, names=names, group_vars=common, host_vars=host_vars) as fleet:
        yield fleet.inventory


def host_name(index: int) -> str:
    return test_fleet.host_name(index)


def local_host_vars(host: dict[str, Any]) -> dict[str, Any]:
    """The role's variables for this host's private nginx, and the baseline's."""
    section = host["nginx"]
    return {
        **role_vars.nginx(host),
        "baseline_sites": list(section["sites"].values()),
        "baseline_reload_command": section["reload_command"],
        "baseline_port": section["port"],
    }


def write_local_inventory(path: Path, lab: dict[str, Any], fleet: Sequence[dict[str, Any]],
                          server_names: list[str]) -> Path:
    inventory = {"all": {
        "hosts": {host_name(index): local_host_vars(host) for index, host in enumerate(fleet, 1)},
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "stapling_servers": ["nginx"],
            "baseline_server_names": server_names,
            "baseline_trusted_certificate": lab["pki"]["ca_chain"],
            "baseline_ca_file": lab["pki"]["root"]["cert"],
            # the OCSP URL is an IP address: nginx never asks this resolver
            "baseline_resolver": "127.0.0.1",
        },
    }}
    path.write_text(json.dumps(inventory, indent=1))
    return path


# ---------------------------------------------------------------- running ansible-playbook

def snapshot_collections(work: Path, commit: str) -> Path:
    """A collections path holding `commit` of the checkout (git archive) as tlsops.ocsp."""
    target = work / "collections" / "ansible_collections" / "tlsops" / "ocsp"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", commit], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return work / "collections"


def stop_on_signals() -> None:
    """SIGTERM and SIGINT (ignored in background jobs otherwise) unwind through the finally blocks."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: sys.exit(128 + received))


def serial_vars(serial: str) -> dict[str, Any]:
    if not serial:
        return {}
    batches: list[Any] = [int(item) if item.isdigit() else item for item in serial.split(",")]
    return {"tlsops_ocsp_serial": batches, "baseline_serial": batches}


def run_playbook(argv: Sequence[str], env: dict[str, str], log: Path, timeout: float) -> tuple[float, int, str]:
    """Wall time, exit code and output of one ansible-playbook run, killed (whole process group) at `timeout`."""
    started = time.monotonic()
    with log.open("w") as output:
        process = subprocess.Popen([ANSIBLE_PLAYBOOK, *argv], env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if process.poll() is None:  # timed out, or the benchmark itself was stopped
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return time.monotonic() - started, process.returncode, log.read_text(errors="replace")


def recap_problems(output: str, hosts: Sequence[str], returncode: int, idempotent: bool) -> list[str]:
    """What went wrong, from the PLAY RECAP: hosts missing, failed, unreachable, or changed when they must not."""
    recap = {match["host"]: match for match in RECAP_LINE.finditer(output)}
    problems = [f"exit code {returncode}"] if returncode else []
    for host in hosts:
        line = recap.get(host)
        if line is None:
            problems.append(f"{host} missing from the recap")
        elif int(line["failed"]) or int(line["unreachable"]):
            problems.append(f"{host} failed={line['failed']} unreachable={line['unreachable']}")
        elif idempotent and int(line["changed"]):
            problems.append(f"{host} changed={line['changed']} on the second run")
    return problems


def slowest_tasks(output: str) -> list[str]:
    """profile_tasks' summary summed by task name (an included role's tasks are new ones in each batch)."""
    totals: collections.Counter[str] = collections.Counter()
    for match in PROFILE_LINE.finditer(output):
        totals[match["task"]] += float(match["seconds"])
    return [f"{seconds:8.1f}s  {task}" for task, seconds in totals.most_common(SLOWEST_TASKS)]


def run_phase(argv: Sequence[str], phase: str, hosts: Sequence[str], env: dict[str, str], log: Path,
              timeout: float) -> Run:
    seconds, returncode, output = run_playbook(argv, env, log, timeout)
    problems = recap_problems(output, hosts, returncode, idempotent=phase == IDEMPOTENT_PHASE)
    if problems:
        print(f"    ! {phase}: {'; '.join(problems[:5])} (log: {log})", flush=True)
    return Run(seconds, problems, slowest_tasks(output))


def measure(kind: str, lab: dict[str, Any], size: int, work: Path, args: argparse.Namespace,
            env: dict[str, str]) -> dict[str, Run]:
    """Every phase of `kind` (role or baseline) on a fresh fleet of `size` hosts."""
    directory = work / f"{kind}-{size}"
    make_fleet = ssh_fleet if args.connection == "ssh" else local_fleet
    with make_fleet(lab, directory, size, args.names) as inventory:
        hosts = [host_name(index) for index in range(1, size + 1)]
        common = ["-i", str(inventory), "--forks", str(args.forks),
                  "-e", json.dumps({"tlsops_ocsp_report_dir": str(directory / "report"), **serial_vars(args.serial)})]
        runs: dict[str, Run] = {}
        for index, (phase, role_argv, baseline_argv) in enumerate(PHASES):
            argv = [*common, *(role_argv if kind == "role" else baseline_argv)]
            log = directory / f"{index}-{phase.split()[0]}.log"
            runs[phase] = run_phase(argv, phase, hosts, env, log, args.timeout)
            print(f"  {kind:<8} N={size:<3} {phase:<14} {runs[phase].seconds:7.1f} s", flush=True)
        if kind == "baseline":
            runs[FLOOR] = run_phase([*common, FLOOR_PLAYBOOK], FLOOR, hosts, env, directory / "floor.log", args.timeout)
            print(f"  {'ping':<8} N={size:<3} {FLOOR:<14} {runs[FLOOR].seconds:7.1f} s", flush=True)
        return runs


# ---------------------------------------------------------------- report

def head_commit() -> str:
    return subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def print_table(results: dict[int, dict[str, dict[str, Run]]], profile: bool) -> None:
    print("\nseconds per host (wall time / N); ratio = role / baseline ('!' = a run had problems, see above)")
    print(f"{'N':>4}  {'phase':<14} {'role':>8} {'baseline':>9} {'ratio':>6}")
    for size, kinds in results.items():
        for phase, _role_argv, _baseline_argv in PHASES:
            role, baseline = kinds["role"][phase], kinds["baseline"][phase]
            flag = "!" if role.problems or baseline.problems else ""
            print(f"{size:>4}  {phase:<14} {role.seconds / size:8.2f} {baseline.seconds / size:9.2f} "
                  f"{role.seconds / baseline.seconds:6.2f}{flag}")
        floor, audit_baseline = kinds["baseline"][FLOOR].seconds, kinds["baseline"][PHASES[-1][0]].seconds
        print(f"{size:>4}  {FLOOR + ' (ping)':<25} {floor / size:9.2f} = {floor / audit_baseline:.2f} x the audit's "
              f"baseline: no playbook that reaches every host costs less")
        if profile:
            for phase, _role_argv, _baseline_argv in PHASES:
                print(f"      slowest tasks of the role, {phase} (all hosts and batches):")
                print("\n".join(f"        {line}" for line in kinds["role"][phase].slowest))


def print_growth(results: dict[int, dict[str, dict[str, Run]]]) -> None:
    """Per-host time of the idempotent run at the largest N over the smallest: above 1 is worse than linear."""
    smallest, largest = min(results), max(results)
    if smallest == largest:
        return
    for kind in ("role", "baseline"):
        per_host = {size: results[size][kind][IDEMPOTENT_PHASE].seconds / size for size in (smallest, largest)}
        growth = per_host[largest] / per_host[smallest]
        verdict = "linear or better" if growth <= 1.1 else "WORSE than linear"
        print(f"{kind} {IDEMPOTENT_PHASE}: per host at N={largest} / N={smallest} = {growth:.2f} ({verdict})")


def main() -> int:
    args = parse_args()
    stop_on_signals()
    sizes = [int(size) for size in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="tlsops-bench-fleet-"))
    results: dict[int, dict[str, dict[str, Run]]] = {}
    try:
        commit = head_commit()
        # every task in the summary: an included role's tasks come once per batch and are summed by name
        profile = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                   "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"} if args.profile else {}
        source = {} if args.live else {"ANSIBLE_COLLECTIONS_PATH": str(snapshot_collections(work, commit))}
        env = ansible_env.environment(work / "ansible-home", ANSIBLE_NOCOLOR="1", ANSIBLE_PIPELINING="True",
                                      **profile, **source)
        print(f"fleet benchmark: {args.connection}, sizes {sizes}, {args.names} names per host, forks {args.forks}, "
              f"serial {args.serial or 'playbook default'}, "
              f"collection {'checkout' if args.live else commit}, {os.cpu_count()} cores, load {load()}; "
              f"work directory {work}", flush=True)
        with responder_lab(work / "lab") as lab:
            for size in sizes:
                results[size] = {kind: measure(kind, lab, size, work, args, env) for kind in ("role", "baseline")}
                print(f"  load after N={size}: {load()}", flush=True)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results, args.profile)
    print_growth(results)
    return 1 if any(run.problems for kinds in results.values() for runs in kinds.values() for run in runs.values()) \
        else 0


if __name__ == "__main__":
    sys.exit(main())
