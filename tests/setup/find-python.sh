#!/usr/bin/env bash
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Print the path of a working Python VERSION (for example 3.13), or fail.
# Usage: find-python.sh VERSION
#
# python3.X on PATH is tried first, then every pyenv install of 3.X (newest
# first): a pyenv shim for a version that is installed but not selected fails
# to run, so the interpreter is found behind it and its real path printed.
set -euo pipefail

version=$1
candidates=("$(command -v "python$version" || true)")
mapfile -t -O 1 candidates < <(printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version" | sort -r -V)
for candidate in "${candidates[@]}"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys' 2>/dev/null; then
        exec "$candidate" -c 'import sys; print(sys.executable)'
    fi
done
echo "find-python: no working python$version on PATH or in pyenv" >&2
exit 1
