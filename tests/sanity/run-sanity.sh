#!/usr/bin/env bash
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run ansible-test sanity on the checkout. Usage: run-sanity.sh ANSIBLE_TEST [ARGS...]
#
# ansible-test needs the collection under ansible_collections/<ns>/<name>: what
# git tracks (and new files it does not ignore) is copied into a temporary
# tree. The controller tests run on the Python of the venv that holds
# ANSIBLE_TEST (3.11 for ansible-core 2.17 and 2.19, 3.13 for 2.21); the
# per-version tests (compile, import) also run on the oldest and newest Python
# that managed hosts may have (3.9, 3.13) when installed here, directly or by
# pyenv, and when that ansible-test supports them (2.17 stops at 3.12).
# 3.10 and 3.12 add little and cost a venv each.
set -euo pipefail

MODULE_PYTHON_VERSIONS="3.9 3.11 3.13"

ansible_test=$1
shift
checkout=$(git rev-parse --show-toplevel)
controller_python=$(dirname "$ansible_test")/python

# Ask the ansible-test in the controller venv; $1 is Python code printing the answer.
ask_ansible_test() {
    (cd / && "$controller_python" -c "$1")
}

# ansible-test bootstraps pip into each venv it makes with a get-pip script it
# downloads from a host we cannot reach: save the offline stand-in
# (tests/setup/ansible_test_get_pip.py) under the cache name of every pip
# version this ansible-test bootstraps (2.17: 23.1.2, 2.19: 24.2, 2.21: 25.2).
install_get_pip_stand_in() {
    local pip_versions pip_version cached
    pip_versions=$(ask_ansible_test '
import types
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS
versions = REMOTE_ONLY_PYTHON_VERSIONS + CONTROLLER_PYTHON_VERSIONS
print(*sorted({get_venv_packages(types.SimpleNamespace(version=version))["pip"] for version in versions}))')
    for pip_version in $pip_versions; do
        cached=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
        cmp -s "$checkout/tests/setup/ansible_test_get_pip.py" "$cached" ||
            install -D -m 0644 "$checkout/tests/setup/ansible_test_get_pip.py" "$cached"
    done
}

# The Python versions this ansible-test can test, space-separated.
supported_pythons() {
    ask_ansible_test '
from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS
print(*REMOTE_ONLY_PYTHON_VERSIONS, *CONTROLLER_PYTHON_VERSIONS)'
}

# Link each installed python3.X that this ansible-test supports (the versions
# in $2) into $1 and print ansible-test options for it. ansible-test looks
# python3.X up on PATH to make venvs: a pyenv shim for a version that is
# installed but not selected would fail there.
target_python_options() {
    local bin_dir=$1 supported=" $2 " version path
    mkdir -p "$bin_dir"
    for version in $MODULE_PYTHON_VERSIONS; do
        if [[ $supported != *" $version "* ]]; then
            echo "sanity: this ansible-test does not support Python $version, its compile/import tests are skipped" >&2
        elif path=$("$checkout/tests/setup/find-python.sh" "$version" 2>/dev/null); then
            ln -s "$path" "$bin_dir/python$version"
            printf '%s\n' --target-python "$version@$bin_dir/python$version"
        else
            echo "sanity: no Python $version here, its compile/import tests are skipped" >&2
        fi
    done
}

copy_tree() {
    local destination=$1 file
    mkdir -p "$destination"
    (cd "$checkout" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' file; do
        if [ -e "$file" ]; then printf '%s\0' "$file"; fi
    done | tar --null -T - -cf -) | tar -xf - -C "$destination"
}

# Global, not local: the EXIT trap runs after main has returned.
workdir=""
trap 'if [ -n "$workdir" ]; then rm -rf "$workdir"; fi' EXIT

main() {
    local collection controller_version supported options=()
    install_get_pip_stand_in
    controller_version=$(ask_ansible_test 'import sys; print("%d.%d" % sys.version_info[:2])')
    supported=$(supported_pythons)
    workdir=$(mktemp -d)
    collection=$workdir/ansible_collections/tlsops/ocsp
    copy_tree "$collection"
    mapfile -t options < <(target_python_options "$workdir/bin" "$supported")
    cd "$collection"
    export PATH="$workdir/bin:$PATH"
    # The copy is the collection under test: no other path to tlsops.ocsp.
    env -u ANSIBLE_COLLECTIONS_PATH "$ansible_test" sanity --color no \
        --controller "origin:python=$controller_version@$controller_python" \
        "${options[@]}" "$@"
}

main "$@"
