#!/bin/sh
# Add the ccsync nightly line to your crontab, or replace it if it is there; --remove takes it
# out. Your other crontab lines are kept. Same line as `ccsync schedule install` writes.
# Usage: sh install.sh [--at HH:MM] [--remove]
set -eu

MARKER='# ccsync:nightly'
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
# Values go into the crontab unquoted: allow only characters that need no shell quoting.
check_safe() {
    case $2 in
        '' | *[!A-Za-z0-9_./+@,:=-]*)
            fail "$1 ($2) has characters this script does not quote; use: ccsync schedule install" ;;
    esac
}

command -v crontab >/dev/null 2>&1 || fail "no crontab command: install cron first (for example: sudo apt install cron)"

err=$(mktemp)
trap 'rm -f "$err"' EXIT
# Never write a table we could not read: that would drop the user's own jobs.
if current=$(crontab -l 2>"$err"); then
    :
elif grep -qi 'no crontab' "$err"; then
    current=
else
    fail "could not read your crontab: $(cat "$err")"
fi
rest=$(printf '%s\n' "$current" | awk -v m="$MARKER" \
    'length($0) >= length(m) && substr($0, length($0) - length(m) + 1) == m { next } { print }')

if [ -n "$remove" ]; then
    if [ -n "$rest" ]; then printf '%s\n' "$rest"; fi | crontab -
    echo "removed the ccsync line from your crontab"
    exit 0
fi

case $at in
    [0-9]:[0-5][0-9] | [01][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9]) ;;
    *) echo "--at expects a 24-hour time HH:MM, such as 23:59; got '$at'" >&2; exit 2 ;;
esac
hour=$(expr "${at%:*}" + 0)
minute=$(expr "${at#*:}" + 0)

ccsync=$(command -v ccsync) || fail "ccsync is not on PATH; install it first (pipx install ccsync)"
case $ccsync in /*) ;; *) fail "ccsync resolves to $ccsync, not an absolute path" ;; esac
check_safe "the ccsync path" "$ccsync"
dir=$(dirname "$ccsync")
case $dir in
    /usr/local/bin | /usr/bin | /bin) path=/usr/local/bin:/usr/bin:/bin ;;
    *) path=$dir:/usr/local/bin:/usr/bin:/bin ;;
esac

# Variables that change where ccsync reads and writes: the job must see the same ones.
vars="PATH=$path"
for name in CCSYNC_HOME CLAUDE_CONFIG_DIR; do
    eval "value=\${$name:-}"
    if [ -n "$value" ]; then
        check_safe "$name" "$value"
        # The job starts in a folder of the scheduler's choosing: relative paths would move.
        case ,$value in *,[!/]* | *,) fail "$name ($value) must hold absolute paths" ;; esac
        vars="$vars $name=$value"
    fi
done

line="$minute $hour * * * $vars $ccsync >/dev/null $MARKER"
{
    [ -z "$rest" ] || printf '%s\n' "$rest"
    printf '%s\n' "$line"
} | crontab -
echo "installed: $line"
