#!/usr/bin/env bash
# System packages and services the product and its tests use (TESTING.md): installs what is
# missing when run as root, otherwise prints the exact command and fails. Quick when all is there.
set -euo pipefail

need_pkgs=()
command -v bwrap >/dev/null || need_pkgs+=(bubblewrap)
command -v git >/dev/null || need_pkgs+=(git)
command -v tinyproxy >/dev/null || need_pkgs+=(tinyproxy-bin)  # sandbox egress (ADR 0009); no service
command -v pg_ctlcluster >/dev/null || need_pkgs+=(postgresql)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
[[ -x /usr/bin/chromium ]] || need_pkgs+=(chromium)  # the dashboard's browser tests and bench

if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing system packages; run: sudo apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${need_pkgs[*]}" >&2
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; }
  # A fresh machine may have no package lists yet.
  install || { apt-get update -qq && install; }
fi

# PostgreSQL and Redis on loopback: start them if they are not answering.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "setup: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "setup: starting Redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
fi
