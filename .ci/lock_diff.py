"""Which installed releases (`pip freeze` on stdin) differ from a lock file's pins for this
interpreter: `make test-latest` prints them before it runs the suite."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name


def locked_versions(lock_text: str) -> dict[str, str]:
    """{name: version} of a lock's pins whose markers hold for this interpreter."""
    out = {}
    for line in lock_text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+))?", line)
        if match and (match[3] is None or Marker(match[3].strip()).evaluate()):
            out[canonicalize_name(match[1])] = match[2]
    return out


def main() -> int:
    locked = locked_versions(Path(sys.argv[1]).read_text())
    changed = 0
    for line in sys.stdin:
        name, _, version = line.strip().partition("==")
        key = canonicalize_name(name)
        if version and locked.get(key) != version:
            print(f"  {name} {locked.get(key, '(not locked)')} -> {version}")
            changed += 1
    print(f"  {changed} releases differ" if changed else "  none: the lock is the newest")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
