#!/usr/bin/env bash
# Installs what StreamBench needs on a fresh machine, idempotently, and says clearly what it could not do.
#   tools/setup.sh            what the CLI needs (the .NET SDK)
#   tools/setup.sh --native   plus what the NativeAOT publish of the CLI needs (clang, zlib1g-dev); tools/streambench
#                             calls it before a native build and falls back to ReadyToRun when it fails
#   tools/setup.sh --tests    plus what the tests need: node packages for code generation, Xen's Python
#                             stream tools (the oracles), afl++ for the fuzz smoke, zstd for the real corpus,
#                             chromium for the browser test of streambench report
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tests=0
native=0
[ "${1:-}" = "--tests" ] && tests=1
[ "${1:-}" = "--native" ] && native=1

die() { echo "setup: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
apt_updated=0
apt_install() { # packages...
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! have apt-get; then echo "setup: cannot install ${missing[*]}: no apt-get on this machine" >&2; return 1; fi
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $apt_updated = 0 ]; then
    echo "setup: apt-get update"; $sudo apt-get update -qq >/dev/null 2>&1 || echo "setup: apt-get update failed (continuing)" >&2
    apt_updated=1
  fi
  echo "setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { echo "setup: apt-get install ${missing[*]} failed" >&2; return 1; }
}

have dotnet || die "the .NET SDK (dotnet, version 10) is not on PATH; install it from your distribution or Microsoft's packages"
dotnet --list-sdks | grep -q '^10\.' || die "the .NET 10 SDK is required (found: $(dotnet --list-sdks | tr '\n' ' '))"

if [ $native = 1 ]; then
  { have clang && dpkg -s zlib1g-dev >/dev/null 2>&1; } || apt_install clang zlib1g-dev \
    || { echo "setup: clang and zlib1g-dev are needed for the native (NativeAOT) CLI" >&2; exit 1; }
  exit 0
fi
[ $tests = 0 ] && exit 0

have python3 || apt_install python3 || die "python3 is needed to run Xen's own stream tools (the test oracles)"
if ! have node || ! have npm; then apt_install nodejs npm || die "node and npm are needed to regenerate the Kaitai parsers"; fi
if [ -f "$root/tools/codegen/package-lock.json" ] && [ ! -d "$root/tools/codegen/node_modules" ]; then
  echo "setup: npm ci in tools/codegen"
  (cd "$root/tools/codegen" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in tools/codegen (is the npm registry reachable?)"
fi
if [ "${STREAMBENCH_SKIP_ORACLE:-0}" != 1 ] && [ -x "$root/tools/oracle/setup.sh" ]; then
  bash "$root/tools/oracle/setup.sh" >/dev/null || die "could not install Xen's verify-stream-v2 (tools/oracle/setup.sh); set STREAMBENCH_SKIP_ORACLE=1 to run without the oracle tests"
  if [ ! -f "$root/tools/oracle/READY" ]; then
    bash "$root/tools/oracle/selftest.sh" >/dev/null || die "Xen's stream tools are installed but fail their self-test (tools/oracle/selftest.sh); set STREAMBENCH_SKIP_ORACLE=1 to run without the oracle tests"
  fi
fi
if [ "${STREAMBENCH_SKIP_FUZZ:-0}" != 1 ]; then
  have afl-fuzz || apt_install afl++ || echo "setup: afl++ unavailable: the fuzz smoke will fail; set STREAMBENCH_SKIP_FUZZ=1 to skip it" >&2
fi
if [ "${STREAMBENCH_SKIP_XEN_NATIVE:-0}" != 1 ]; then
  # xen-native (fuzz/xen-native): Xen's restore code built with clang 14, ASan/UBSan and libFuzzer; dpkg-dev for
  # dpkg-source (apt-get source), python3 for Xen's header generators, libyajl-dev for libxl's headers (harness (b)).
  { have clang-14 && [ -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] && have dpkg-source && have llvm-cov-14 \
      && [ -f /usr/include/yajl/yajl_gen.h ]; } \
    || apt_install clang-14 llvm-14 libclang-rt-14-dev dpkg-dev python3 libyajl-dev \
    || echo "setup: clang-14/libclang-rt-14-dev unavailable: the xen-native harnesses cannot be built (their tests skip)" >&2
fi
have zstd || apt_install zstd || echo "setup: zstd unavailable: tests of the real-Xen corpus will fail" >&2
if [ "${STREAMBENCH_SKIP_BROWSER:-0}" != 1 ]; then
  have chromium || have chromium-browser || have google-chrome || apt_install chromium \
    || echo "setup: chromium unavailable (Debian package chromium): the browser test of streambench report will be skipped; set STREAMBENCH_SKIP_BROWSER=1 to silence this" >&2
fi
exit 0
