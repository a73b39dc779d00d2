#!/usr/bin/env bash
# Regenerates the C# Kaitai parsers from ksy/*.ksy into src/StreamBench.Presentation/Generated/*.g.cs.
#
#   tools/codegen/generate.sh           regenerate in place
#   tools/codegen/generate.sh --check   regenerate into a temporary directory and fail (exit 1, with a diff)
#                                       if the committed files differ; CI runs this
#
# Installs the pinned node dependencies (package-lock.json) with `npm ci` when node_modules is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
generated="$root/src/StreamBench.Presentation/Generated"

mode=generate
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "generate.sh: unknown argument '$1' (use --check or nothing)" >&2; exit 2 ;;
esac

command -v node >/dev/null || { echo "generate.sh: node is not installed" >&2; exit 2; }

if [ ! -d "$here/node_modules/kaitai-struct-compiler" ] || [ ! -d "$here/node_modules/js-yaml" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$mode" = generate ]; then
  node "$here/generate.js" --ksy "$root/ksy" --out "$generated"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node "$here/generate.js" --ksy "$root/ksy" --out "$tmp/Generated" >/dev/null
mkdir -p "$generated"
# Generated/ holds only generated files: anything else there (or missing, or different) fails the check.
if diff -ru "$generated" "$tmp/Generated" >"$tmp/diff.txt" 2>&1; then
  echo "generate.sh --check: src/StreamBench.Presentation/Generated is up to date with ksy/"
  exit 0
fi
sed "s#$tmp/Generated#(regenerated)#g" "$tmp/diff.txt"
echo "generate.sh --check: src/StreamBench.Presentation/Generated differs from what ksy/ generates; run tools/codegen/generate.sh" >&2
exit 1
