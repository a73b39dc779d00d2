#!/usr/bin/env python3
"""Applies the planted bugs of fuzz/bench/bugs.py to a scratch copy of the tree.

  plant.py --check            every anchor matches exactly one line of src/ (nothing is written)
  plant.py DEST               copy the tree to DEST (src, fuzz, tools, props; corpus linked) and plant every bug
  plant.py --list             id, target, area, kind, what (tab-separated)

The copy builds like the original; every bug stays dormant until STREAMBENCH_PLANTED_BUG=<id> is set.
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from bugs import BUGS, P, SWITCH_CLASS  # noqa: E402


def sources(root):
    for d, dirs, files in os.walk(os.path.join(root, "src")):
        dirs[:] = [x for x in dirs if x not in ("bin", "obj")]
        for f in files:
            if f.endswith(".cs"):
                yield os.path.join(d, f)


def locate(root):
    """For every edit: (bug, edit, path, line index). Raises with every anchor that does not match exactly once."""
    texts = {p: open(p, encoding="utf-8").read().split("\n") for p in sources(root)}
    found, errors = [], []
    for bug in BUGS:
        for edit in bug["edits"]:
            anchor = edit[0].strip()
            hits = [(p, i) for p, lines in texts.items() for i, l in enumerate(lines) if l.strip() == anchor]
            if len(hits) != 1:
                errors.append(f"B{bug['id']:02}: anchor matches {len(hits)} lines (expected 1): {anchor}")
            else:
                found.append((bug, edit, hits[0][0], hits[0][1]))
    if errors:
        raise SystemExit("plant.py: " + "\n  ".join(["anchors out of date:"] + errors))
    return found, texts


def apply(root):
    found, texts = locate(root)
    # Edits per file, applied bottom-up so line indices stay valid.
    per_file = {}
    for bug, edit, path, i in found:
        per_file.setdefault(path, []).append((i, bug, edit))
    for path, edits in per_file.items():
        lines = texts[path]
        for i, bug, (anchor, where, code) in sorted(edits, key=lambda e: -e[0]):
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            code = code.replace("P.", P + ".")
            tagged = f"{indent}{code} // PLANTED B{bug['id']:02}"
            if where == "before":
                lines.insert(i, tagged)
            elif where == "after":
                lines.insert(i + 1, tagged)
            elif where == "replace":
                lines[i] = tagged
            else:
                raise SystemExit(f"B{bug['id']:02}: unknown position {where}")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    # The switch class lives next to StreamFormatException (namespace StreamBench.Formats, referenced by every project).
    home = next(p for p in sources(root) if os.path.basename(p) == "StreamFormatException.cs")
    with open(os.path.join(os.path.dirname(home), "PlantedBugs.cs"), "w", encoding="utf-8") as f:
        f.write(SWITCH_CLASS)
    return len(found)


SKIP = ("bin", "obj", ".work", "TestResults", "__pycache__")


def sync(src, dst):
    """Makes dst a copy of src (except build output), keeping dst's bin/obj so a rebuild is incremental."""
    os.makedirs(dst, exist_ok=True)
    for d, dirs, files in os.walk(dst, topdown=True):
        dirs[:] = [x for x in dirs if x not in SKIP]
        rel = os.path.relpath(d, dst)
        for f in files:
            if not os.path.exists(os.path.join(src, rel, f)):
                os.remove(os.path.join(d, f))
        for x in list(dirs):
            if not os.path.isdir(os.path.join(src, rel, x)):
                shutil.rmtree(os.path.join(d, x))
                dirs.remove(x)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*SKIP), symlinks=True, dirs_exist_ok=True, copy_function=copy_changed)


def copy_changed(src, dst):
    """Copies a file whose bytes changed, with a fresh modification time; leaves an identical one alone. (copy2 kept the
    source's time: a file edited before the copy's last build looked older than that build's output, and MSBuild's
    incremental build skipped it.)"""
    if os.path.isfile(dst) and not os.path.islink(dst) and os.path.getsize(dst) == os.path.getsize(src):
        with open(src, "rb") as a, open(dst, "rb") as b:
            if a.read() == b.read():
                return dst
    if os.path.lexists(dst):
        os.remove(dst)
    shutil.copy(src, dst)
    return dst


def copy_tree(dest):
    os.makedirs(dest, exist_ok=True)
    for name in ("src", "fuzz", "tools", "ksy", "tests"):
        if os.path.isdir(os.path.join(ROOT, name)):
            sync(os.path.join(ROOT, name), os.path.join(dest, name))
    for name in ("Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig", "NuGet.config", "nuget.config",
                 "dotnet-tools.json"):
        if os.path.isfile(os.path.join(ROOT, name)):
            shutil.copy2(os.path.join(ROOT, name), dest)
    if not os.path.lexists(os.path.join(dest, "corpus")):
        os.symlink(os.path.join(ROOT, "corpus"), os.path.join(dest, "corpus"))


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    if argv[0] == "--check":
        found, _ = locate(ROOT)
        print(f"{len(BUGS)} planted bugs, {len(found)} edits: every anchor matches exactly one line of src/")
        return 0
    if argv[0] == "--list":
        for b in BUGS:
            print(f"{b['id']}\t{b['target']}\t{b['area']}\t{b['kind']}\t{b['what']}")
        return 0
    dest = os.path.abspath(argv[0])
    copy_tree(dest)
    n = apply(dest)
    print(f"planted {len(BUGS)} bugs ({n} edits) in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
