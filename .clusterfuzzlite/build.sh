#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script (docs/FUZZING.md, "ClusterFuzzLite"). Builds every fuzz target into $OUT, for
# the engine in $FUZZING_ENGINE (libfuzzer, the default, or afl):
#   - the .NET targets (FUZZ_TARGET names of the engine host fuzz/StreamBench.Fuzz.Targets.Engine: the formats targets,
#     restore-engine, the COLO and post-copy sides, capture) on SharpFuzz's runtime, each instrumented by `dotnet
#     sharpfuzz` (its own --include prefixes); the host and a copy of the .NET runtime live in $OUT/dotnet/, and
#     $OUT/NAME starts one target:
#       libfuzzer: a small script running the libFuzzer driver fuzz/libfuzzer-dotnet ($OUT/dotnet/libfuzzer-dotnet)
#                  on the host in libFuzzer mode (it carries the LLVMFuzzerTestOneInput marker CFL looks for);
#       afl:       a small native launcher (fuzz/afl-dotnet) that execs the host, which speaks AFL++'s fork-server
#                  protocol itself (SharpFuzz's OutOfProcess.Run); it carries CFL's marker and afl-fuzz's
#                  __AFL_SHM_ID, so afl-fuzz runs it without AFL_SKIP_BIN_CHECK;
#   - Xen's own restore code (fuzz/xen-native/build.sh): $OUT/xen-native-libxc, $OUT/xen-native-checkpoint,
#     $OUT/xen-native-libxl (libxl's stream reader), with
#     ASan + UBSan and libFuzzer, or (afl) afl-clang-fast and AFL++'s libAFLDriver.
# Beside each target: NAME_seed_corpus.zip and NAME.dict. Work files go to $WORK.
# Outside Docker: tools/fuzz/cfl-smoke.sh sets SRC, OUT and WORK. STREAMBENCH_SRC is the checkout (default
# $SRC/streambench, where the Dockerfile copies it); CFL_TARGETS="a b" builds only those targets.
root=${STREAMBENCH_SRC:-$SRC/streambench}
engine=${FUZZING_ENGINE:-libfuzzer}
case "$engine" in
  libfuzzer|afl) ;;
  *) echo "build.sh: FUZZING_ENGINE=$engine is not supported (libfuzzer or afl)" >&2; exit 1 ;;
esac
mkdir -p "$OUT" "$WORK"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
want() { [ -z "${CFL_TARGETS:-}" ] || [[ " $CFL_TARGETS " == *" $1 "* ]]; }
dicts() { # comma-separated dictionary names -> one libFuzzer dictionary on stdout
  local d
  IFS=, read -ra ds <<<"$1"
  for d in "${ds[@]}"; do [ -f "$root/fuzz/dictionaries/$d.dict" ] && cat "$root/fuzz/dictionaries/$d.dict"; done
  return 0
}
seed_zip() { # folder zip
  rm -f "$2"
  (cd "$1" && find . -maxdepth 1 -type f ! -name '.*' -print0 | xargs -0 -r zip -q -j "$2")
}

# 1. The libFuzzer driver for the .NET targets (libfuzzer), or a C compiler for their AFL++ launchers (afl).
mkdir -p "$OUT/dotnet"
if [ "$engine" = libfuzzer ]; then
  "$root/fuzz/libfuzzer-dotnet/build.sh" "$OUT/dotnet/libfuzzer-dotnet" >/dev/null
else
  launcher_cc=
  for c in clang clang-14 gcc cc; do command -v $c >/dev/null && { launcher_cc=$c; break; }; done
  [ -n "$launcher_cc" ] || { echo "build.sh: no C compiler for the AFL++ launchers" >&2; exit 1; }
fi

# 2. The .NET host on SharpFuzz (one build, with every target of the engine host), its targets and seeds, and the .NET runtime (the runner image has none).
host=$WORK/dotnet-host
dotnet build "$root/fuzz/StreamBench.Fuzz.Targets.SharpFuzz/StreamBench.Fuzz.Targets.SharpFuzz.csproj" -c Release \
  -v q -nologo -o "$host" >"$WORK/dotnet-host.log" 2>&1 || { tail -n 30 "$WORK/dotnet-host.log" >&2; exit 1; }
