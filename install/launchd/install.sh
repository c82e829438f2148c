#!/bin/sh
# Install (or update) the ccsync launchd agent on macOS; --remove takes it out.
# Writes the same ~/Library/LaunchAgents/ccsync.nightly.plist as `ccsync schedule install`.
# Usage: sh install.sh [--at HH:MM] [--remove]
set -eu

LABEL=ccsync.nightly
# Values go into the plist unescaped: allow only characters that need no XML escaping.
SAFE="A-Za-z0-9_./+@,:= -"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"
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
check_at
find_ccsync
check_safe "your home folder" "$HOME"
path=$dir
for d in /opt/homebrew/bin /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
    [ "$d" = "$dir" ] || path=$path:$d
done

mkdir -p "$HOME/Library/LaunchAgents" "$HOME/Library/Logs"
trap 'rm -f "$plist.tmp"' EXIT
sed -e "s|@CCSYNC@|$ccsync|g" -e "s|@PATH@|$path|g" -e "s|@LOG@|$log|g" \
    -e "s|@HOUR@|$hour|g" -e "s|@MINUTE@|$minute|g" "$here/$LABEL.plist" >"$plist.tmp"
# Variables that change where ccsync reads and writes: the job must see the same ones.
add_plist_env() { plutil -insert "EnvironmentVariables.$1" -string "$2" "$plist.tmp"; }
each_passed_env add_plist_env

# An agent loaded earlier keeps its old definition until it is booted out.
launchctl bootout "$target/$LABEL" >/dev/null 2>&1 || true
mv "$plist.tmp" "$plist"
launchctl bootstrap "$target" "$plist"
echo "installed $LABEL: runs $ccsync every day at $at; errors go to $log"
