#!/bin/sh
# Install this Invigil kiosk provisioning bundle. Run as root, from the bundle directory:
#     sudo ./install.sh x11     (bare X server session)
#     sudo ./install.sh cage    (cage Wayland session)
# Check the files first (README.md explains each one); `sha256sum -c MANIFEST.sha256` verifies them.
set -eu
SESSION="${1:-}"
case "$SESSION" in
    x11|cage) ;;
    *) echo "usage: $0 x11|cage" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "install.sh must run as root" >&2; exit 1; }
cd "$(dirname "$0")"
sha256sum --quiet -c MANIFEST.sha256

sh ./create-kiosk-user.sh
install -D -m 0644 chromium-policy/invigil-kiosk.json /etc/chromium/policies/managed/invigil-kiosk.json
install -D -m 0644 10-invigil-kiosk.conf /etc/X11/xorg.conf.d/10-invigil-kiosk.conf
install -D -m 0644 Xwrapper.config /etc/X11/Xwrapper.config
install -D -m 0755 kiosk-xsession.sh /etc/invigil/kiosk-xsession.sh
install -D -m 0644 99-invigil-block-usb-storage.rules /etc/udev/rules.d/99-invigil-block-usb-storage.rules
install -D -m 0644 invigil-block-usb-storage.conf /etc/modprobe.d/invigil-block-usb-storage.conf
install -D -m 0644 logind-invigil-kiosk.conf /etc/systemd/logind.conf.d/invigil-kiosk.conf
install -D -m 0644 sysctl-invigil-kiosk.conf /etc/sysctl.d/90-invigil-kiosk.conf
install -D -m 0644 invigil-kiosk-x11.service /etc/systemd/system/invigil-kiosk-x11.service
install -D -m 0644 invigil-kiosk-cage.service /etc/systemd/system/invigil-kiosk-cage.service

udevadm control --reload-rules
sysctl --system >/dev/null
systemctl daemon-reload
systemctl enable "invigil-kiosk-$SESSION.service"
echo "installed; reboot to start the kiosk ($SESSION session)"
