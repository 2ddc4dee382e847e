# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_report's action plugin: relative report directories are where ansible-playbook runs; an inventory group's
hosts become endpoints checked from outside."""
from __future__ import annotations

from ansible_collections.tlsops.ocsp.plugins.action.audit_report import group_endpoints, resolved


def test_relative_directories_join_the_controllers_working_directory():
    assert resolved({"dest": "ocsp-audit", "metrics_dest": "metrics/textfile", "formats": ["json"]}, "/home/op") == {
        "dest": "/home/op/ocsp-audit", "metrics_dest": "/home/op/metrics/textfile", "formats": ["json"]}


def test_absolute_home_and_missing_directories_are_left_alone():
    assert resolved({"dest": "/srv/reports", "metrics_dest": "~/textfile"}, "/home/op") == {
        "dest": "/srv/reports", "metrics_dest": "~/textfile"}
    assert resolved({"dest": "r"}, "/x") == {"dest": "/x/r"}


def test_each_host_is_an_endpoint_from_its_name_address_port_and_server_name():
    hostvars = {
        "lb1.example.com": {},
        "lb2.example.com": {"ansible_host": "192.0.2.20", "ansible_port": 8443},
        "192.0.2.30:443/www.example.com": {},
        "edge": {"tlsops_ocsp_endpoint": "edge.example.net:443/shop.example.com", "ansible_host": "ignored"},
        "appliance": {"ansible_host": "192.0.2.40", "tlsops_ocsp_server_name": "vpn.example.com"},
    }

    endpoints, problems = group_endpoints("tlsops_ocsp_outside", list(hostvars), hostvars)

    assert problems == []
    assert [(e["name"], e["host"], e["port"], e["server_name"]) for e in endpoints] == [
        ("lb1.example.com", "lb1.example.com", 443, None),
        ("lb2.example.com", "192.0.2.20", 8443, "lb2.example.com"),  # the name is the name served
        ("192.0.2.30:443/www.example.com", "192.0.2.30", 443, "www.example.com"),
        ("edge", "edge.example.net", 443, "shop.example.com"),
        ("appliance", "192.0.2.40", 443, "vpn.example.com"),
    ]


def test_hosts_that_cannot_be_read_are_each_named_with_their_group():
    hostvars = {"bad": {"tlsops_ocsp_endpoint": "x.example.com:99999"}, "fine.example.com": {},
                "worse:": {"tlsops_ocsp_endpoint": "[::1"}}

    endpoints, problems = group_endpoints("appliances", list(hostvars), hostvars)

    assert [e["name"] for e in endpoints] == ["fine.example.com"]
    assert problems == ["bad (group appliances): 'x.example.com:99999': '99999' is not a TCP port; give a port "
                        "from 1 to 65535",
                        "worse: (group appliances): '[::1': write an IPv6 address as [address]:port"]