(cd "$root" && dotnet tool restore >/dev/null)
rm -rf "$WORK/seeds"
dotnet "$host/StreamBench.Fuzz.Targets.Engine.dll" --make-seeds "$WORK/seeds" --corpus "$root/corpus" 2>"$WORK/seeds.log" \
  || { cat "$WORK/seeds.log" >&2; exit 1; }
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
rm -rf "$OUT/dotnet/runtime"; mkdir -p "$OUT/dotnet/runtime/shared"
cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$OUT/dotnet/runtime/"
cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$OUT/dotnet/runtime/shared/"
dll=StreamBench.Fuzz.Targets.SharpFuzz.dll
dotnet "$host/StreamBench.Fuzz.Targets.Engine.dll" --list >"$WORK/targets.tsv"
declare -A instrumented=()   # assemblies + include prefixes -> the copy instrumented that way (targets share copies)
while IFS=$'\t' read -r name assemblies includes family dictionaries _; do
  want "$name" || continue
  key="$assemblies|$includes"
  copy=${instrumented[$key]:-}
  if [ -z "$copy" ]; then
    copy=$name; bin=$OUT/dotnet/$name
    rm -rf "$bin" "$WORK/$name.instrument.log"; cp -a "$host" "$bin"
    IFS=, read -ra prefixes <<<"$includes"
    IFS=, read -ra files <<<"$assemblies"
    for f in "${files[@]}"; do
      (cd "$root" && dotnet tool run sharpfuzz "$bin/$f" "${prefixes[@]}") >>"$WORK/$name.instrument.log" 2>&1 \
        || { cat "$WORK/$name.instrument.log" >&2; exit 1; }
    done
    instrumented[$key]=$copy
  fi
  if [ "$engine" = libfuzzer ]; then
    cat >"$OUT/$name" <<EOS
#!/bin/sh
# LLVMFuzzerTestOneInput: the .NET fuzz target $name (SharpFuzz, libFuzzer mode) through fuzz/libfuzzer-dotnet.
here=\$(dirname "\$(readlink -f "\$0")")
export DOTNET_ROOT="\$here/dotnet/runtime" FUZZ_TARGET=$name FUZZ_LIBFUZZER=1
exec "\$here/dotnet/libfuzzer-dotnet" --target_path="\$here/dotnet/runtime/dotnet" --target_arg="\$here/dotnet/$copy/$dll" "\$@"
EOS
    chmod +x "$OUT/$name"
  else
    "$launcher_cc" -O2 -Wall -Wextra -Werror -DSB_TARGET="\"$name\"" -DSB_COPY="\"$copy\"" \
      "$root/fuzz/afl-dotnet/afl-dotnet.c" -o "$OUT/$name"
  fi
  seed_zip "$WORK/seeds/$family" "$OUT/${name}_seed_corpus.zip"
  dicts "$dictionaries" >"$OUT/$name.dict"
  echo "build.sh: $name (.NET, $engine, instrumented copy dotnet/$copy, seeds $family: $(ls "$WORK/seeds/$family" | wc -l) files, dictionaries $dictionaries)" >&2
done <"$WORK/targets.tsv"

# 3. Xen's restore code, ASan + UBSan + libFuzzer, or AFL++ (exit 3: Debian's Xen source could not be fetched).
xn=$WORK/xen-native
set +e
if [ "$engine" = libfuzzer ]; then
  # AFL_DRIVER: no AFL++ flavour here.
  XEN_NATIVE_CC=${CC:-} AFL_DRIVER=/nonexistent XEN_NATIVE_BIN=$xn/bin XEN_NATIVE_WORK=$xn "$root/fuzz/xen-native/build.sh" --out "$xn/bin" >"$WORK/xen-native.log" 2>&1
else
  # The .afl flavour: afl-clang-fast and AFL++'s libAFLDriver (the libFuzzer flavour is built too, with clang).
  env -u CC -u CXX -u CFLAGS -u CXXFLAGS XEN_NATIVE_BIN=$xn/bin XEN_NATIVE_WORK=$xn "$root/fuzz/xen-native/build.sh" --out "$xn/bin" >"$WORK/xen-native.log" 2>&1
fi
rc=$?
set -e
if [ $rc = 3 ] && [ -n "${CFL_ALLOW_NO_XEN:-}" ]; then
  echo "build.sh: SKIP xen-native: Debian's Xen source could not be fetched (CFL_ALLOW_NO_XEN set)" >&2
elif [ $rc != 0 ]; then
  tail -n 30 "$WORK/xen-native.log" >&2; exit 1
else
  suffix=; [ "$engine" = afl ] && suffix=.afl
  for name in $(bash "$root/fuzz/xen-native/run.sh" --list); do
    want "$name" || continue
    if [ ! -f "$xn/bin/$name$suffix" ]; then
      echo "build.sh: xen-native did not build $name$suffix (for afl: is AFL++ installed, afl-clang-fast and libAFLDriver.a?)" >&2
      exit 1
    fi
    cp "$xn/bin/$name$suffix" "$OUT/$name"
    seeds=$(XEN_NATIVE_BIN=$xn/bin XEN_NATIVE_WORK=$xn bash "$root/fuzz/xen-native/run.sh" --seeds "$name")
    seed_zip "$seeds" "$OUT/${name}_seed_corpus.zip"
    cp "$root/fuzz/dictionaries/xen.dict" "$OUT/$name.dict"
    echo "build.sh: $name (Xen's C restore code, $engine, seeds: $(ls "$seeds" | wc -l) files)" >&2
  done
fi
