#!/bin/sh
# Install (or update) the ccsync systemd user timer; --remove takes it out.
# Writes the same ccsync.service and ccsync.timer as `ccsync schedule install`.
# Usage: sh install.sh [--at HH:MM] [--remove]
set -eu

# Values go into the unit between double quotes: refuse what systemd would unescape or expand.
SAFE="A-Za-z0-9_./+@,:= -"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"
case ${XDG_CONFIG_HOME:-} in
    /*) unit_dir=$XDG_CONFIG_HOME/systemd/user ;;
    *) unit_dir=$HOME/.config/systemd/user ;;
esac

systemctl --user show-environment >/dev/null 2>&1 ||
    fail "the systemd user instance does not answer (systemctl --user); use install/cron instead"

if [ -n "$remove" ]; then
    systemctl --user disable --now ccsync.timer >/dev/null 2>&1 || true
    rm -f "$unit_dir/ccsync.timer" "$unit_dir/ccsync.service"
    systemctl --user daemon-reload
    echo "removed ccsync.timer and ccsync.service from $unit_dir"
    exit 0
fi

check_at
find_ccsync
case $dir in
    /usr/local/bin | /usr/bin | /bin) path=/usr/local/bin:/usr/bin:/bin ;;
    *) path=$dir:/usr/local/bin:/usr/bin:/bin ;;
esac

# Variables that change where ccsync reads and writes: the job must see the same ones. Checked
# before anything is written, so a bad value leaves the installed units as they were.
env_lines=
add_line() {
    env_lines="${env_lines}Environment=\"$1=$2\"
"
}
each_passed_env add_line

mkdir -p "$unit_dir"
{
    sed -e "s|@CCSYNC@|$ccsync|g" -e "s|@PATH@|$path|g" "$here/ccsync.service"
    printf '%s' "$env_lines"
} >"$unit_dir/.ccsync.service.tmp"
sed -e "s|^OnCalendar=.*|OnCalendar=*-*-* $at:00|" "$here/ccsync.timer" >"$unit_dir/.ccsync.timer.tmp"
mv "$unit_dir/.ccsync.service.tmp" "$unit_dir/ccsync.service"
mv "$unit_dir/.ccsync.timer.tmp" "$unit_dir/ccsync.timer"

systemctl --user daemon-reload
systemctl --user enable ccsync.timer
# restart, not start: an already running timer picks up a new time.
systemctl --user restart ccsync.timer
echo "installed ccsync.timer: runs $ccsync every day at $at"
echo "check it with: systemctl --user list-timers ccsync.timer"
