#!/usr/bin/env bash
# Builds the xen-native harnesses from a fresh clone: fetches Debian's Xen source (prepare.sh), compiles Xen's
# libxenguest restore side unmodified with clang (ASan + UBSan, libFuzzer or standalone) against fake_xen.c.
#   fuzz/xen-native/build.sh [--out DIR] [--coverage]
# Outputs (default .cache/xen-native/bin): xen-native-libxc, xen-native-checkpoint (libFuzzer), xen-native-run
# (standalone, for the good-stream test and triage), *.afl (AFL++: afl-clang-fast + libAFLDriver, when AFL++ is
# installed), and with --coverage xen-native-run-cov (clang source coverage).
# Harness (b), libxl's stream reader (libxl_stream_read.c with libxl_aoutils.c, libxl_dom_save.c, libxl_internal.c
# and xtl_core.c, unmodified, around fake_libxl.c): xen-native-libxl (libFuzzer), xen-native-libxl-run (standalone),
# xen-native-libxl.afl, xen-native-libxl-run-cov; libxl's headers need yajl's (Debian: libyajl-dev) and its
# generated type headers, which Xen's own gentypes.py and libxl_save_msgs_gen.pl write into the object folder.
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
lbase=(-g -O1 -fno-omit-frame-pointer -Wno-unused-command-line-argument)
# UBSan's checks are recoverable so that a campaign can suppress the known findings (known-findings.supp); every
# binary still halts on the first report by default (fake_xen.c's __ubsan_default_options: halt_on_error=1).
san=(-fsanitize=address,undefined -fsanitize-recover=undefined)
# Xen's restore objects allocate through fake_xen.c (fx_malloc ...: the optional cap of XEN_NATIVE_ALLOC_CAP_MB),
# libxl's through fake_libxl.c (fxl_malloc ...: over the cap, the input's run ends there, as XL-5 ends xl; see
# fake_libxl.h), so that no input makes ASan map and poison the shadow of a record buffer of up to 4 GiB.
xalloc=(-Dmalloc=fx_malloc -Dcalloc=fx_calloc -Drealloc=fx_realloc)
lalloc=(-Dmalloc=fxl_malloc -Dcalloc=fxl_calloc -Drealloc=fxl_realloc)
# One object set per flavour: fuzzer (sancov for libFuzzer), plain (standalone), cov (clang source coverage).
# Harness (b): libxl. Its objects go to $obj/FLAVOUR/libxl so that the libxc harnesses' links (obj/FLAVOUR/*.o) stay
# as they were. Xen's asserts stay on in libxl (no NDEBUG): they guard libxl_stream_read.c's state machine, and one
# that an input can fire is a finding.
light=$src/tools/libs/light
libxl=1
if [ ! -f /usr/include/yajl/yajl_gen.h ]; then
  echo "[xen-native] yajl headers missing (Debian: apt-get install libyajl-dev): harness (b), libxl, not built" >&2
  libxl=0
fi
libxl_files=(libxl_stream_read libxl_aoutils libxl_dom_save libxl_internal)
gen=$obj/libxl-gen
libxl_incs=(-D__XEN_TOOLS__ -DHAVE_YAJL_YAJL_VERSION_H -include "$src/tools/config.h" -include "$here/fake_libxl.h"
            -DXEN_LIB_DIR=FXL_SCRATCH_DIR -I"$gen" -I"$light" -I"$src/tools/include" -I"$src/tools/libs/ctrl"
            -I"$src/tools/libs/guest" -I"$here")
if [ $libxl = 1 ]; then
  # libxl's generated headers, as tools/libs/light/Makefile makes them (gentypes.py, libxl_save_msgs_gen.pl).
  if [ ! -f "$gen/.ready" ]; then
    rm -rf "$gen"; mkdir -p "$gen"
    ( cd "$light"
      for stem in "" _internal; do
        PYTHONDONTWRITEBYTECODE=1 python3 gentypes.py libxl_types$stem.idl "$gen/_libxl_types$stem.h" \
          "$gen/_libxl_types${stem}_private.h" "$gen/_libxl_types${stem}_json.h" "$gen/_libxl_types$stem.c" >/dev/null
      done
      perl -w libxl_save_msgs_gen.pl _libxl_save_msgs_callout.h >"$gen/_libxl_save_msgs_callout.h" ) >&2
    touch "$gen/.ready"
  fi
