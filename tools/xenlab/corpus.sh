#!/usr/bin/env bash
# tools/xenlab/corpus.sh OUTDIR - copy real captures of a lab run into corpus/real (zstd -15)
# and update corpus/real/MANIFEST.tsv.
#
# Full streams of a 128 MiB guest compress to 13-15 MB each (the Debian kernel's ~50 MB of
# non-zero pages), so only a size budget's worth is kept: XENLAB_CORPUS_BUDGET_MB (default 16)
# of compressed full streams, chosen in priority order (XENLAB_CORPUS_PRIORITY), plus every
# small capture (receiver->sender sides, < 1 MiB) always.
#
# The host's Xen version comes from the run's xl info. Captures of a 4.17 host keep their plain names (save-pv.xl.zst);
# those of any other version are stored as xen-<major.minor>-<name> (xen-4.20-save-pv.xl.zst), beside their 4.17
# twins, with the version in the manifest's xen_version column.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:?usage: corpus.sh LAB_OUTDIR}
dst=${XENLAB_CORPUS_DIR:-$repo/corpus/real}
budget=$(( ${XENLAB_CORPUS_BUDGET_MB:-16} * 1048576 ))
prio=${XENLAB_CORPUS_PRIORITY:-"remus-pvh.s2r save-pv.xl save-pvh.xl migrate-debug.s2r migrate-pvh.s2r save-c.xl"}
mkdir -p "$dst"
man=$dst/MANIFEST.tsv
hdr=$'file\txen_version\tguest_type\tscenario\tsha256\tsize\tzst_size\tnotes'
[ -f "$man" ] || echo "$hdr" > "$man"
xenver=$(grep -h '^xen_version' "$out"/boot-*/files/xl-info.txt 2>/dev/null | head -1 | awk '{print $3}')
xenver=${xenver:-4.17}
mm=$(echo "$xenver" | cut -d. -f1,2)
pfx=""; [ "$mm" = 4.17 ] || pfx="xen-$mm-"
cache=${XENLAB_CACHE:-$repo/.cache/xenlab}; [ "$mm" = 4.17 ] || cache=${XENLAB_CACHE:-$repo/.cache/xenlab-$mm}
debver=$(ls "$cache/debs"/xen-hypervisor-$mm-amd64_*.deb 2>/dev/null | head -1 | sed 's/.*amd64_\(.*\)_amd64.deb/\1/')
suite=bookworm; [ "$mm" = 4.17 ] || suite=trixie
gtype() { case $1 in save-pv.*|save-c.*|migrate-pv.*) echo pv ;; *hvm*) echo hvm ;; *) echo pvh ;; esac; }
note() {
  case $1 in
    migrate-pv.s2r) echo "sender->receiver bytes of an aborted PV live migration (Failed to enable logdirty: 95; known limit)" ;;
    remus-*.s2r) echo "sender->receiver bytes of xl remus -F -n -d -i 200 up to failover (checkpointed, no END)" ;;
    *.xl) echo "xl save file (xl header, libxl v2, libxc v3)" ;;
    *.s2r) echo "sender->receiver bytes of the xl migration transport" ;;
    *.r2s) echo "receiver->sender bytes (banners, result byte)" ;;
  esac
}
add() {  # path
  local f=$1 b; b=$pfx$(basename "$f")
  local sc; sc=$(basename "$f"); sc=${sc%.*}
  zstd -15 -T2 -q -f "$f" -o "$dst/$b.zst"
  local sum size zs
  sum=$(sha256sum "$f" | cut -d' ' -f1); size=$(stat -L -c %s "$f"); zs=$(stat -L -c %s "$dst/$b.zst")
  grep -v -P "^\Q$b.zst\E\t" "$man" > "$man.tmp" || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$b.zst" "$xenver (Debian $suite $debver)" "$(gtype "$(basename "$f")")" "$sc" \
     "$sum" "$size" "$zs" "$(note "$(basename "$f")"), captured $(date -u +%F)" >> "$man.tmp"
  { echo "$hdr"; grep -v '^file	' "$man.tmp" | sort; } > "$man"; rm -f "$man.tmp"
  echo "corpus: $b.zst ($size -> $zs bytes)"
  used=$((used + zs))
}
used=0
# every small capture (receiver sides, the aborted PV migration, ...) always goes in
for f in "$out"/boot-*/files/*.r2s "$out"/boot-*/files/*.s2r "$out"/boot-*/files/*.xl; do
  [ -s "$f" ] && [ "$(stat -L -c %s "$f")" -lt 1048576 ] && add "$f"
done
for b in $prio; do
  f=$(ls "$out"/boot-*/files/"$b" 2>/dev/null | head -1); [ -n "$f" ] || continue
  est=$(( $(stat -L -c %s "$f") / 9 ))      # zstd -15 ratio measured ~ 1:10
  if [ $((used + est)) -gt "$budget" ]; then echo "corpus: skipping $b (size budget ${XENLAB_CORPUS_BUDGET_MB:-16} MiB)"; continue; fi
  add "$f"
done
echo "corpus: $(du -sh "$dst" | cut -f1) in $dst"
