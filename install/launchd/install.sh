#!/bin/sh
# Install (or update) the ccsync launchd agent on macOS; --remove takes it out.
# Writes the same ~/Library/LaunchAgents/ccsync.nightly.plist as `ccsync schedule install`.
# Usage: sh install.sh [--at HH:MM] [--remove]
set -eu

LABEL=ccsync.nightly
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
# Values go into the plist unescaped: allow only characters that need no XML escaping.
check_safe() {
    case $2 in
        '' | *[!A-Za-z0-9_./+@,:=' '-]*)
            fail "$1 ($2) has characters this script does not escape; use: ccsync schedule install" ;;
    esac
}

here=$(cd "$(dirname "$0")" && pwd)
plist=$HOME/Library/LaunchAgents/$LABEL.plist
log=$HOME/Library/Logs/ccsync.log
target=gui/$(id -u)

if [ -n "$remove" ]; then
    launchctl bootout "$target/$LABEL" >/dev/null 2>&1 || true
    rm -f "$plist"
    echo "removed $plist"
    exit 0
fi

# Everything that can fail (the time, finding ccsync, the values) is checked and the new plist
# written aside before the loaded agent is touched: a typo must not leave the night unscheduled.
case $at in
    [0-9]:[0-5][0-9] | [01][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9]) ;;
    *) echo "--at expects a 24-hour time HH:MM, such as 23:59; got '$at'" >&2; exit 2 ;;
esac
hour=$(expr "${at%:*}" + 0)
minute=$(expr "${at#*:}" + 0)

ccsync=$(command -v ccsync) || fail "ccsync is not on PATH; install it first (pipx install ccsync)"
case $ccsync in /*) ;; *) fail "ccsync resolves to $ccsync, not an absolute path" ;; esac
check_safe "the ccsync path" "$ccsync"
check_safe "your home folder" "$HOME"
dir=$(dirname "$ccsync")
path=$dir
for d in /opt/homebrew/bin /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
    [ "$d" = "$dir" ] || path=$path:$d
done

mkdir -p "$HOME/Library/LaunchAgents" "$HOME/Library/Logs"
trap 'rm -f "$plist.tmp"' EXIT
sed -e "s|@CCSYNC@|$ccsync|g" -e "s|@PATH@|$path|g" -e "s|@LOG@|$log|g" \
    -e "s|@HOUR@|$hour|g" -e "s|@MINUTE@|$minute|g" "$here/$LABEL.plist" >"$plist.tmp"
# Variables that change where ccsync reads and writes: the job must see the same ones.
for name in CCSYNC_HOME CLAUDE_CONFIG_DIR; do
    eval "value=\${$name:-}"
    if [ -n "$value" ]; then
        check_safe "$name" "$value"
        # The job starts in a folder of the scheduler's choosing: relative paths would move.
        case ,$value in *,[!/]* | *,) fail "$name ($value) must hold absolute paths" ;; esac
        plutil -insert "EnvironmentVariables.$name" -string "$value" "$plist.tmp"
    fi
done

# An agent loaded earlier keeps its old definition until it is booted out.
launchctl bootout "$target/$LABEL" >/dev/null 2>&1 || true
mv "$plist.tmp" "$plist"
launchctl bootstrap "$target" "$plist"
echo "installed $LABEL: runs $ccsync every day at $at; errors go to $log"
