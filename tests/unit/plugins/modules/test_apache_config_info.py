# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apache_config_info against Debian's real apache2ctl on a private copy of /etc/apache2 (nothing is started)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.modules import apache_config_info

SYSTEM_CONFDIR = Path("/etc/apache2")
pytestmark = pytest.mark.skipif(not shutil.which("apache2ctl") or not SYSTEM_CONFDIR.is_dir(),
                                reason="needs Debian's apache2")
INCLUDE = "Include /srv/tlsops-ocsp-stapling-vhost.conf"


@pytest.fixture
def confdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private apache2 configuration: one TLS vhost in sites-available, enabled by a symlink."""
    conf = tmp_path / "apache2"
    shutil.copytree(SYSTEM_CONFDIR, conf, symlinks=True)
    for site in (conf / "sites-enabled").iterdir():
        site.unlink()
    (conf / "envvars").write_text(
        f"export APACHE_RUN_USER=www-data\nexport APACHE_RUN_GROUP=www-data\n"
        f"export APACHE_PID_FILE={tmp_path}/apache2.pid\nexport APACHE_RUN_DIR={tmp_path}\n"
        f"export APACHE_LOCK_DIR={tmp_path}\nexport APACHE_LOG_DIR={tmp_path}\n")
    (conf / "ports.conf").write_text("ServerName unit.test\nListen 127.0.0.1:8443\n")
    for name in ("ssl.load", "ssl.conf", "socache_shmcb.load"):
        link = conf / "mods-enabled" / name
        if not link.exists():
            link.symlink_to(f"../mods-available/{name}")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
                    "-subj", "/CN=unit.test", "-days", "2"], check=True, capture_output=True)
    site = conf / "sites-available" / "unit.conf"
    site.write_text(f"<VirtualHost 127.0.0.1:8443>\n    ServerName unit.test\n    SSLEngine on\n"
                    f"    {INCLUDE.replace('Include', 'IncludeOptional')}\n"
                    f"    SSLCertificateFile {tmp_path}/cert.pem\n    SSLCertificateKeyFile {tmp_path}/key.pem\n"
                    "</VirtualHost>\n")
    (conf / "sites-enabled" / "unit.conf").symlink_to("../sites-available/unit.conf")
    monkeypatch.setenv("APACHE_CONFDIR", str(conf))
    return conf


def test_reads_the_tls_vhost_where_the_enabled_link_points(run_module, confdir: Path):
    result = run_module(apache_config_info.main, ctl="apache2ctl", include_line=INCLUDE)
    assert result["config_ok"] and not result["changed"]
    assert result["server_root"] == str(confdir) and result["version"].startswith("2.4")
    assert {"ssl_module", "socache_shmcb_module"} <= set(result["loaded_modules"])
    assert result["pid_file"].endswith("apache2.pid")
    (vhost,) = result["vhosts"]
    assert vhost["path"] == str(confdir / "sites-available" / "unit.conf")  # the real file, not the link
    assert (vhost["line"], vhost["port"], vhost["server_name"]) == (1, 8443, "unit.test")
    assert vhost["certificate_file"] == str(confdir.parent / "cert.pem")
    assert vhost["include_present"]  # IncludeOptional of the snippet counts as including it
    assert result["files_with_include"] == []  # but only the exact marked line is the role's to remove
    assert result["recorded_modules"] == []


def test_a_broken_configuration_is_reported_with_apaches_words(run_module, confdir: Path):
    (confdir / "conf-enabled" / "broken.conf").write_text("NoSuchDirective on\n")
    result = run_module(apache_config_info.main, ctl="apache2ctl")
    assert not result["config_ok"] and "NoSuchDirective" in result["config_messages"]
    assert "vhosts" not in result


def test_recorded_modules_come_from_the_role_state_file(run_module, confdir: Path):
    state = confdir / "tlsops-ocsp-stapling.json"
    state.write_text('{"modules": ["socache_shmcb"]}\n')
    assert run_module(apache_config_info.main, state_path=str(state))["recorded_modules"] == ["socache_shmcb"]
    state.write_text("not json")
    failed = run_module(apache_config_info.main, state_path=str(state))
    assert failed["failed"] and str(state) in failed["msg"]


def test_a_missing_control_command_says_what_to_set(run_module, confdir: Path):
    failed = run_module(apache_config_info.main, ctl="no-such-apachectl")
    assert failed["failed"] and "Set the ctl option to its control command" in failed["msg"]


def test_server_context_stapling_lines_inspection_and_server_root(run_module, confdir: Path):
    (confdir / "conf-enabled" / "stapling.conf").write_text(
        'SSLStaplingCache "shmcb:${APACHE_RUN_DIR}/ocsp(32768)"\n<VirtualHost *:9>\nSSLUseStapling on\n</VirtualHost>\n')
    result = run_module(apache_config_info.main, config_dir=str(confdir), inspect=True)
    assert result["server_directives"] == [{"name": "sslstaplingcache", "args": ["shmcb:${APACHE_RUN_DIR}/ocsp(32768)"],
                                            "file": str(confdir / "conf-enabled" / "stapling.conf"), "line": 1}]
    assert result["server_root_matches"]
    (certificate,) = result["certificates"]
    assert certificate["path"] == str(confdir.parent / "cert.pem") and not certificate["stapling_applicable"]
    assert not run_module(apache_config_info.main, config_dir=str(confdir.parent))["server_root_matches"]
