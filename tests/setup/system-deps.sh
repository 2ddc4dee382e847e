#!/usr/bin/env bash
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Install the Debian packages that the integration tests and the lab need.
# Idempotent: when everything is present it only asks dpkg and exits.
# Package installs must not start the system nginx/apache2 on ports 80/443
# (other people share the machine), so a temporary policy-rc.d forbids
# service starts while apt runs.
set -euo pipefail

# One list: add packages here. chromium renders the audit report in the fleet tests;
# prometheus brings promtool, which checks the audit's ocsp-audit.prom.
# The shellcheck package serves the ansible-test sanity test of that name.
SYSTEM_PACKAGES="${SYSTEM_PACKAGES:-nginx apache2 haproxy openssl ssl-cert ca-certificates shellcheck chromium prometheus}"

POLICY_RC=/usr/sbin/policy-rc.d
# The SSH test fleet (tests/fleet) builds its Debian root with debootstrap and logs in with ssh.
FLEET_PACKAGES="debootstrap openssh-client"
# The execution environment (tests/ee) is built and run with podman, on runc (tests/ee/containers.conf).
EE_PACKAGES="podman runc"

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing_packages() {
    local package
    for package in $SYSTEM_PACKAGES $FLEET_PACKAGES $EE_PACKAGES; do
        is_installed "$package" || printf '%s\n' "$package"
    done
    # pyenv or other Pythons may lack ensurepip; Debian's python3 needs python3-venv.
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        printf '%s\n' python3-venv
    fi
}

POLICY_RC_BACKUP="$POLICY_RC.system-deps-backup"

restore_policy_rc() {
    rm -f "$POLICY_RC"
    if [ -e "$POLICY_RC_BACKUP" ]; then
        mv "$POLICY_RC_BACKUP" "$POLICY_RC"
    fi
}

install_packages() {
    if [ -e "$POLICY_RC" ]; then
        mv "$POLICY_RC" "$POLICY_RC_BACKUP"
    fi
    trap restore_policy_rc EXIT
    printf '#!/bin/sh\n# written by tests/setup/system-deps.sh: no service starts during installs\nexit 101\n' >"$POLICY_RC"
    chmod 0755 "$POLICY_RC"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for other apt users instead of failing on the dpkg lock.
    local apt=(apt-get -qq -o DPkg::Lock::Timeout=300)
    "${apt[@]}" update
    "${apt[@]}" install -y --no-install-recommends "$@"
}

main() {
    local missing=()
    mapfile -t missing < <(missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "system-deps: all present ($SYSTEM_PACKAGES)"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "system-deps: missing ${missing[*]}; run as root: sudo $0" >&2
        exit 1
    fi
    echo "system-deps: installing ${missing[*]}"
    install_packages "${missing[@]}"
}

main "$@"
