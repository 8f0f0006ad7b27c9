#!/usr/bin/env python3
"""docs/RELIABILITY.md, generated from the fragments docs/reliability/*.json.

    scripts/reliability.py           rewrites docs/RELIABILITY.md
    scripts/reliability.py --check   exits 1 when docs/RELIABILITY.md is not
                                     what the fragments give (ctest runs it)

Each fragment is one section of the page, written by the check that measured
it (scripts/soak.py --record, IBS_RECORD=1 tests/integration/test_adversity.py,
the fuzzing and sanitizer runs):

    {"section": "Soak and churn", "order": 3, "command": "...",
     "date": "2026-11-25T22:10:00Z", "machine": "2 cores, <CPU model>",
     "summary": "one sentence", "columns": ["..."], "rows": [["..."]],
     "notes": ["..."]}

Sections are sorted by "order" (then by section name). As a module it gives
the recorders what they share: machine(), utc_now(), write_fragment().
"""
import argparse
import datetime
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAGMENT_DIR = os.path.join(ROOT, "docs", "reliability")
PAGE = os.path.join(ROOT, "docs", "RELIABILITY.md")

FIELDS = {"section": str, "order": (int, float), "command": str, "date": str, "machine": str,
          "summary": str, "columns": list, "rows": list, "notes": list}

INTRO = """\
# Reliability

What ib-stream was put through to find out whether it stays up, stays
correct and stays within its memory: each section below is one kind of
check, with the command that ran it, when, on what machine, and what it
measured. The numbers are recorded by the checks themselves; this page is
generated from them by `scripts/reliability.py` (never edit it by hand).

To run the checks again and regenerate this page (from the repository root,
after `scripts/build.sh`):

```sh
/usr/bin/python3 scripts/soak.py --seconds 600 --clients 200 --record
(cd tests/integration && IBS_RECORD=1 IBS_BIN_DIR=../../build /usr/bin/python3 -m unittest -v test_adversity)
/usr/bin/python3 scripts/reliability.py          # rewrites docs/RELIABILITY.md
/usr/bin/python3 scripts/reliability.py --check  # exit 1 when this page is out of date
```

The fragments are `docs/reliability/*.json`, one per section; the command of
each section is the one that wrote it.
"""


def machine():
    """'2 cores, <CPU model>' of this machine."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            found = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
        if found:
            model = found.group(1).strip()
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def problems_of(fragment):
    """What is wrong with a fragment (empty when it is well-formed)."""
    out = [f"{k}: missing or not {t}" for k, t in FIELDS.items()
           if not isinstance(fragment.get(k), t)]
    if out:
        return out
    width = len(fragment["columns"])
    out += [f"row {i}: {len(r)} cells for {width} columns"
            for i, r in enumerate(fragment["rows"]) if not isinstance(r, list) or len(r) != width]
    return out


def write_fragment(name, fragment):
    """Writes docs/reliability/NAME.json (after checking its shape); returns its path."""
    problems = problems_of(fragment)
    if problems:
        raise ValueError(f"fragment {name}: " + "; ".join(problems))
    os.makedirs(FRAGMENT_DIR, exist_ok=True)
    path = os.path.join(FRAGMENT_DIR, name + ".json")
    with open(path, "w") as f:
        json.dump(fragment, f, indent=2)
        f.write("\n")
    return path


def load_fragments(directory=FRAGMENT_DIR):
    fragments = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path) as f:
            fragment = json.load(f)
        problems = problems_of(fragment)
        if problems:
            raise ValueError(f"{os.path.relpath(path, ROOT)}: " + "; ".join(problems))
        fragments.append(fragment)
    return sorted(fragments, key=lambda fr: (fr["order"], fr["section"]))


def cell(value):
    """A value as one Markdown table cell."""
    return " ".join(str(value).split()).replace("|", "\\|") or "-"


def render(fragments):
    lines = [INTRO]
    for fr in fragments:
        lines += [f"## {fr['section']}", "", fr["summary"], "",
                  f"- command: `{fr['command']}`", f"- date: {fr['date']}",
                  f"- machine: {fr['machine']}", ""]
        lines.append("| " + " | ".join(cell(c) for c in fr["columns"]) + " |")
        lines.append("|" + "---|" * len(fr["columns"]))
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in fr["rows"]]
        lines.append("")
        if fr["notes"]:
            lines += ["Notes:", ""] + [f"- {' '.join(str(n).split())}" for n in fr["notes"]]
            lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="Generates docs/RELIABILITY.md from "
                                             "docs/reliability/*.json.")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when docs/RELIABILITY.md is not up to date")
    args = ap.parse_args()
    try:
        page = render(load_fragments())
    except (OSError, ValueError) as e:
        print(f"reliability: {e}", file=sys.stderr)
        return 1
    if args.check:
        try:
            with open(PAGE) as f:
                current = f.read()
        except OSError:
            current = None
        if current != page:
            print("reliability: docs/RELIABILITY.md is out of date with docs/reliability/*.json; "
                  "run /usr/bin/python3 scripts/reliability.py", file=sys.stderr)
            return 1
        print("reliability: docs/RELIABILITY.md is up to date")
        return 0
    with open(PAGE, "w") as f:
        f.write(page)
    print(f"reliability: wrote {os.path.relpath(PAGE, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
