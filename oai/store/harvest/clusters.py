"""Connected components over links (sans-I/O): what a cluster becomes after one of its links
disappeared. Clusters grow by relabelling (two components joined by a new link take the
smaller label), which needs no computation; only a removal can split one, and then only that
component's members and links are read again and split here."""

from __future__ import annotations

from collections.abc import Iterable


def components(members: Iterable[int], links: Iterable[tuple[int, int]]) -> list[set[int]]:
    """The connected components of `members` under `links` (union-find with path halving);
    links touching a non-member are ignored."""
    parent = {m: m for m in members}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for m in parent:
        groups.setdefault(root(m), set()).add(m)
    return sorted(groups.values(), key=min)
