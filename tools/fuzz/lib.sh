# Shared helpers for the fuzzing scripts (sourced, not run): build + instrument the target hosts, seeds, stats.
# Work files live under $FUZZ_WORK (default fuzz/.work, git-ignored).

fz_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fz_work=${FUZZ_WORK:-$fz_root/fuzz/.work}
fz_config=${FUZZ_CONFIGURATION:-Release}
fz_build_dir=$fz_work/build
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fz_say() { echo "[fuzz] $*" >&2; }
fz_die() { echo "[fuzz] ERROR: $*" >&2; exit 2; }

fz_need_afl() {
  if command -v afl-fuzz >/dev/null; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    fz_say "installing afl++ (Debian package)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++; } >/dev/null 2>&1 \
      || fz_die "could not install afl++"
  else
    fz_die "afl-fuzz not found: install AFL++ (Debian/Ubuntu: apt-get install afl++)"
  fi
}

# Builds one project into a folder, retrying: other engineers' builds in the same tree can hold obj/ for a moment.
fz_dotnet_build() { # project outdir log
  local attempt
  for attempt in 1 2 3 4; do
    # shellcheck disable=SC2086 # FUZZ_BUILD_ARGS: extra MSBuild arguments (the planted-bug tree turns warnings-as-errors off)
    if nice -n "${FUZZ_BUILD_NICE:-5}" dotnet build "$1" -c "$fz_config" -v q -nologo -o "$2" ${FUZZ_BUILD_ARGS:-} >"$3" 2>&1; then
      return 0
    fi
    [ "$attempt" = 4 ] && { tail -n 30 "$3" >&2; return 1; }
    fz_say "build of $(basename "$1") failed (attempt $attempt), retrying in 20 s"
    sleep 20
  done
}

# The hosts: the formats host always; the engine host (restore-engine) when its project builds.
fz_build() {
  mkdir -p "$fz_build_dir"
  fz_say "building the target hosts and the instrumenter ($fz_config)"
  fz_dotnet_build "$fz_root/fuzz/StreamBench.Fuzz.Instrument/StreamBench.Fuzz.Instrument.csproj" "$fz_build_dir/instrument" "$fz_build_dir/instrument.log" \
    || fz_die "could not build the instrumenter (see $fz_build_dir/instrument.log)"
  fz_dotnet_build "$fz_root/fuzz/StreamBench.Fuzz.Targets/StreamBench.Fuzz.Targets.csproj" "$fz_build_dir/host" "$fz_build_dir/host.log" \
    || fz_die "could not build fuzz/StreamBench.Fuzz.Targets (see $fz_build_dir/host.log)"
  if [ -f "$fz_root/fuzz/StreamBench.Fuzz.Targets.Engine/StreamBench.Fuzz.Targets.Engine.csproj" ]; then
    if ! fz_dotnet_build "$fz_root/fuzz/StreamBench.Fuzz.Targets.Engine/StreamBench.Fuzz.Targets.Engine.csproj" "$fz_build_dir/host-engine" "$fz_build_dir/host-engine.log"; then
      fz_say "warning: the engine host does not build (restore-engine unavailable); see $fz_build_dir/host-engine.log"
      rm -rf "$fz_build_dir/host-engine"
    fi
  fi
  # Every target on SharpFuzz's runtime (campaign.sh --sharpfuzz, ClusterFuzzLite), when SharpFuzz restores.
  if [ -f "$fz_root/fuzz/StreamBench.Fuzz.Targets.SharpFuzz/StreamBench.Fuzz.Targets.SharpFuzz.csproj" ]; then
    if ! fz_dotnet_build "$fz_root/fuzz/StreamBench.Fuzz.Targets.SharpFuzz/StreamBench.Fuzz.Targets.SharpFuzz.csproj" "$fz_build_dir/host-sharpfuzz" "$fz_build_dir/host-sharpfuzz.log"; then
      fz_say "warning: the SharpFuzz host does not build (--sharpfuzz unavailable); see $fz_build_dir/host-sharpfuzz.log"
      rm -rf "$fz_build_dir/host-sharpfuzz"
    fi
  fi
  # The stamp is the build's content (builds are deterministic): an unchanged build keeps its instrumented copies and seeds.
  cat "$fz_build_dir"/host*/StreamBench.*.dll "$fz_root/fuzz/mutators/xen_mutator.py" 2>/dev/null | md5sum | cut -d' ' -f1 >"$fz_build_dir/stamp"
}

fz_dotnet() { command -v dotnet; }

# Prints the host folder that has TARGET (engine host first: it has every target).
fz_host_of() { # target
  local h
  for h in host-engine host; do
    [ -f "$fz_build_dir/$h/StreamBench.Fuzz.Targets.dll" ] || continue
    local dll="$fz_build_dir/$h/$(fz_host_dll "$h")"
    if "$(fz_dotnet)" "$dll" --list 2>/dev/null | cut -f1 | grep -qx "$1"; then echo "$h"; return 0; fi
  done
  return 1
}

fz_host_dll() {
  case "$1" in
    host-engine) echo StreamBench.Fuzz.Targets.Engine.dll ;;
    host-sharpfuzz) echo StreamBench.Fuzz.Targets.SharpFuzz.dll ;;
    *) echo StreamBench.Fuzz.Targets.dll ;;
  esac
}

