#!/bin/sh
# X session of the kiosk, started by xinit from invigil-kiosk-x11.service: no desktop, no window
# manager, no screen blanking; the kiosk starts its locked-down browser itself.
set -eu
xset s off
xset s noblank
xset -dpms
exec {{kiosk_command}}
