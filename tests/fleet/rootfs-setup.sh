#!/bin/sh
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Runs inside the fleet's Debian 12 root (chroot) once, after debootstrap:
# installs the web servers without starting them and leaves a root that
# boots under systemd as PID 1 in namespaces (tests/fleet/host.py). Every
# host enables its own servers and ports in its overlay at boot.
# Arguments: the Debian packages of the web servers.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# no service may start while apt runs inside the chroot (it would run on the machine itself)
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
apt-get -qq update
apt-get -qq install -y --no-install-recommends "$@"
apt-get -qq clean
rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d

# no default site: nginx and apache2 would all listen on port 80 of the shared network
rm -f /etc/nginx/sites-enabled/default
a2dissite -q 000-default
a2enmod -q ssl
: >/etc/apache2/ports.conf
# each host enables the servers it carries (tests/fleet/host.py)
systemctl disable nginx.service apache2.service haproxy.service apache-htcacheclean.service 2>/dev/null || true

# units that would touch the machine outside the host's namespaces, wait on a
# console that is not there, or run apt behind the tests' back
systemctl mask \
    getty.target console-getty.service getty@tty1.service serial-getty@console.service \
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
    systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service \
    systemd-modules-load.service kmod-static-nodes.service systemd-sysctl.service \
    systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-remount-fs.service \
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
    systemd-firstboot.service systemd-machine-id-commit.service systemd-pstore.service \
    systemd-journald-audit.socket systemd-timesyncd.service systemd-logind.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
    systemd-tmpfiles-clean.timer
systemctl set-default multi-user.target

# each boot makes its own machine id
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
# root logs in with the fleet's key only
sed -i 's/^#\?PermitRootLogin .*/PermitRootLogin prohibit-password/' /etc/ssh/sshd_config
