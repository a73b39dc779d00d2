#!/usr/bin/env bash
# Regenerates corpus/synthetic/: small valid streams of every layer and dialect, written by `streambench generate`
# (deterministic: the same command gives the same bytes), and their lines in corpus/synthetic/MANIFEST.tsv.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sb="$root/tools/streambench"
dir="$root/corpus/synthetic"
mkdir -p "$dir"
manifest="$dir/MANIFEST.tsv"
printf 'file\tlayer\tdialect\twhat\tcommand\tsha256\n' > "$manifest"
gen() { # file layer dialect what args...
  local file=$1 layer=$2 dialect=$3 what=$4; shift 4
  "$sb" generate "$@" -o "$dir/$file"
  printf '%s\t%s\t%s\t%s\tstreambench generate %s\t%s\n' "$file" "$layer" "$dialect" "$what" "$*" \
    "$(sha256sum "$dir/$file" | cut -d' ' -f1)" >> "$manifest"
}
gen libxc-hvm-v3.bin libxc upstream "bare libxc v3 HVM stream, 16 pages" --layer libxc --guest hvm --pages 16
gen libxc-hvm-v2.bin libxc upstream "bare libxc v2 HVM stream (no STATIC_DATA_END/policies)" --layer libxc --guest hvm --pages 16 --stream-version 2
gen libxc-pv64-v3.bin libxc upstream "bare libxc v3 64-bit PV stream, 2 vCPUs" --layer libxc --guest pv --pages 16 --vcpus 2
gen libxc-pv32-v3.bin libxc upstream "bare libxc v3 32-bit PV stream" --layer libxc --guest pv32 --pages 16
gen libxc-xtab.bin libxc upstream "libxc HVM with XTAB pfns in 7-pfn batches" --layer libxc --guest hvm --pages 50 --batch 7 --xtab-every 5
gen libxl-hvm.bin libxl upstream "libxl HVM with EMULATOR_XENSTORE_DATA and EMULATOR_CONTEXT" --layer libxl --guest hvm --pages 16 --xenstore-data
gen libxl-pvh.bin libxl upstream "libxl PVH (no device-model records)" --layer libxl --guest pvh --pages 16
gen xl-pv.bin xl upstream "xl save file (JSON config) of a 64-bit PV guest" --layer xl --guest pv --pages 16
gen xl-hvm.bin xl upstream "xl save file of an HVM guest" --layer xl --guest hvm --pages 16
gen xl-migrate-s2r.bin xl upstream "xl migrate sender side: stream then 'domain is yours'" --layer xl-migrate-sender --guest pvh --pages 16
gen xl-migrate-r2s.bin migrate upstream "xl migrate receiver side: banner, ready, report 0" --back-channel migrate-receiver
gen xl-debug-verify.bin xl upstream "xl migrate --debug shape: VERIFY then a full resend" --layer xl --guest pvh --pages 12 --debug-verify
gen libxc-remus-failover.bin libxc upstream "bare libxc Remus stream, 3 checkpoints, failover (no END)" --layer libxc --guest hvm --pages 12 --checkpoints 3 --no-end
gen libxl-remus-failover.bin libxl upstream "libxl Remus stream, 3 checkpoints, failover after CHECKPOINT_END" --layer libxl --guest hvm --pages 12 --checkpoints 3 --no-end
gen libxl-remus-partial.bin libxl upstream "libxl Remus stream, failover inside the third checkpoint" --layer libxl --guest hvm --pages 12 --checkpoints 2 --no-end --partial-checkpoint
gen libxl-remus-end.bin libxl upstream "libxl checkpointed stream closed with END" --layer libxl --guest pvh --pages 12 --checkpoints 2
gen colo-back-channel.bin back-channel upstream "COLO back channel: CHECKPOINT_STATE and CHECKPOINT_DIRTY_PFN_LIST" --back-channel colo --checkpoints 2
gen libxc-postcopy.bin libxc postcopy-rfc "post-copy RFC libxc stream" --layer libxc --guest hvm --pages 12 --batch 8 --dialect postcopy-rfc
gen libxl-postcopy.bin libxl postcopy-rfc "post-copy RFC libxl stream with POSTCOPY_TRANSITION_END" --layer libxl --guest hvm --pages 12 --batch 8 --dialect postcopy-rfc
gen postcopy-back-channel.bin back-channel postcopy-rfc "post-copy RFC back channel: faults then COMPLETE" --back-channel postcopy --pages 48
echo "wrote $(($(wc -l < "$manifest") - 1)) streams to $dir"
