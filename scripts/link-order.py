"""Merges callgrind profiles into a linker symbol-ordering file (scripts/link-order, ADR 0015).

usage: link-order.py BINARY PROFILE... > api/link-order.txt

Prints the (mangled) name of every function of BINARY that ran in any of the profiles, one
per line: the functions of the first profile, by the instructions they ran, most first; then
those of the second that are not listed yet, and so on. Code that runs together ends up on the
same pages. Functions of shared libraries are left out: the linker orders only the binary's.
"""

import os
import re
import sys
from collections import Counter

# callgrind's compressed names: "fn=(12) name" defines id 12, "fn=(12)" refers to it.
NAMED = re.compile(r"\((\d+)\)(?: (.*))?$")


def self_costs(path, binary):
    """{function name: instructions it ran itself} for the functions of BINARY in a profile."""
    objects, functions, costs = {}, {}, Counter()
    current_object = current_function = None
    after_call = False

    def resolve(table, rest):
        match = NAMED.match(rest)
        if not match:
            return rest
        if match.group(2) is not None:
            table[match.group(1)] = match.group(2)
        return table.get(match.group(1))

    with open(path, errors="replace") as profile:
        for line in profile:
            line = line.rstrip("\n")
            if line.startswith("ob="):
                current_object = resolve(objects, line[3:])
            elif line.startswith("cob="):
                resolve(objects, line[4:])
            elif line.startswith("fn="):
                name = resolve(functions, line[3:])
                ours = current_object and os.path.realpath(current_object) == binary
                current_function = name if ours else None
                if current_function:
                    costs[current_function] += 0
            elif line.startswith("cfn="):
                resolve(functions, line[4:])
            elif line.startswith("calls="):
                after_call = True  # the next cost line is the call's inclusive cost
            elif line[:1].isdigit() or line[:1] in "+-*":
                if after_call:
                    after_call = False
                elif current_function:
                    fields = line.split()
                    if len(fields) > 1 and fields[1].isdigit():
                        costs[current_function] += int(fields[1])
    return costs


def main():
    binary = os.path.realpath(sys.argv[1])
    listed = set()
    for path in sys.argv[2:]:
        phase = Counter()
        for name, cost in self_costs(path, binary).items():
            # "'2" marks a recursion level or a cycle, not part of the symbol.
            phase[re.sub(r"'\d+$", "", name)] += cost
        new = 0
        for name, _ in sorted(phase.items(), key=lambda item: (-item[1], item[0])):
            if name not in listed:
                listed.add(name)
                new += 1
                print(name)
        print(f"{os.path.basename(path)}: {len(phase)} functions, {new} new", file=sys.stderr)


if __name__ == "__main__":
    main()
