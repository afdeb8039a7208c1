# Steps the test image recipes share; sourced by tests/images/<name>/build.sh.
#
# A recipe runs as root as `build.sh ROOTFS` and fills the empty directory ROOTFS with a root file
# system, which tests/support/images.py then packs and `docker import`s. Environment it gets:
#   DOWNLOAD_CACHE         a directory kept between builds for downloaded packages
#   DEBIAN_MIRROR          the Debian archive this machine's apt uses (e.g. http://deb.debian.org/debian)
#   DEBIAN_SECURITY_MIRROR the matching security archive
# Everything in a recipe's directory and this file is part of the image's cache key: change
# anything here and the images are rebuilt.
set -euo pipefail

# deb_download PACKAGE... : the packages' .deb files (the candidates of this machine's apt
# configuration) into $DOWNLOAD_CACHE; prints their paths.
deb_download() {
  local pkg
  # apt drops to the _apt user to download unless told otherwise; the cache belongs to root.
  (cd "$DOWNLOAD_CACHE" && apt-get -qq -o APT::Sandbox::User=root download "$@" >/dev/null) ||
    { apt-get -qq update && (cd "$DOWNLOAD_CACHE" && apt-get -qq -o APT::Sandbox::User=root download "$@" >/dev/null); }
  for pkg in "$@"; do
    local version
    version=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
    # apt-get download writes the epoch's colon as %3a.
    ls "$DOWNLOAD_CACHE/${pkg}_${version//:/%3a}_"*.deb
  done
}

# busybox_tree ROOTFS : a minimal root file system made of busybox-static and its applets.
busybox_tree() {
  local root=$1 stage applet
  stage=$(mktemp -d)
  dpkg-deb -x "$(deb_download busybox-static)" "$stage"
  install -d -m 0755 "$root"/{bin,dev,etc,proc,root,sys,usr/bin,var}
  install -d -m 1777 "$root/tmp"
  install -m 0755 "$stage/bin/busybox" "$root/bin/busybox"
  rm -rf "$stage"
  for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox || -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

# umount_below DIR : unmounts whatever a failed build left mounted inside DIR (debootstrap mounts
# /proc and /sys in its target), so that removing DIR can never reach the host's /proc or /sys.
umount_below() {
  local mount_point
  for mount_point in $(awk -v dir="$1/" 'index($2, dir) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$mount_point"
  done
}
