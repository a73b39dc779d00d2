#!/usr/bin/env bash
# tools/xenlab/build.sh - build the Xen lab from Debian packages into a git-ignored cache.
#
# Nothing Xen-related is installed into this machine's boot: the Xen hypervisor, the Xen tools,
# their libraries and the Linux kernel are fetched with `apt-get download` and unpacked with
# `dpkg -x`.  Only qemu-system-x86, busybox-static, cpio, kmod and zstd are installed with
# apt-get install (if missing).
#
# Output in $XENLAB_CACHE (default <repo>/.cache/xenlab):
#   boot/xen          Xen 4.17 ELF32 multiboot image (zcat of xen-4.17-amd64.gz)
#   boot/vmlinuz      the Debian kernel (dom0 and guests)
#   boot/dom0.cpio.gz dom0 initramfs (busybox, Xen tools, libs, modules, guest kernel+initrd)
#   boot/guest.cpio.gz the tiny guest initramfs (prints "tick N" every second on hvc0)
#   boot/heartbeat.cpio.gz a "foreign" guest initramfs (prints "[heartbeat] seq=N" every 2 s; foreign-init)
#   build.stamp       inputs hash; the build is skipped when unchanged (use --force)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
C=${XENLAB_CACHE:-$repo/.cache/xenlab}
force=0; [ "${1:-}" = --force ] && force=1
log() { echo "xenlab build: $*" >&2; }
die() { echo "xenlab build: ERROR: $*" >&2; exit 1; }

mkdir -p "$C/debs" "$C/boot"
exec 9>"$C/.build.lock"; flock -w 1800 9 || die "lock timeout"

# --- host tools -------------------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || need+=(kmod)
command -v zstd >/dev/null || need+=(zstd)
command -v file >/dev/null || need+=(file)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not available; need ${need[*]}"
  log "installing host packages: ${need[*]}"
  for i in 1 2 3 4 5 6 7 8 9 10; do apt-get update -qq && break; sleep 10; done
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 \
    || die "apt-get install ${need[*]} failed"
fi
[ -f /usr/share/seabios/bios-256k.bin ] || die "/usr/share/seabios/bios-256k.bin missing (package seabios)"

# --- Debian packages (download + unpack only) -------------------------------------------
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$kpkg" ]; then
  apt-get update -qq || true
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[ -n "$kpkg" ] || kpkg=$(ls "$C"/debs/linux-image-*-amd64_*.deb 2>/dev/null | head -1 | xargs -r basename | cut -d_ -f1)
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 (run apt-get update?)"
PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils libxencall1
 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1 libxenmisc4.17
 libxenstore4 libxentoolcore1 libxentoollog1 libyajl2 $kpkg qemu-system-xen"
missing=()
for p in $PKGS; do ls "$C"/debs/${p}_*.deb >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get download ${missing[*]}"
  (cd "$C/debs" && apt-get download "${missing[@]}" >&2) || {
    apt-get update -qq || true
    (cd "$C/debs" && apt-get download "${missing[@]}" >&2) || die "apt-get download failed"; }
fi

stamp=$( (ls -l "$C"/debs; cat "$here/build.sh" "$here/dom0-init" "$here/guest-init" "$here/foreign-init"; busybox | sed -n 1p) | sha256sum | cut -c1-16)
if [ "$force" = 0 ] && [ -f "$C/build.stamp" ] && [ "$(cat "$C/build.stamp")" = "$stamp" ] \
   && [ -f "$C/boot/dom0.cpio.gz" ]; then
  log "up to date ($stamp)"; exit 0
fi

