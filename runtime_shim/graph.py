"""Graph facts the runtime and the local runner both derive from the spec's steps."""


def branch_positions(steps, join):
    """For a join of a static split: predecessor step -> index of the split branch it ends
    (branches are numbered in the order of the split's `next` list)."""
    split = steps[join]["join_of"]
    preds = steps[join]["in"]
    order = {}
    for pos, head in enumerate(steps[split]["next"]):
        seen, todo = set(), [head]
        while todo:
            s = todo.pop()
            if s in seen or s not in steps:
                continue
            seen.add(s)
            if s in preds:
                order.setdefault(s, pos)
                continue
            todo.extend(steps[s].get("next", []))
    return order
