#!/usr/bin/env bash
# Builds the xen-native harnesses from a fresh clone: fetches Debian's Xen source (prepare.sh), compiles Xen's
# libxenguest restore side unmodified with clang (ASan + UBSan, libFuzzer or standalone) against fake_xen.c.
#   fuzz/xen-native/build.sh [--out DIR] [--coverage]
# Outputs (default .cache/xen-native/bin): xen-native-libxc, xen-native-checkpoint (libFuzzer), xen-native-run
# (standalone, for the good-stream test and triage), and with --coverage *-cov builds with clang source coverage.
# Exit 3: the source could not be fetched (registry/network); 4: no clang; 2: build error.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/.cache/xen-native/bin
coverage=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --coverage) coverage=1; shift ;;
    *) echo "usage: $0 [--out DIR] [--coverage]" >&2; exit 2 ;;
  esac
done
cc=${XEN_NATIVE_CC:-}
if [ -z "$cc" ]; then
  for c in clang-14 clang; do command -v $c >/dev/null && { cc=$c; break; }; done
fi
[ -n "$cc" ] || { echo "[xen-native] clang not found (Debian: apt-get install clang-14)" >&2; exit 4; }
set +e; src=$("$here/prepare.sh"); rc=$?; set -e
[ $rc = 0 ] || exit $rc
mkdir -p "$out"
obj=$out/obj; mkdir -p "$obj"
xen_files=(xg_sr_common xg_sr_common_x86 xg_sr_common_x86_pv xg_sr_restore xg_sr_restore_x86_pv xg_sr_restore_x86_hvm)
incs=(-D__XEN_TOOLS__ -D_GNU_SOURCE -include "$src/tools/config.h" -I"$src/tools/include" -I"$src/tools/libs/ctrl"
      -I"$src/tools/libs/guest" -iquote "$src/xen/common/libelf" -I"$here")
base=(-g -O1 -DNDEBUG -fno-omit-frame-pointer -Wno-unused-command-line-argument)
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
# One object set per flavour: fuzzer (sancov for libFuzzer), plain (standalone), cov (clang source coverage).
build_set() { # flavour extra-cflags...
  local flavour=$1; shift
  mkdir -p "$obj/$flavour"
  for f in "${xen_files[@]}"; do
    "$cc" -c "${base[@]}" "$@" "${incs[@]}" -w "$src/tools/libs/guest/$f.c" -o "$obj/$flavour/$f.o"
  done
  "$cc" -c "${base[@]}" "$@" "${incs[@]}" -Wall -Wextra -Wno-sign-compare -Wno-missing-field-initializers \
    "$here/fake_xen.c" -o "$obj/$flavour/fake_xen.o"
}
echo "[xen-native] compiling Xen's restore code ($src) with $cc" >&2
build_set fuzzer "${san[@]}" -fsanitize=fuzzer-no-link
build_set plain "${san[@]}"
link() { # output flavour harness-cflags...
  local o=$1 flavour=$2; shift 2
  "$cc" "${base[@]}" "$@" "${incs[@]}" -Wall -Wextra "$here/harness_libxc.c" "$obj/$flavour"/*.o -o "$out/$o"
}
link xen-native-libxc fuzzer "${san[@]}" -fsanitize=fuzzer
link xen-native-checkpoint fuzzer "${san[@]}" -fsanitize=fuzzer -DXEN_NATIVE_CHECKPOINTED=1
link xen-native-run plain "${san[@]}" -DXEN_NATIVE_STANDALONE
if [ $coverage = 1 ]; then
  build_set cov -fprofile-instr-generate -fcoverage-mapping
  link xen-native-run-cov cov -fprofile-instr-generate -fcoverage-mapping -DXEN_NATIVE_STANDALONE
fi
echo "$src" >"$out/xen-src.path"
echo "[xen-native] built: $(cd "$out" && ls xen-native-* | tr '\n' ' ')" >&2