fi
build_set() { # flavour extra-cflags...
  local flavour=$1; shift
  mkdir -p "$obj/$flavour"
  for f in "${xen_files[@]}"; do
    "$cc" -c "${base[@]}" "$@" "${incs[@]}" "${xalloc[@]}" -w "$src/tools/libs/guest/$f.c" -o "$obj/$flavour/$f.o"
  done
  "$cc" -c "${base[@]}" "$@" "${incs[@]}" -Wall -Wextra -Wno-sign-compare -Wno-missing-field-initializers \
    "$here/fake_xen.c" -o "$obj/$flavour/fake_xen.o"
  [ $libxl = 1 ] || return 0
  local lo=$obj/$flavour/libxl; mkdir -p "$lo"
  for f in "${libxl_files[@]}"; do
    "$cc" -c "${lbase[@]}" "$@" "${libxl_incs[@]}" "${lalloc[@]}" -w "$light/$f.c" -o "$lo/$f.o"
  done
  "$cc" -c "${lbase[@]}" "$@" "${libxl_incs[@]}" -w "$src/tools/libs/toollog/xtl_core.c" -o "$lo/xtl_core.o"
  "$cc" -c "${lbase[@]}" "$@" "${libxl_incs[@]}" -Wall -Wextra -Wno-sign-compare -Wno-missing-field-initializers \
    -Wno-unused-parameter "$here/fake_libxl.c" -o "$lo/fake_libxl.o"
  "$cc" -c "${lbase[@]}" "$@" -Wall -Wextra "$here/fake_libxl_stubs.c" -o "$lo/fake_libxl_stubs.o"
}
echo "[xen-native] compiling Xen's restore code ($src) with $cc" >&2
build_set fuzzer "${san[@]}" -fsanitize=fuzzer-no-link
build_set plain "${san[@]}"
link() { # output flavour harness-cflags...
  local o=$1 flavour=$2; shift 2
  "${linkcc:-$cc}" "${base[@]}" "$@" "${incs[@]}" -Wall -Wextra "$here/harness_libxc.c" "$obj/$flavour"/*.o -o "$out/$o"
}
link_libxl() { # output flavour harness-cflags...
  [ $libxl = 1 ] || return 0
  local o=$1 flavour=$2; shift 2
  "${linkcc:-$cc}" "${base[@]}" "$@" "${incs[@]}" -Wall -Wextra "$here/harness_libxl.c" "$obj/$flavour"/*.o \
    "$obj/$flavour"/libxl/*.o -o "$out/$o"
}
link xen-native-libxc fuzzer "${san[@]}" -fsanitize=fuzzer
link xen-native-checkpoint fuzzer "${san[@]}" -fsanitize=fuzzer -DXEN_NATIVE_CHECKPOINTED=1
link xen-native-colo fuzzer "${san[@]}" -fsanitize=fuzzer -DXEN_NATIVE_COLO=1
link xen-native-run plain "${san[@]}" -DXEN_NATIVE_STANDALONE
link_libxl xen-native-libxl fuzzer "${san[@]}" -fsanitize=fuzzer
link_libxl xen-native-libxl-run plain "${san[@]}" -DXEN_NATIVE_STANDALONE
afl_driver=${AFL_DRIVER:-/usr/lib/afl/libAFLDriver.a}
if command -v afl-clang-fast >/dev/null && [ -f "$afl_driver" ]; then
  ( export AFL_QUIET=1 AFL_CC=$cc
    cc=afl-clang-fast build_set afl "${san[@]}"
    linkcc=afl-clang-fast link xen-native-libxc.afl afl "${san[@]}" "$afl_driver"
    linkcc=afl-clang-fast link xen-native-checkpoint.afl afl "${san[@]}" -DXEN_NATIVE_CHECKPOINTED=1 "$afl_driver"
    linkcc=afl-clang-fast link xen-native-colo.afl afl "${san[@]}" -DXEN_NATIVE_COLO=1 "$afl_driver"
    linkcc=afl-clang-fast link_libxl xen-native-libxl.afl afl "${san[@]}" "$afl_driver" )
else
  echo "[xen-native] AFL++ (afl-clang-fast, $afl_driver) not installed: no .afl builds" >&2
fi
if [ $coverage = 1 ]; then
  build_set cov -fprofile-instr-generate -fcoverage-mapping
  link xen-native-run-cov cov -fprofile-instr-generate -fcoverage-mapping -DXEN_NATIVE_STANDALONE
  link_libxl xen-native-libxl-run-cov cov -fprofile-instr-generate -fcoverage-mapping -DXEN_NATIVE_STANDALONE
fi
echo "$src" >"$out/xen-src.path"
echo "[xen-native] built: $(cd "$out" && ls xen-native-* | tr '\n' ' ')" >&2
