# Remove the "ccsync-nightly" task from Task Scheduler (whichever way it was installed).
# Usage: powershell -ExecutionPolicy Bypass -File remove.ps1
$ErrorActionPreference = "Stop"
$TaskName = "ccsync-nightly"

if (Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue) {
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
    Write-Output "removed task $TaskName"
} else {
    Write-Output "no task named $TaskName; nothing to remove"
}
