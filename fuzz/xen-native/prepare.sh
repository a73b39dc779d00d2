#!/usr/bin/env bash
# Fetches Debian's Xen 4.17 source package into .cache/xen-src (private apt configuration, never the machine's
# sources) and prepares the generated include tree the restore code needs (what tools/include/Makefile does,
# without running Xen's configure). Third-party code: it stays in .cache/ (git-ignored) and is never committed.
# Prints the source root on stdout. Exit 3: the source could not be fetched (network/registry), 2: other error.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${XEN_NATIVE_SRC_CACHE:-$root/.cache/xen-src}
suite=${XEN_NATIVE_SUITE:-bookworm}
say() { echo "[xen-native] $*" >&2; }
mkdir -p "$cache"/{etc/sources.list.d,lists/partial,cache/archives/partial,src}
src=$(ls -d "$cache"/src/xen-*/ 2>/dev/null | head -n1 || true)
if [ -z "$src" ] || [ ! -f "$src/tools/libs/guest/xg_sr_restore.c" ]; then
  for t in apt-get dpkg-source python3; do command -v $t >/dev/null || { say "missing $t"; exit 2; }; done
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    >"$cache/etc/sources.list"
  apto=(-o "Dir::Etc::SourceList=$cache/etc/sources.list" -o "Dir::Etc::SourceParts=$cache/etc/sources.list.d"
        -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache=$cache/cache" -o "APT::Sandbox::User=root")
  say "fetching Debian's xen source package ($suite) into $cache"
  timeout 600 apt-get "${apto[@]}" -qq update >&2 || { say "apt-get update failed (registry unreachable?)"; exit 3; }
  err=$(mktemp)
  if ! ( cd "$cache/src" && timeout 900 apt-get "${apto[@]}" -qq source --download-only xen ) 2>"$err" >&2; then
    cat "$err" >&2
    if grep -q ' 404 ' "$err"; then
      # Seen 2026-12-07 for trixie (xen 4.20.4+63-g7abfd2bce2-0+deb13u1) and sid: the index names a source package
      # whose files the registry here does not serve.
      say "apt-get source xen failed: $suite's index names $(grep -o 'xen_[^ ]*\.dsc' "$err" | head -n1 | sed 's/%2[bB]/+/g' || echo 'a source package') but the registry serves none of its files (HTTP 404)"
    else
      say "apt-get source xen failed (registry unreachable?)"
    fi
    rm -f "$err"; exit 3
  fi
  rm -f "$err"
  dsc=$(ls "$cache"/src/xen_*.dsc | head -n1)
  ver=$(basename "$dsc" .dsc); ver=${ver#xen_}
  rm -rf "$cache/src/xen-$ver"
  ( cd "$cache/src" && dpkg-source --no-check -x "$dsc" "xen-$ver" >/dev/null ) || { say "dpkg-source failed"; exit 2; }
  src=$cache/src/xen-$ver/
fi
src=${src%/}
# The generated include tree (tools/include/Makefile's xen-dir, xen-foreign and xen/lib/x86 steps).
inc=$src/tools/include
if [ ! -f "$inc/.xen-native-ready" ]; then
  say "preparing generated headers in $inc"
  (
    cd "$inc"
    rm -rf xen acpi && mkdir -p xen/libelf xen/lib/x86
    ln -s "$src"/xen/include/public/*.h xen/
    for d in "$src"/xen/include/public/*/; do ln -s "${d%/}" xen/; done
    ln -s ../xen-sys/Linux xen/sys
    ln -s "$src/xen/include/xen/libelf.h" "$src/xen/include/xen/elfstructs.h" xen/libelf/
    ln -s ../xen-foreign xen/foreign
    ln -s "$src/xen/arch/x86/include/asm" xen/
    for h in "$src"/xen/include/xen/lib/x86/*.h; do case $h in *autogen.h) ;; *) ln -s "$h" xen/lib/x86/ ;; esac; done
    pub=$src/xen/include/public
    cd xen-foreign
    for a in x86_32 x86_64; do
      python3 mkheader.py $a $a.h.tmp "$pub/arch-x86/xen-$a.h" "$pub/arch-x86/xen.h" "$pub/xen.h"
      sed 's/(__align8__ \(uint64_t\))/(\1)/g' <$a.h.tmp >$a.h && rm $a.h.tmp
    done
    cd ../xen/lib/x86
    python3 "$src/xen/tools/gen-cpuid.py" -i "$pub/arch-x86/cpufeatureset.h" -o cpuid-autogen.h
  ) >&2
  # tools/config.h is written by Xen's configure; the restore code needs none of its feature tests.
  [ -f "$src/tools/config.h" ] || printf '/* written by StreamBench fuzz/xen-native/prepare.sh in place of configure */\n' >"$src/tools/config.h"
  touch "$inc/.xen-native-ready"
fi
echo "$src"
