# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of Debian 12 hosts with systemd as PID 1, reached over real SSH (tests/fleet/README.md)."""
