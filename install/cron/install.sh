#!/bin/sh
# Add the ccsync nightly line to your crontab, or replace it if it is there; --remove takes it
# out. Your other crontab lines are kept. Same line as `ccsync schedule install` writes.
# Usage: sh install.sh [--at HH:MM] [--remove]
set -eu

MARKER='# ccsync:nightly'
# Values go into the crontab unquoted: allow only characters that need no shell quoting.
SAFE='A-Za-z0-9_./+@,:=-'
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"

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

check_at
find_ccsync
case $dir in
    /usr/local/bin | /usr/bin | /bin) path=/usr/local/bin:/usr/bin:/bin ;;
    *) path=$dir:/usr/local/bin:/usr/bin:/bin ;;
esac

# Variables that change where ccsync reads and writes: the job must see the same ones.
vars="PATH=$path"
add_var() { vars="$vars $1=$2"; }
each_passed_env add_var

line="$minute $hour * * * $vars $ccsync --scheduled >/dev/null $MARKER"
{
    [ -z "$rest" ] || printf '%s\n' "$rest"
    printf '%s\n' "$line"
} | crontab -
echo "installed: $line"
