#!/usr/bin/env bash
# codegenapp-test/tiny: busybox-static alone (about 2 MB), for tests that need a shell, sleep,
# cat, head, dd, wget or httpd and start many containers quickly.
source "$(dirname "$0")/../lib.sh"
busybox_tree "$1"
