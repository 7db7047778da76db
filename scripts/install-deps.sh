#!/usr/bin/env bash
# Installs the Debian packages mecom needs, only when missing.
# QEMU must be >= 10.0 (bookworm-backports): Debian 12's 7.2 loses guest writes
# when migrating under TCG (see docs/guest.md).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
qemu_ok() {
  command -v qemu-system-x86_64 >/dev/null 2>&1 || return 1
  local v; v=$(qemu-system-x86_64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -1)
  [ -n "$v" ] && [ "$v" -ge 10 ]
}
qemu_ok || need+=(qemu)
for bin in busybox:busybox-static cpio:cpio ip:iproute2 tc:iproute2 gcc:gcc; do
  command -v "${bin%%:*}" >/dev/null 2>&1 || need+=("${bin#*:}")
done
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)

[ ${#need[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${need[*]}"

if [[ " ${need[*]} " == *" qemu "* ]]; then
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
fi
$SUDO apt-get update -qq
pkgs=()
for p in "${need[@]}"; do [ "$p" = qemu ] || pkgs+=("$p"); done
[ ${#pkgs[@]} -eq 0 ] || $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
if [[ " ${need[*]} " == *" qemu "* ]]; then
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 qemu-utils
fi
qemu_ok || { echo "install-deps: qemu-system-x86_64 >= 10 is still missing" >&2; exit 1; }
