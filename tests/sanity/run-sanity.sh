#!/usr/bin/env bash
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run ansible-test sanity on the checkout. Usage: run-sanity.sh ANSIBLE_TEST [ARGS...]
#
# ansible-test needs the collection under ansible_collections/<ns>/<name>: what
# git tracks (and new files it does not ignore) is copied into a temporary
# tree. The controller tests run on the Python that runs ansible-test (3.11);
# the per-version tests (compile, import) also run on the oldest and newest
# Python that managed hosts may have (3.9, 3.13) when installed here, directly
# or by pyenv (3.10 and 3.12 add little and cost a venv each).
set -euo pipefail

MODULE_PYTHON_VERSIONS="3.9 3.11 3.13"

ansible_test=$1
shift
checkout=$(git rev-parse --show-toplevel)

# Print the path of a working python$1, or nothing.
find_python() {
    local version=$1 candidate
    for candidate in "$(command -v "python$version" || true)" \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] &&
            "$candidate" -c 'import sys' 2>/dev/null; then
            "$candidate" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
}

# Link each installed python3.X into $1 and print ansible-test options for it.
# ansible-test looks python3.X up on PATH to make venvs: a pyenv shim for a
# version that is installed but not selected would fail there.
target_python_options() {
    local bin_dir=$1 version path
    mkdir -p "$bin_dir"
    for version in $MODULE_PYTHON_VERSIONS; do
        path=$(find_python "$version")
        if [ -n "$path" ]; then
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
    local collection options=()
    workdir=$(mktemp -d)
    collection=$workdir/ansible_collections/tlsops/ocsp
    copy_tree "$collection"
    mapfile -t options < <(target_python_options "$workdir/bin")
    cd "$collection"
    export PATH="$workdir/bin:$PATH"
    # The copy is the collection under test: no other path to tlsops.ocsp.
    env -u ANSIBLE_COLLECTIONS_PATH "$ansible_test" sanity --color no \
        --controller "origin:python=3.11@$(dirname "$ansible_test")/python" \
        "${options[@]}" "$@"
}

main "$@"
