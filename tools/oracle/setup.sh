#!/usr/bin/env bash
# tools/oracle/setup.sh - install Xen's own Python stream tools (verify-stream-v2,
# convert-legacy-stream) as test oracles into a git-ignored cache inside the repo.
#
# Idempotent: a second run only prints the environment.  Nothing is installed into the
# system: the Debian package xen-utils-4.17 is fetched with `apt-get download` and unpacked
# with `dpkg -x` into $XEN_ORACLE_CACHE (default: <repo>/.cache/xen-oracle).
#
# Output (stdout, also written to $XEN_ORACLE_CACHE/env, shell-sourceable):
#   XEN_ORACLE_PYTHONPATH=...      the PYTHONPATH for the xen.migration package
#   XEN_ORACLE_VERIFY=...          path of verify-stream-v2
#   XEN_ORACLE_CONVERT=...         path of convert-legacy-stream
#   XEN_ORACLE_VERSION=...         Debian version of xen-utils-4.17 that was unpacked
#   XEN_ORACLE_PYTHON=...          python3 interpreter to run them with
#
# Options:  -q  print nothing on success     --force  re-download and re-extract
# Env:      XEN_ORACLE_CACHE   cache folder
#           XEN_ORACLE_DEB     use this already-downloaded xen-utils-4.17 .deb (offline)
#           XEN_ORACLE_PYTHON  python3 to use (default: python3 on PATH)
# Exit codes: 0 ok, 2 no apt-get/dpkg, 3 download failed, 4 unpack/layout problem, 5 no python3
set -euo pipefail

PKG=xen-utils-4.17
XENVER=4.17
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
CACHE=${XEN_ORACLE_CACHE:-$repo/.cache/xen-oracle}
quiet=0; force=0
for a in "$@"; do
  case "$a" in
    -q|--quiet) quiet=1 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "oracle setup: unknown option '$a'" >&2; exit 64 ;;
  esac
done

err() { echo "oracle setup: ERROR: $*" >&2; }
say() { [ "$quiet" = 1 ] || echo "$@"; }

ROOTDIR=$CACHE/root
PYP=$ROOTDIR/usr/lib/xen-$XENVER/lib/python
VERIFY=$ROOTDIR/usr/lib/xen-$XENVER/bin/verify-stream-v2
CONVERT=$ROOTDIR/usr/lib/xen-$XENVER/bin/convert-legacy-stream
ENVFILE=$CACHE/env

PY=${XEN_ORACLE_PYTHON:-$(command -v python3 || true)}
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info[0]==3 else 1)' 2>/dev/null; then
  err "no usable python3 found (set XEN_ORACLE_PYTHON); the Xen stream tools are Python 3 scripts"
  exit 5
fi
PY=$("$PY" -c 'import sys; print(sys.executable)')   # resolve pyenv-style shims

ready() { [ -f "$ENVFILE" ] && [ -f "$VERIFY" ] && [ -f "$CONVERT" ] && [ -f "$PYP/xen/migration/libxc.py" ]; }

emit() {
  ver=$(cat "$CACHE/version" 2>/dev/null || echo unknown)
  {
    echo "XEN_ORACLE_PYTHONPATH=$PYP"
    echo "XEN_ORACLE_VERIFY=$VERIFY"
    echo "XEN_ORACLE_CONVERT=$CONVERT"
    echo "XEN_ORACLE_VERSION=$ver"
    echo "XEN_ORACLE_PYTHON=$PY"
  } > "$ENVFILE.tmp"
  mv -f "$ENVFILE.tmp" "$ENVFILE"
  [ "$quiet" = 1 ] || cat "$ENVFILE"
}

mkdir -p "$CACHE"
# Serialise concurrent runs (tests in parallel, wrappers called at the same time).
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null; then flock -w 600 9 || { err "timed out waiting for $CACHE/.lock"; exit 4; }; fi

if [ "$force" = 0 ] && ready; then emit; exit 0; fi

if ! command -v dpkg-deb >/dev/null && ! command -v dpkg >/dev/null; then
  err "dpkg is not available on this machine; cannot unpack $PKG (need a Debian/Ubuntu host)"; exit 2
fi

debdir=$CACHE/debs
mkdir -p "$debdir"
deb=""
if [ -n "${XEN_ORACLE_DEB:-}" ]; then
  [ -f "$XEN_ORACLE_DEB" ] || { err "XEN_ORACLE_DEB=$XEN_ORACLE_DEB does not exist"; exit 3; }
  deb=$XEN_ORACLE_DEB
else
  if ! command -v apt-get >/dev/null; then
    err "apt-get is not available; cannot download $PKG. Download it elsewhere and set XEN_ORACLE_DEB=/path/to/${PKG}_*.deb"
    exit 2
  fi
  dl() { (cd "$debdir" && rm -f ./${PKG}_*.deb && apt-get download "$PKG" >"$debdir/download.log" 2>&1); }
  if ! dl; then
    say "oracle setup: 'apt-get download $PKG' failed; running 'apt-get update' and retrying" >&2
    # another apt-get may hold the lists lock: wait for it a while
    ok=0
    for i in $(seq 1 60); do
      if apt-get update >"$debdir/update.log" 2>&1; then ok=1; break; fi
      grep -q 'Could not get lock' "$debdir/update.log" || break
      sleep 5
    done
    [ "$ok" = 1 ] || { err "apt-get update failed:"; tail -5 "$debdir/update.log" >&2; }
    if ! dl; then
      err "'apt-get download $PKG' failed (is the Debian bookworm archive reachable?):"
      tail -5 "$debdir/download.log" >&2
      exit 3
    fi
  fi
  deb=$(ls -1 "$debdir"/${PKG}_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { err "apt-get download reported success but no ${PKG}_*.deb in $debdir"; exit 3; }
fi

tmp=$(mktemp -d "$CACHE/.extract.XXXXXX")
if ! dpkg-deb -x "$deb" "$tmp" 2>"$CACHE/extract.log" && ! dpkg -x "$deb" "$tmp" 2>>"$CACHE/extract.log"; then
  err "could not unpack $deb:"; cat "$CACHE/extract.log" >&2; rm -rf "$tmp"; exit 4
fi
for f in usr/lib/xen-$XENVER/bin/verify-stream-v2 usr/lib/xen-$XENVER/bin/convert-legacy-stream \
         usr/lib/xen-$XENVER/lib/python/xen/migration/libxc.py; do
  [ -f "$tmp/$f" ] || { err "$deb does not contain $f (unexpected package layout)"; rm -rf "$tmp"; exit 4; }
done
rm -rf "$ROOTDIR"
mv "$tmp" "$ROOTDIR"
dpkg-deb -f "$deb" Version > "$CACHE/version" 2>/dev/null || basename "$deb" > "$CACHE/version"
emit
