#!/usr/bin/env bash
# Builds the test guest kit into OUTDIR (default build/guest):
#   OUTDIR/vmlinuz    Debian 12 cloud kernel (the one linux-image-cloud-amd64 depends on)
#   OUTDIR/initrd.gz  busybox-static + guest/init + mecomwl (static C workloads), cpio newc + gzip
# Cached: does nothing when OUTDIR/.stamp matches a hash of guest/, this script, the kernel
# package name and the busybox version. Everything is built under OUTDIR (apt's cache aside).
set -euo pipefail
OUT=${1:-build/guest}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
for bin in busybox cpio gcc gzip dpkg apt-get; do
  command -v "$bin" >/dev/null || { echo "build-guest: $bin missing (run make deps)" >&2; exit 1; }
done
[ -x /bin/busybox ] && BUSYBOX=/bin/busybox || BUSYBOX=$(command -v busybox)
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || [ -f /usr/share/doc/busybox-static/copyright ] \
  || { echo "build-guest: busybox must be the static build (apt-get install busybox-static)" >&2; exit 1; }

# The concrete kernel package, e.g. linux-image-6.1.0-56-cloud-amd64.
kpkg() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -1; }
KPKG=$(kpkg || true)
if [ -z "$KPKG" ]; then
  $SUDO apt-get update -qq
  KPKG=$(kpkg || true)
fi
[ -n "$KPKG" ] || { echo "build-guest: cannot resolve the package linux-image-cloud-amd64 depends on" >&2; exit 1; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
HASH=$( { (cd "$ROOT" && find guest -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum);
          sha256sum < "$ROOT/scripts/build-guest.sh"; echo "$KPKG"; dpkg-query -W -f='${Version}' busybox-static; gcc -dumpfullversion; } \
        | sha256sum | cut -c1-16)
if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$HASH" ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ]; then
  echo "build-guest: $OUT is up to date ($KPKG)"
  exit 0
fi
rm -f "$OUT/.stamp"

# Kernel: download once per package name (the .deb stays in OUTDIR/kernel as the cache).
K="$OUT/kernel"
mkdir -p "$K"
if ! ls "$K/${KPKG}_"*.deb >/dev/null 2>&1; then
  echo "build-guest: downloading $KPKG"
  rm -rf "$K"/*.deb "$K/x"
  # apt's sandbox user must be able to write here, or apt-get download warns and runs unsandboxed.
  chmod 0777 "$K"
  (cd "$K" && apt-get download -q "$KPKG")
fi
rm -rf "$K/x"
dpkg -x "$(ls "$K/${KPKG}_"*.deb | head -1)" "$K/x"
cp "$(ls "$K"/x/boot/vmlinuz-* | head -1)" "$OUT/vmlinuz.tmp"
rm -rf "$K/x"

# Initramfs tree.
R="$OUT/rootfs"
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,etc,usr/bin,usr/sbin}
cp "$BUSYBOX" "$R/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$R/bin/$applet"
done
gcc -O2 -static -Wall -Wextra -o "$R/bin/mecomwl" "$ROOT"/guest/src/*.c
install -m 0755 "$ROOT/guest/init" "$R/init"
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -9 > "$OUT/initrd.gz.tmp"
rm -rf "$R"

mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
echo "$HASH" > "$OUT/.stamp"
echo "build-guest: built $OUT/vmlinuz ($KPKG) and $OUT/initrd.gz ($(stat -c %s "$OUT/initrd.gz") bytes)"
