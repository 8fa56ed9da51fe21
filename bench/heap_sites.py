"""Largest allocation sites in a heaptrack flamegraph file: "leaked" (what
was live when the process was killed) or "peak" (what was live at the
heap's highest point).

usage: heap_sites.py FOLDED N_CONNECTIONS [TOP] [leaked|peak]

Each line of the file is a call stack (outermost first, `;`-separated) and
the bytes allocated from it. Frames inside the allocator and the
standard library's containers are skipped, so a site is named by the code
that asked for the memory; the bytes are also given per connection.
"""
import collections
import re
import subprocess
import sys

SKIP = re.compile(
    r"^(<?alloc::|alloc$|alloc_impl|allocate|finish_grow|grow|realloc|<alloc|<core::|core::|<std::|std::|__rust|__rdl"
    r"|do_reserve|reserve|with_capacity|try_allocate|<\[|hashbrown::|<hashbrown|exchange_malloc|from_elem|to_vec|clone"
    r"|copy_from_slice|extend|push|spec_extend|from_iter|new$|new<>$|box_new_uninit|into_boxed|RawVec|0x)"
)


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    when = {"leaked": "at the end", "peak": "at the peak"}[sys.argv[4] if len(sys.argv) > 4 else "leaked"]
    stacks, names = [], set()
    for line in open(path):
        stack, _, cost = line.rstrip("\n").rpartition(" ")
        frames = [re.sub(r" \([^)]*\)$", "", f) for f in stack.rstrip(";").split(";")]
        stacks.append((frames, int(cost)))
        names.update(frames)
    names = sorted(names)
    demangled = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()
    name = {k: re.sub(r"\[[0-9a-f]{16}\]", "", v) for k, v in zip(names, demangled)}
    sites = collections.Counter()
    for frames, cost in stacks:
        own = [name[f] for f in reversed(frames) if not SKIP.match(name[f])]
        sites[" <- ".join(f[:80] for f in own[:4])] += cost
    total = sum(c for _, c in stacks)
    print(f"live {when}: {total / 1024:.0f} KiB ({total / n:.0f} bytes per connection, baseline included)")
    print("| KiB | bytes per connection | site (innermost first) |")
    print("|---:|---:|---|")
    for site, cost in sites.most_common(top):
        print(f"| {cost / 1024:.0f} | {cost / n:.0f} | {site} |")


if __name__ == "__main__":
    main()
