#!/usr/bin/env python3
"""Checks that every relative link and #anchor in README.md (and the other *.md at the root), docs/*.md,
crates/*/README.md and examples/**/README.md resolves.

A link is `[text](target)` outside code; http(s) and mailto targets are not fetched. A target must be a file
or folder of the repository, and an anchor a heading of the target Markdown file, as GitHub makes its id
(lowercase, punctuation dropped, spaces to hyphens, `-1`, `-2` for repeats). Prints every broken link with
its file and line, and exits 1 if there is any.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def outside_code(path):
    """(line number, text) of the lines outside fenced code blocks, inline code spans removed."""
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def slug(heading):
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen, found = {}, set()
        for _, line in outside_code(path):
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def check(path):
    broken = []
    for number, line in outside_code(path):
        for m in LINK.finditer(CODE_SPAN.sub("", line)):
            target = m.group(1)
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT)}:{number}: {target}"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{where}: no heading #{anchor} in {dest.relative_to(ROOT)}")
            elif anchor and dest.suffix != ".md":
                broken.append(f"{where}: an anchor into a file that is not Markdown")
    return broken


def main():
    files = [*sorted(ROOT.glob("*.md")), *sorted(ROOT.glob("docs/*.md")), *sorted(ROOT.glob("crates/*/README.md")),
             *sorted(ROOT.glob("examples/**/README.md"))]
    broken = [b for f in files if f.exists() for b in check(f)]
    for b in broken:
        print(b)
    print(f"{len(files)} files checked, {len(broken)} broken links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
