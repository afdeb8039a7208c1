#!/usr/bin/env bash
# What the Docker test suite needs on this machine (TESTING.md, "Docker"): the engine and the
# tools that build its data root and its images. Installs what is missing when run as root,
# otherwise prints the exact command and fails. Quick when all is there. Starts no daemon: the
# tests start their own private one (tests/support/docker_daemon.py).
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin # where dockerd and mkfs.* live, not on every user's PATH

need_pkgs=()
# dockerd, containerd, runc, iptables and the docker command line
{ command -v dockerd && command -v docker; } >/dev/null || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap) # the runtime test image
command -v openssl >/dev/null || need_pkgs+=(openssl)         # checks npm's tarball for it
command -v mkfs.xfs >/dev/null || need_pkgs+=(xfsprogs)       # data root: overlay2 on xfs
command -v mkfs.btrfs >/dev/null || need_pkgs+=(btrfs-progs)  # data root: btrfs with quotas
command -v ip >/dev/null || need_pkgs+=(iproute2)             # the daemon's own bridge

if ((${#need_pkgs[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing system packages; run: sudo apt-get install -y --no-install-recommends ${need_pkgs[*]}" >&2
  exit 1
fi

# docker.io's maintainer scripts start the system daemon (docker.service) where they can. The
# tests must own the only daemon they talk to, so forbid service starts for this install, as
# Debian's policy-rc.d interface allows, unless the machine already has such a policy.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# Written by setup-docker.sh for one apt-get run.\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "setup: installing ${need_pkgs[*]}" >&2
install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
}
# A fresh machine may have no package lists yet.
install || { apt-get update -qq && install; }
