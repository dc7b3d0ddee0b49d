#!/usr/bin/env python3
"""docs/patch-authors-guide.md cannot drift from the integration suite.

Every ```diff block of the guide must be byte-identical to the fix.patch of
one folder of test/integration/patches/ (each is ctest
integration.patch.NAME, built and loaded in QEMU, or refused for -FAIL), and
every ```text block announced by `<!-- expect-refusal: NAME -->` must contain
that folder's expect-refusal text, the refusal the suite checks.

Usage: check-guide-patches.py GUIDE.md PATCHES_DIR
"""
import pathlib
import re
import sys


def fenced_blocks(text):
    """(info string, body, line number, the line before the fence) of each block."""
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\n$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        while i < len(lines) and lines[i] != "```\n":
            i += 1
        if i == len(lines):
            sys.exit(f"check-guide: error: line {start + 1}: ``` block never closed")
        before = lines[start - 1].strip() if start > 0 else ""
        yield m.group(1), "".join(lines[start + 1:i]), start + 1, before
        i += 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    guide, patches = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    text = guide.read_text()
    fixes = {d.name: (d / "fix.patch").read_text() for d in sorted(patches.iterdir())
             if (d / "fix.patch").is_file()}
    failed = 0
    diffs = 0
    for info, body, line, before in fenced_blocks(text):
        if info == "diff":
            diffs += 1
            names = [n for n, fix in fixes.items() if fix == body]
            if names:
                print(f"PASS {guide.name}:{line}: diff is patches/{names[0]}/fix.patch")
            else:
                first = body.splitlines()[0] if body else "(empty)"
                print(f"FAIL {guide.name}:{line}: diff ({first}) is not byte-identical to any "
                      f"{patches}/*/fix.patch; copy the patch file into the guide")
                failed += 1
        m = re.fullmatch(r"<!-- expect-refusal: (\S+) -->", before)
        if m:
            ref = patches / m.group(1) / "expect-refusal"
            if info != "text" or not ref.is_file():
                print(f"FAIL {guide.name}:{line}: expect-refusal {m.group(1)} needs a ```text "
                      f"block and {ref}")
                failed += 1
            elif ref.read_text().strip() not in body:
                print(f"FAIL {guide.name}:{line}: the refusal shown is not {ref}: "
                      f"{ref.read_text().strip()}")
                failed += 1
            else:
                print(f"PASS {guide.name}:{line}: refusal is patches/{m.group(1)}/expect-refusal")
    if diffs == 0:
        print(f"FAIL {guide.name}: no ```diff block found")
        failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
