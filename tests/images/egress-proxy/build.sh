#!/usr/bin/env bash
# codegenapp-test/egress-proxy: Debian's tinyproxy and socat on busybox-static, the test
# stand-in for the product's sidecar image (deploy/egress-proxy/Dockerfile). Run by hand, it
# runs tinyproxy as the unprivileged user `tinyproxy` with /etc/tinyproxy/custom.conf (the
# image's CMD); the docker sandbox driver replaces the command and the user, and puts its own
# configuration in.
source "$(dirname "$0")/../lib.sh"
root=$1
busybox_tree "$root" # sh, grep, sleep, kill: the driver's scripts in the sidecar need them

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# socat's libraries (OpenSSL, tcpwrappers and what they pull in) come from these packages.
for deb in $(deb_download tinyproxy-bin socat libc6 libssl3 libwrap0 libnsl2 libtirpc3 \
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1); do
  dpkg-deb -x "$deb" "$stage"
done
cp -a "$stage/usr/share/tinyproxy" "$root/usr/share/" # the error pages it answers with

# Each program with exactly the libraries the loader resolves for it, from the packages
# above; stop here if one is missing (a new version that needs more).
loader=$stage/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
install -D -m 0755 "$loader" "$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
install -d "$root/lib64"
ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
for program in /usr/bin/tinyproxy /usr/bin/socat; do
  install -D -m 0755 "$stage$program" "$root$program"
  listing=$("$loader" --library-path "$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu" \
    --list "$stage$program")
  if grep -q 'not found' <<<"$listing"; then
    echo "egress-proxy: $program needs a library none of the packages has:" >&2
    echo "$listing" >&2
    exit 1
  fi
  for library in $(awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$listing"); do
    inside=${library#"$stage"}
    [[ -e $root$inside ]] || install -D -m 0755 "$library" "$root$inside"
  done
done

# glibc resolves host names through /etc/nsswitch.conf; its built-in `files` and `dns` suffice.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
echo 'tinyproxy:x:100:101:tinyproxy:/nonexistent:/bin/false' >>"$root/etc/passwd"
echo 'tinyproxy:x:101:' >>"$root/etc/group"
install -d -m 0755 "$root/etc/tinyproxy"
install -d -m 0755 -o 100 -g 101 "$root/run/tinyproxy" # for a PidFile, if a policy wants one
