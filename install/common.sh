# Shared by the install.sh scripts (sourced, not run): their options, checks, and finding the
# installed ccsync. A script sets SAFE first: the characters it can write into its definition
# as they are (a `case` bracket expression).
# Options: [--at HH:MM] [--remove]

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

# check_safe WHAT VALUE: refuse a value the definition cannot hold as it is.
check_safe() {
    case $2 in
        '' | *[!$SAFE]*)
            fail "$1 ($2) has characters this script does not quote or escape; use: ccsync schedule install" ;;
    esac
}

# check_at: $at as HH:MM (usage error otherwise), and $hour and $minute as plain numbers.
check_at() {
    case $at in
        [0-9]:[0-5][0-9]) at=0$at ;;
        [01][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9]) ;;
        *) echo "--at expects a 24-hour time HH:MM, such as 23:59; got '$at'" >&2; exit 2 ;;
    esac
    # Not `expr`: it exits 1 when the result is 0, which ends a `set -e` script at 00:00.
    hour=${at%:*}
    hour=${hour#0}
    minute=${at#*:}
    minute=${minute#0}
}

# find_ccsync: $ccsync, the absolute path of the installed ccsync, and $dir, its folder.
find_ccsync() {
    ccsync=$(command -v ccsync) || fail "ccsync is not on PATH; install it first (pipx install ccsync)"
    case $ccsync in /*) ;; *) fail "ccsync resolves to $ccsync, not an absolute path" ;; esac
    check_safe "the ccsync path" "$ccsync"
    dir=$(dirname "$ccsync")
}

# each_passed_env FUNCTION: FUNCTION NAME VALUE for each variable that changes where ccsync
# reads and writes and is set now (the job must see the same ones), once all are checked.
each_passed_env() {
    for name in CCSYNC_HOME CLAUDE_CONFIG_DIR; do
        eval "value=\${$name:-}"
        if [ -n "$value" ]; then
            check_safe "$name" "$value"
            # The job starts in a folder of the scheduler's choosing: relative paths would move.
            case ,$value in *,[!/]* | *,) fail "$name ($value) must hold absolute paths" ;; esac
        fi
    done
    for name in CCSYNC_HOME CLAUDE_CONFIG_DIR; do
        eval "value=\${$name:-}"
        if [ -n "$value" ]; then
            "$1" "$name" "$value"
        fi
    done
}
