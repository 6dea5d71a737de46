#!/usr/bin/env bash
# System packages the full test suite needs: Debian's chromium (the dashboard tests drive it
# headless through Playwright) and the PostgreSQL server binaries (initdb, pg_ctl, postgres)
# for the database tests, Java for pyspark, wrk for the serving benchmark. Installs only what is missing; needs root (as CI has) for apt-get.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
# wrk drives the serving benchmark (make bench)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -eq 0 ]; then
  echo "system-deps: chromium, PostgreSQL, Java and wrk are present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]}; run as root: apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
