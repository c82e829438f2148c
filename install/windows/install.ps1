# Register (or replace) the "ccsync-nightly" task in Task Scheduler: runs ccsync every day.
# Same task name as `ccsync schedule install`, so either can replace or remove the other's.
# Usage (PowerShell, as your normal user, no admin needed):
#   powershell -ExecutionPolicy Bypass -File install.ps1 [-At 23:59]
param([string]$At = "23:59")
$ErrorActionPreference = "Stop"

$TaskName = "ccsync-nightly"
# One clear line on stderr and a chosen exit code (Write-Error under "Stop" would throw instead).
function Fail([string]$Message, [int]$Code = 1) { [Console]::Error.WriteLine($Message); exit $Code }

if ($At -notmatch '^([01]?[0-9]|2[0-3]):[0-5][0-9]$') {
    Fail "-At expects a 24-hour time HH:MM, such as 23:59; got '$At'" 2
}
$time = [datetime]::ParseExact($At.PadLeft(5, '0'), "HH:mm", [Globalization.CultureInfo]::InvariantCulture)

$cmd = Get-Command ccsync -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if (-not $cmd) {
    Fail "ccsync is not on PATH; install it first (pipx install ccsync), open a new terminal, and run this again"
}
$exe = $cmd.Source

# A task has no environment of its own: variables that change where ccsync reads and writes are
# set by cmd.exe in front of it. cmd expands % even inside quotes and cannot escape ", so refuse those.
$sets = @()
foreach ($name in "CCSYNC_HOME", "CLAUDE_CONFIG_DIR") {
    $value = [Environment]::GetEnvironmentVariable($name, "Process")
    if ($value) {
        if ($value -match '["%]' -or $exe -match '["%]') {
            Fail "$name holds `" or %; set it for your Windows account instead (System Properties > Environment Variables)"
        }
        # The task starts in a folder of Windows' choosing: relative paths would move.
        foreach ($part in $value.Split(",")) {
            if (-not [IO.Path]::IsPathRooted($part)) { Fail "$name ($value) must hold absolute paths" }
        }
        $sets += "set `"$name=$value`""
    }
}
if ($sets.Count -gt 0) {
    $action = New-ScheduledTaskAction -Execute "cmd.exe" -Argument ("/d /c " + (($sets + "`"$exe`" --scheduled") -join " && "))
} else {
    $action = New-ScheduledTaskAction -Execute $exe -Argument "--scheduled"
}

$trigger = New-ScheduledTaskTrigger -Daily -At $time -RandomDelay (New-TimeSpan -Minutes 1)
# StartWhenAvailable: a day the PC was off or you were logged out runs as soon as it can.
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -AllowStartIfOnBatteries `
    -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Hours 2) -MultipleInstances IgnoreNew
# Interactive: runs as you while you are logged on, so no password is stored.
$principal = New-ScheduledTaskPrincipal -UserId "$env:USERDOMAIN\$env:USERNAME" -LogonType Interactive -RunLevel Limited

Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings `
    -Principal $principal -Force `
    -Description "ccsync nightly run: record AI coding token usage and sync it. Remove with: ccsync schedule remove" | Out-Null
Write-Output "installed task $TaskName`: runs $exe every day at $($time.ToString('HH:mm'))"
