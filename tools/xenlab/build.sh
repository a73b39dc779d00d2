#!/usr/bin/env bash
# tools/xenlab/build.sh - build the Xen lab from Debian packages into a git-ignored cache.
#
# Nothing Xen-related is installed into this machine's boot: the Xen hypervisor, the Xen tools,
# their libraries and the Linux kernel are fetched with `apt-get download` and unpacked with
# `dpkg -x`.  Only qemu-system-x86, busybox-static, cpio, kmod and zstd are installed with
# apt-get install (if missing).
#
# usage: build.sh [--xen 4.17|4.20] [--force]      (or env XENLAB_XEN; default 4.17)
#   4.17: Debian bookworm's packages, from this machine's own apt sources (the host is bookworm).
#   4.20: Debian trixie's packages, from a PRIVATE apt configuration under the cache (its own sources.list, lists,
#         archive cache and an empty dpkg status: the machine's sources are never touched). The dependency closure of
#         xen-hypervisor-4.20-amd64, xen-utils-4.20, xenstore-utils and qemu-system-xen is resolved there
#         (`apt-get -s install` against the empty status) and downloaded; trixie's glibc and libraries go into the
#         dom0 root (found with trixie's own ld.so --list), never the host's. The kernel stays bookworm's.
#
# Output in $XENLAB_CACHE (default <repo>/.cache/xenlab for 4.17, <repo>/.cache/xenlab-4.20 for 4.20):
#   boot/xen          Xen ELF32 multiboot image (zcat of xen-<ver>-amd64.gz)
#   boot/vmlinuz      the Debian kernel (dom0 and guests)
#   boot/dom0.cpio.gz dom0 initramfs (busybox, Xen tools, libs, modules, guest kernel+initrd)
#   boot/guest.cpio.gz the tiny guest initramfs (prints "tick N" every second on hvc0)
#   boot/heartbeat.cpio.gz a "foreign" guest initramfs (prints "[heartbeat] seq=N" every 2 s; foreign-init)
#   build.stamp       inputs hash; the build is skipped when unchanged (use --force)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
force=0; XV=${XENLAB_XEN:-4.17}
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1; shift ;;
    --xen) XV=${2:-}; shift 2 || { echo "build.sh: --xen needs 4.17 or 4.20" >&2; exit 64; } ;;
    *) echo "build.sh: unknown option $1 (usage: build.sh [--xen 4.17|4.20] [--force])" >&2; exit 64 ;;
  esac
done
case "$XV" in
  4.17) C=${XENLAB_CACHE:-$repo/.cache/xenlab} ;;
  4.20) C=${XENLAB_CACHE:-$repo/.cache/xenlab-4.20} ;;
  *) echo "build.sh: --xen $XV: only 4.17 (bookworm) and 4.20 (trixie) are known" >&2; exit 64 ;;
esac
log() { echo "xenlab build ($XV): $*" >&2; }
die() { echo "xenlab build ($XV): ERROR: $*" >&2; exit 1; }

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
if [ "$XV" = 4.17 ]; then
PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils libxencall1
 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1 libxenmisc4.17
 libxenstore4 libxentoolcore1 libxentoollog1 libyajl2 $kpkg qemu-system-xen"
