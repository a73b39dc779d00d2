#!/usr/bin/env bash
# tools/oracle/selftest.sh - check that the oracle wrappers work: build tiny hand-made streams
# and run Xen's verify-stream-v2 / convert-legacy-stream on them.  Exit 0 when every check
# gives the expected result.  On success it writes tools/oracle/READY.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/setup.sh" -q || { echo "selftest: setup failed" >&2; exit 1; }
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
python3 "$here/make-tiny-stream.py" "$d" >/dev/null || exit 1
pass=0; fail=0
check() {  # expected_rc description command...
  local want=$1 desc=$2; shift 2
  "$@" >"$d/out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ]; then pass=$((pass+1)); echo "ok   $desc (rc=$rc)"
  else fail=$((fail+1)); echo "FAIL $desc (rc=$rc, wanted $want)"; sed 's/^/     /' "$d/out"; fi
}
V=$here/verify-stream-v2; C=$here/convert-legacy-stream
check 0 "verify libxc v3 HVM"            "$V" -i "$d/tiny-hvm.libxc" -f libxc -v
check 0 "verify libxl-wrapped"           "$V" -i "$d/tiny-hvm.libxl" -f libxl
check 0 "verify xl save file"            "$V" -i "$d/tiny-hvm.xl" -f xl
check 1 "verify rejects truncated"       "$V" -i "$d/tiny-hvm.truncated" -f libxc
check 0 "convert legacy HVM -> libxc"    "$C" -i "$d/tiny-hvm.legacy64" -o "$d/conv.libxc" -w 64 -g hvm --skip-qemu
check 0 "verify converted stream"        "$V" -i "$d/conv.libxc" -f libxc
echo "$pass passed, $fail failed"
if [ "$fail" = 0 ]; then
  . "${XEN_ORACLE_CACHE:-$here/../../.cache/xen-oracle}/env"
  { echo "xen oracle ready: $(date -u +%FT%TZ)"; echo "xen-utils-4.17 $XEN_ORACLE_VERSION"
    echo "wrappers: tools/oracle/verify-stream-v2 tools/oracle/convert-legacy-stream"
    echo "selftest: tools/oracle/selftest.sh -> $pass passed, 0 failed"; } > "$here/READY"
  exit 0
fi
exit 1
