# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab: a test PKI, a real `openssl ocsp` responder and private nginx and apache2 instances."""
