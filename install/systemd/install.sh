#!/bin/sh
# Install (or update) the ccsync systemd user timer; --remove takes it out.
# Writes the same ccsync.service and ccsync.timer as `ccsync schedule install`.
# Usage: sh install.sh [--at HH:MM] [--remove]
set -eu

at=23:59
remove=
while [ $# -gt 0 ]; do
    case $1 in
        --at) at=${2:?--at needs HH:MM}; shift 2 ;;
        --at=*) at=${1#--at=}; shift ;;
        --remove) remove=1; shift ;;
        *) echo "usage: sh install.sh [--at HH:MM] [--remove]" >&2; exit 2 ;;
    esac
done

fail() { echo "$*" >&2; exit 1; }
# Values go into the unit between double quotes: refuse what systemd would unescape or expand.
check_safe() {
    case $2 in
        '' | *[!A-Za-z0-9_./+@,:=' '-]*)
            fail "$1 ($2) has characters this script does not escape; use: ccsync schedule install" ;;
    esac
}

here=$(cd "$(dirname "$0")" && pwd)
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

case $at in
    [0-9]:[0-5][0-9]) at=0$at ;;
    [01][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9]) ;;
    *) echo "--at expects a 24-hour time HH:MM, such as 23:59; got '$at'" >&2; exit 2 ;;
esac

ccsync=$(command -v ccsync) || fail "ccsync is not on PATH; install it first (pipx install ccsync)"
case $ccsync in /*) ;; *) fail "ccsync resolves to $ccsync, not an absolute path" ;; esac
check_safe "the ccsync path" "$ccsync"
dir=$(dirname "$ccsync")
case $dir in
    /usr/local/bin | /usr/bin | /bin) path=/usr/local/bin:/usr/bin:/bin ;;
    *) path=$dir:/usr/local/bin:/usr/bin:/bin ;;
esac

# Variables that change where ccsync reads and writes: the job must see the same ones. Checked
# before anything is written, so a bad value leaves the installed units as they were.
env_lines=
for name in CCSYNC_HOME CLAUDE_CONFIG_DIR; do
    eval "value=\${$name:-}"
    if [ -n "$value" ]; then
        check_safe "$name" "$value"
        # The job starts in a folder of the scheduler's choosing: relative paths would move.
        case ,$value in *,[!/]* | *,) fail "$name ($value) must hold absolute paths" ;; esac
        env_lines="${env_lines}Environment=\"$name=$value\"
"
    fi
done

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
