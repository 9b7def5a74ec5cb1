"""Write ``constraints.txt``: the exact versions of everything ``biomatdb[test]`` pulls in, as installed.

Run it in the environment the suite just passed in::

    python deploy/lock.py > constraints.txt

It walks the requirement tree from the installed metadata (markers evaluated for this machine),
so the file pins the tested set and nothing else in the environment.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(root: str, extras: set[str]) -> dict[str, str]:
    """Every distribution the root needs with these extras, by canonical name, with its installed version."""
    pinned: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset(extras))]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        distribution = metadata.distribution(name)
        pinned[canonicalize_name(name)] = distribution.version
        for line in distribution.requires or ():
            requirement = Requirement(line)
            environments = [default_environment() | {"extra": e} for e in (wanted or {""})]
            if requirement.marker and not any(requirement.marker.evaluate(env) for env in environments):
                continue
            todo.append((requirement.name, frozenset(requirement.extras)))
    return pinned


def main() -> None:
    pins = closure("biomatdb", {"test"})
    del pins["biomatdb"]
    print("# pip constraints: the versions the suite last passed with (python deploy/lock.py > constraints.txt)")
    for name in sorted(pins):
        print(f"{name}=={pins[name]}")


if __name__ == "__main__":
    sys.exit(main())
