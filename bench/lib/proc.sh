# shellcheck shell=bash
# What /proc says about a process, for the benchmarks: CPU ticks used
# (utime + stime) and resident memory. Sourced, not run.

cpu_ticks() { # PID
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo $((${12} + ${13})) # utime + stime (fields 14 and 15 overall)
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