else
  # trixie, privately: the kernel ($kpkg, bookworm's) comes from the host's apt below; everything else from here
  A=$C/apt; mkdir -p "$A/etc" "$A/lists/partial" "$A/cache/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" > "$A/etc/sources.list"; : > "$A/status"
  APTO=(-o Dir::Etc::SourceList="$A/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$A/lists"
        -o Dir::Cache="$A/cache" -o Dir::State::status="$A/status" -o Dir::Etc::Preferences=/dev/null
        -o Dir::Etc::PreferencesParts=/dev/null -o APT::Install-Recommends=0 -o Debug::NoLocking=1)
  ROOTS="xen-hypervisor-4.20-amd64 xen-utils-4.20 xenstore-utils qemu-system-xen"
  if [ ! -s "$C/closure.txt" ] || [ "$force" = 1 ]; then
    ls "$A"/lists/*trixie*Packages* >/dev/null 2>&1 && [ "$force" = 0 ] || {
      log "apt-get update (private trixie configuration in $A)"
      for i in 1 2 3 4 5; do apt-get "${APTO[@]}" update -qq >&2 && break; sleep 10; done; }
    apt-get "${APTO[@]}" -s install $ROOTS 2>/dev/null | awk '/^Inst /{print $2}' > "$C/closure.txt.tmp"
    grep -q '^xen-utils-4.20$' "$C/closure.txt.tmp" || die "trixie: cannot resolve $ROOTS (apt-get -s install)"
    mv "$C/closure.txt.tmp" "$C/closure.txt"
  fi
  tmissing=()
  for p in $(cat "$C/closure.txt"); do ls "$C"/debs/${p}_*.deb >/dev/null 2>&1 || tmissing+=("$p"); done
  if [ ${#tmissing[@]} -gt 0 ]; then
    log "apt-get download (trixie) ${#tmissing[@]} packages"
    (cd "$C/debs" && apt-get "${APTO[@]}" download "${tmissing[@]}" >&2) || die "apt-get download (trixie) failed"
  fi
  PKGS=$kpkg
fi
missing=()
for p in $PKGS; do ls "$C"/debs/${p}_*.deb >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get download ${missing[*]}"
  (cd "$C/debs" && apt-get download "${missing[@]}" >&2) || {
    apt-get update -qq || true
    (cd "$C/debs" && apt-get download "${missing[@]}" >&2) || die "apt-get download failed"; }
fi

stamp=$( (ls -l "$C"/debs; echo "xen $XV"; cat "$here/build.sh" "$here/dom0-init" "$here/guest-init" "$here/foreign-init"; busybox | sed -n 1p) | sha256sum | cut -c1-16)
if [ "$force" = 0 ] && [ -f "$C/build.stamp" ] && [ "$(cat "$C/build.stamp")" = "$stamp" ] \
   && [ -f "$C/boot/dom0.cpio.gz" ]; then
  log "up to date ($stamp)"; exit 0
fi

P=$C/pkgroot
rm -rf "$P"; mkdir -p "$P"
for d in "$C"/debs/*.deb; do dpkg-deb -x "$d" "$P"; done
KVER=$(ls "$P/lib/modules" | head -1)
zcat "$P/boot/xen-$XV-amd64.gz" > "$C/boot/xen"
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
if [ "$XV" = 4.17 ]; then
  cp -a "$P/usr/lib" "$R/usr/"; cp -a "$P/usr/bin" "$P/usr/sbin" "$R/usr/"
  [ -d "$P/usr/libexec" ] && cp -a "$P/usr/libexec" "$R/usr/"
  cp -a "$P/etc/xen" "$R/etc/"
else
  # $P holds trixie's whole closure (glibc, systemd, python, ...): only the Xen/QEMU packages' own files go in; the
  # libraries they load are added below from $P by trixie's ld.so
  X=$C/xenroot; rm -rf "$X"; mkdir -p "$X"
  for d in "$C"/debs/xen-utils-${XV}_*.deb "$C"/debs/xen-utils-common_*.deb "$C"/debs/xenstore-utils_*.deb \
           "$C"/debs/qemu-system-xen_*.deb; do dpkg-deb -x "$d" "$X"; done
  cp -a "$X/usr/lib" "$X/usr/bin" "$X/usr/sbin" "$X/usr/libexec" "$R/usr/"
  cp -a "$X/etc/xen" "$R/etc/"
  rm -rf "$R/usr/lib/systemd" "$X"
fi
rm -rf "$R/usr/lib/xen-$XV/lib/python" "$R/usr/lib/python3" 2>/dev/null || true
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
# (4.17: the host's, which is bookworm too; 4.20: trixie's seabios and qemu-system-data from the closure)
SH=/usr/share; [ "$XV" = 4.17 ] || SH=$P/usr/share
mkdir -p "$R/usr/share/seabios" "$R/usr/share/qemu"
cp "$SH"/seabios/bios-256k.bin "$SH"/seabios/vgabios*.bin "$R/usr/share/seabios/"
cp -a "$SH"/qemu/keymaps "$SH"/qemu/linuxboot*.bin "$SH"/qemu/kvmvapic.bin "$R/usr/share/qemu/" 2>/dev/null || true
for f in "$R"/usr/share/seabios/*.bin; do ln -sf ../seabios/$(basename $f) "$R/usr/share/qemu/$(basename $f)"; done
: > "$C/ldd.missing"
if [ "$XV" != 4.17 ]; then
  # trixie's libraries (glibc 2.41 etc.) from the unpacked closure, found by trixie's own dynamic loader:
  # `ld.so --library-path <closure dirs> --list ELF` resolves every DT_NEEDED inside $P, never on the host
  LDSO=$P/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
  [ -x "$LDSO" ] || die "trixie's ld.so missing from the closure (libc6)"
  LDP=$P/usr/lib/xen-$XV/lib/x86_64-linux-gnu:$P/usr/lib/x86_64-linux-gnu:$P/lib/x86_64-linux-gnu
  mkdir -p "$R/usr/lib/x86_64-linux-gnu"
  cp -L "$LDSO" "$R/lib64/ld-linux-x86-64.so.2"; cp -L "$LDSO" "$R/usr/lib/x86_64-linux-gnu/"
  find "$R/usr" -type f \( -perm -u+x -o -name '*.so*' \) | while read -r f; do
    file -b "$f" | grep -q '^ELF.*dynamic' || continue
    "$LDSO" --library-path "$LDP" --list "$f" 2>&1 | while read -r a b c d; do
      case "$b $c" in
        "=> not found") echo "$f: $a" >> "$C/ldd.missing" ;;
        "=> $P"/*) t=${c#$P}; t=/usr${t#/usr}; [ -e "$R$t" ] || { mkdir -p "$R$(dirname "$t")"; cp -L "$c" "$R$t"; } ;;
        "=> /"*) echo "$f: $a resolved outside the trixie closure: $c" >> "$C/ldd.missing" ;;
      esac
    done
  done
  [ -s "$C/ldd.missing" ] && { log "WARNING: unresolved libraries:"; sort -u "$C/ldd.missing" >&2; }
  # merged /usr as on trixie: /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu
  ln -s ../usr/lib/x86_64-linux-gnu "$R/lib/x86_64-linux-gnu"
else
# shared libraries from the host, found with ldd (Xen's own libs resolve inside $R)
LDP=$R/usr/lib/x86_64-linux-gnu:$R/usr/lib/xen-4.17/lib/x86_64-linux-gnu
mkdir -p "$R/lib/x86_64-linux-gnu"
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
fi
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
echo "$XV" > "$C/boot/xen-version"
log "done: $(du -h "$C/boot/dom0.cpio.gz" | cut -f1) dom0 initramfs, Xen $XV, kernel $KVER"
