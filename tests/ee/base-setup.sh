#!/bin/sh
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Runs once inside the execution environment's base root (chroot), after
# debootstrap. tests/ee/build.py copied this machine's CA bundle to
# /usr/local/share/ca-certificates/controller-trust.crt: pip inside the build
# reaches PyPI only through what this machine trusts. apt's lists stay: bindep's
# packages are installed in the build (already present, nothing is downloaded).
set -eu
update-ca-certificates
