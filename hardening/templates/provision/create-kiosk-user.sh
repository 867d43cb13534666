#!/bin/sh
# Create the dedicated, unprivileged account that runs the Invigil kiosk.
# It has no password (no interactive login), no sudo, and belongs to "video" only, for the webcam.
set -eu
KIOSK_USER="{{user}}"
if ! id "$KIOSK_USER" >/dev/null 2>&1; then
    useradd --system --create-home --home-dir "/var/lib/$KIOSK_USER" \
        --shell /usr/sbin/nologin --user-group --groups video "$KIOSK_USER"
fi
passwd --lock "$KIOSK_USER" >/dev/null
# The kiosk keeps its journal and keys here; nobody else may read them.
install -d -m 0700 -o "$KIOSK_USER" -g "$KIOSK_USER" "/var/lib/$KIOSK_USER"
# The restore journal of hardening lockdown (the unit's ExecStartPre restores from it as root).
install -d -m 0700 -o "$KIOSK_USER" -g "$KIOSK_USER" "{{journal_dir}}"
echo "kiosk user $KIOSK_USER ready"