P=$C/pkgroot
rm -rf "$P"; mkdir -p "$P"
for d in "$C"/debs/*.deb; do dpkg-deb -x "$d" "$P"; done
KVER=$(ls "$P/lib/modules" | head -1)
zcat "$P/boot/xen-4.17-amd64.gz" > "$C/boot/xen"
cp "$P/boot/vmlinuz-$KVER" "$C/boot/vmlinuz"
echo "$KVER" > "$C/boot/kver"

# --- guest initramfs --------------------------------------------------------------------
G=$C/guestroot; rm -rf "$G"; mkdir -p "$G"/{bin,dev,proc,sys}
cp /bin/busybox "$G/bin/busybox"
for a in sh echo sleep mount cat; do ln -s busybox "$G/bin/$a"; done
mknod -m 600 "$G/dev/console" c 5 1; mknod -m 666 "$G/dev/null" c 1 3
install -m 755 "$here/guest-init" "$G/init"
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -9) > "$C/boot/guest.cpio.gz"
# the "foreign" guest image (not the lab's tick protocol: issue #19's test set of streams that are not the lab's own)
for a in tr sed; do ln -sf busybox "$G/bin/$a"; done
install -m 755 "$here/foreign-init" "$G/init"
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -9) > "$C/boot/heartbeat.cpio.gz"

# --- dom0 root --------------------------------------------------------------------------
R=$C/dom0root; rm -rf "$R"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,run,in,out,root,etc,guest,lib64,var/log/xen/console,var/lib/xen,var/run/xen,var/lib/xenstored}
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
mknod -m 600 "$R/dev/console" c 5 1; mknod -m 666 "$R/dev/null" c 1 3
# Xen tools and libraries (no docs, no python, no hypervisor, no kernel)
mkdir -p "$R/usr" "$R/etc"
cp -a "$P/usr/lib" "$R/usr/"; cp -a "$P/usr/bin" "$P/usr/sbin" "$R/usr/"
[ -d "$P/usr/libexec" ] && cp -a "$P/usr/libexec" "$R/usr/"
cp -a "$P/etc/xen" "$R/etc/"
rm -rf "$R/usr/lib/xen-4.17/lib/python" "$R/usr/lib/python3" 2>/dev/null || true
# kernel modules the dom0 needs
KM=$P/lib/modules/$KVER/kernel
mkdir -p "$R/lib/modules/$KVER/kernel"
for m in drivers/xen/xen-evtchn.ko drivers/xen/xen-privcmd.ko drivers/xen/xen-gntdev.ko \
         drivers/xen/xen-gntalloc.ko drivers/xen/xenfs/xenfs.ko drivers/block/virtio_blk.ko \
         drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci.ko \
         drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko \
         drivers/net/virtio_net.ko; do
  [ -f "$KM/$m" ] || die "module $m not in $kpkg"
  mkdir -p "$R/lib/modules/$KVER/kernel/$(dirname $m)"; cp "$KM/$m" "$R/lib/modules/$KVER/kernel/$m"
done
# add any dependency the kernel package records (modinfo depends)
for i in 1 2 3; do
  for ko in $(find "$R/lib/modules/$KVER" -name '*.ko'); do
    for dep in $(modinfo -F depends "$ko" | tr , ' '); do
      [ -n "$(find "$R/lib/modules/$KVER" -name "$dep.ko" -print -quit)" ] && continue
      src=$(find "$KM" -name "$dep.ko" -print -quit); [ -n "$src" ] || die "dep $dep not found"
      rel=${src#$KM/}; mkdir -p "$R/lib/modules/$KVER/kernel/$(dirname $rel)"; cp "$src" "$R/lib/modules/$KVER/kernel/$rel"
    done
  done
done
cp "$P/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$R" "$KVER"
# QEMU (xen device model) data: SeaBIOS, VGA BIOS, keymaps, option ROMs
mkdir -p "$R/usr/share/seabios" "$R/usr/share/qemu"
cp /usr/share/seabios/bios-256k.bin /usr/share/seabios/vgabios*.bin "$R/usr/share/seabios/"
cp -a /usr/share/qemu/keymaps /usr/share/qemu/linuxboot*.bin /usr/share/qemu/kvmvapic.bin "$R/usr/share/qemu/" 2>/dev/null || true
for f in "$R"/usr/share/seabios/*.bin; do ln -sf ../seabios/$(basename $f) "$R/usr/share/qemu/$(basename $f)"; done
# shared libraries from the host, found with ldd (Xen's own libs resolve inside $R)
LDP=$R/usr/lib/x86_64-linux-gnu:$R/usr/lib/xen-4.17/lib/x86_64-linux-gnu
mkdir -p "$R/lib/x86_64-linux-gnu"
: > "$C/ldd.missing"
find "$R/usr" -type f \( -perm -u+x -o -name '*.so*' \) | while read -r f; do
  file -b "$f" | grep -q '^ELF' || continue
  LD_LIBRARY_PATH=$LDP ldd "$f" 2>/dev/null | while read -r a b c d; do
    case "$b $c" in
      "=> not found") echo "$f: $a" >> "$C/ldd.missing" ;;
      "=> /"*) case "$c" in "$R"/*) ;; *) [ -e "$R$c" ] || { mkdir -p "$R$(dirname "$c")"; cp -L "$c" "$R$c"; } ;; esac ;;
    esac
    case "$a" in /lib64/ld-linux*) [ -e "$R/lib64/$(basename $a)" ] || cp -L "$a" "$R/lib64/" ;; esac
  done
done
[ -s "$C/ldd.missing" ] && { log "WARNING: unresolved libraries:"; sort -u "$C/ldd.missing" >&2; }
# /lib -> usr/lib merge as on Debian: make both paths work
mkdir -p "$R/usr/lib/x86_64-linux-gnu"
( cd "$R/lib/x86_64-linux-gnu" && for f in *; do [ -e "$R/usr/lib/x86_64-linux-gnu/$f" ] || ln -s /lib/x86_64-linux-gnu/$f "$R/usr/lib/x86_64-linux-gnu/$f"; done )
# config
cat > "$R/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
P
echo "root:x:0:" > "$R/etc/group"
cat > "$R/etc/xen/xl.conf" <<'P'
autoballoon="off"
run_hotplug_scripts=0
P
install -m 755 "$here/dom0-init" "$R/init"
cp "$C/boot/vmlinuz" "$R/guest/vmlinuz"; cp "$C/boot/guest.cpio.gz" "$R/guest/tick.cpio.gz"
cp "$C/boot/heartbeat.cpio.gz" "$R/guest/heartbeat.cpio.gz"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$C/boot/dom0.cpio.gz.tmp"
mv "$C/boot/dom0.cpio.gz.tmp" "$C/boot/dom0.cpio.gz"
echo "$stamp" > "$C/build.stamp"
log "done: $(du -h "$C/boot/dom0.cpio.gz" | cut -f1) dom0 initramfs, kernel $KVER"
