#!/usr/bin/env bash
# codegenapp-test/runtime: Debian bookworm (minbase) with what a project's build commands need:
# python3 + venv (pip installs into a venv), Node.js + npm (`npm ci` on a lockfileVersion 3
# lock), git, ca-certificates, coreutils, procps, util-linux. Builds run as the user `sandbox`
# (uid 1000) or as root, as the driver decides.
source "$(dirname "$0")/../lib.sh"
root=$1
trap 'umount_below "$root"' EXIT

# Debian's own `npm` package pulls in about 350 more packages (node-* libraries, gcc, g++,
# make for node-gyp): it would make this image several times larger. npm itself is one
# self-contained package on the npm registry; npm 10 is the newest line that runs on
# bookworm's Node.js 18. Pinned by version and integrity.
NPM_VERSION=10.9.9
NPM_INTEGRITY=sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg==

debootstrap --variant=minbase --cache-dir="$DOWNLOAD_CACHE" bookworm "$root" "$DEBIAN_MIRROR" >/dev/null

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb $DEBIAN_SECURITY_MIRROR bookworm-security main
SOURCES
# Documentation, manuals and translations are a fifth of the image and never read in a test.
cat >"$root/etc/dpkg/dpkg.cfg.d/01-codegenapp-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
SLIM
# Package scripts must not try to start services inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get -qq update
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -qq install -y --no-install-recommends \
  python3 python3-venv nodejs git ca-certificates procps util-linux >/dev/null
rm "$root/usr/sbin/policy-rc.d"

tarball=$DOWNLOAD_CACHE/npm-$NPM_VERSION.tgz
if [[ ! -f $tarball ]]; then
  (cd "$DOWNLOAD_CACHE" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
fi
actual=sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)
if [[ $actual != "$NPM_INTEGRITY" ]]; then
  echo "runtime: $tarball is not npm@$NPM_VERSION (integrity $actual)" >&2
  rm -f "$tarball"
  exit 1
fi
install -d "$root/usr/lib/node_modules/npm"
tar -xzf "$tarball" -C "$root/usr/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"

chroot "$root" useradd --create-home --uid 1000 --shell /bin/bash sandbox

# Test infrastructure only: HTTPS to the package registries goes through this machine's
# intercepting proxy, whose CA is in the host's bundle. With the same bundle at Debian's path,
# Debian's pip (the one `python3 -m venv` installs), pip >= 24.2 (truststore) and Debian's
# Node.js (OpenSSL's default store) all trust it with no environment variable. Running
# update-ca-certificates inside the image would drop the proxy's CA again.
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"

chroot "$root" apt-get -qq clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/usr/share/man/* "$root"/usr/share/info/*
# What debootstrap installed before the exclusions above existed.
find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
