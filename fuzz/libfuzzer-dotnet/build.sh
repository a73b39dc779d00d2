#!/usr/bin/env bash
# Builds the libFuzzer driver for the .NET targets (fuzz/libfuzzer-dotnet/libfuzzer-dotnet.c) with Debian's clang.
#   fuzz/libfuzzer-dotnet/build.sh [OUTPUT]      default .cache/libfuzzer-dotnet/libfuzzer-dotnet
# CC overrides the compiler (ClusterFuzzLite sets it; its CFLAGS are not used: the driver needs only -fsanitize=fuzzer).
# Exit 4: no clang.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../../.cache/libfuzzer-dotnet/libfuzzer-dotnet}
cc=${CC:-}
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null || [[ "$cc" != *clang* ]]; then
  cc=
  for c in clang clang-14; do command -v $c >/dev/null && { cc=$c; break; }; done
fi
[ -n "$cc" ] || { echo "[libfuzzer-dotnet] clang not found (Debian: apt-get install clang-14)" >&2; exit 4; }
mkdir -p "$(dirname "$out")"
"$cc" -O2 -g -Wall -Wextra -Werror -fsanitize=fuzzer "$here/libfuzzer-dotnet.c" -o "$out"
echo "$out"