# The --list line of TARGET: name, assemblies, includes, seeds, dictionaries, mode, description.
fz_target_line() { # target
  local h; h=$(fz_host_of "$1") || return 1
  "$(fz_dotnet)" "$fz_build_dir/$h/$(fz_host_dll "$h")" --list | awk -F'\t' -v t="$1" '$1 == t'
}

fz_targets() { # every target name
  local h=host; [ -d "$fz_build_dir/host-engine" ] && h=host-engine
  "$(fz_dotnet)" "$fz_build_dir/$h/$(fz_host_dll "$h")" --list | cut -f1
}

# Copies the build and instruments the target's code into $fz_work/targets/TARGET/bin (skipped when up to date), and
# writes the constants that code compares against as an AFL dictionary, $fz_work/targets/TARGET/cmp.dict. With a
# second argument "cmp": comparison feedback too (instrumenter --cmp), in $fz_work/targets/TARGET-cmp; "sharpfuzz": the
# SharpFuzz host instrumented by SharpFuzz's own tool (dotnet sharpfuzz, the local tool of dotnet-tools.json), in
# $fz_work/targets/TARGET-sharpfuzz.
fz_prepare() { # target [cmp]
  local t=$1 variant=${2:-} line h dir asm inc a i args=()
  line=$(fz_target_line "$t") || fz_die "unknown target '$t' (targets: $(fz_targets | tr '\n' ' '))"
  h=$(fz_host_of "$t")
  if [ "$variant" = sharpfuzz ]; then
    [ -d "$fz_build_dir/host-sharpfuzz" ] || fz_die "the SharpFuzz host was not built"
    h=host-sharpfuzz
  fi
  dir=$fz_work/targets/$t${variant:+-$variant}
  if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$(cat "$fz_build_dir/stamp")" ]; then
    echo "$dir/bin/$(fz_host_dll "$h")"; return 0
  fi
  rm -rf "$dir/bin"; mkdir -p "$dir"
  cp -r "$fz_build_dir/$h" "$dir/bin"
  asm=$(cut -f2 <<<"$line"); inc=$(cut -f3 <<<"$line")
  IFS=, read -ra a <<<"$inc"; for i in "${a[@]}"; do args+=(--include "$i"); done
  [ "$variant" = cmp ] && args+=(--cmp)
  local files=(); IFS=, read -ra a <<<"$asm"; for i in "${a[@]}"; do files+=("$dir/bin/$i"); done
  if [ "$variant" = sharpfuzz ]; then
    local f prefixes=(); IFS=, read -ra prefixes <<<"$inc"
    : >"$dir/instrument.log"
    for f in "${files[@]}"; do
      (cd "$fz_root" && dotnet tool run sharpfuzz "$f" "${prefixes[@]}") >>"$dir/instrument.log" 2>&1 \
        || { cat "$dir/instrument.log" >&2; fz_die "sharpfuzz could not instrument $f (dotnet tool restore?)"; }
    done
    cp "$fz_build_dir/stamp" "$dir/stamp"
    echo "$dir/bin/$(fz_host_dll "$h")"
    return 0
  fi
  "$(fz_dotnet)" "$fz_build_dir/instrument/StreamBench.Fuzz.Instrument.dll" "${args[@]}" --dict "$dir/cmp.dict" --allow-empty "${files[@]}" >"$dir/instrument.log" 2>&1 \
    || { cat "$dir/instrument.log" >&2; fz_die "instrumenting $t failed"; }
  cp "$fz_build_dir/stamp" "$dir/stamp"
  echo "$dir/bin/$(fz_host_dll "$h")"
}

# Seed corpora (small synthetic streams + corpus/ made small) into $fz_work/seeds/FAMILY.
fz_seeds() {
  local stamp=$fz_work/seeds/.stamp
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat "$fz_build_dir/stamp")" ]; then return 0; fi
  rm -rf "$fz_work/seeds"; mkdir -p "$fz_work/seeds"
  # The real captures (corpus/real/*.zst), decompressed once; Seeds.Compact makes them small.
  local z real=${FUZZ_CORPUS_CACHE:-$fz_root/fuzz/.work/corpus-real}
  if command -v zstd >/dev/null; then
    mkdir -p "$real"
    for z in "$fz_root"/corpus/real/*.zst; do
      [ -f "$z" ] || continue
      local o=$real/$(basename "$z" .zst)
      [ -f "$o" ] && [ "$(cat "$o.src" 2>/dev/null)" = "$(stat -c '%s %Y' "$z")" ] && continue
      if zstd -d -q -f "$z" -o "$o"; then stat -c '%s %Y' "$z" >"$o.src"; else rm -f "$o"; fi
    done
  fi
  local h=host; [ -d "$fz_build_dir/host-engine" ] && h=host-engine
  "$(fz_dotnet)" "$fz_build_dir/$h/$(fz_host_dll "$h")" --make-seeds "$fz_work/seeds" --corpus "$fz_root/corpus" --corpus "$real" 2>"$fz_work/seeds/make.log" \
    || { cat "$fz_work/seeds/make.log" >&2; fz_die "seed generation failed"; }
  cp "$fz_build_dir/stamp" "$stamp"
}

# One fuzzer_stats value.
fz_stat() { awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }

# Whether afl-fuzz's Python custom mutators work here (AFL++ built with Python).
fz_python_mutator_ok() { local h; h=$(afl-fuzz -h 2>&1 || true); grep -q 'Python .* module support' <<<"$h"; }
