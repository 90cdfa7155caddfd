"""Regenerate golden/argo/*.yaml on purpose: `python -m tests.argo.regen` (never in CI)."""
import os

from .helpers import GOLDEN_DIR, golden_text, shared_flows


def main() -> None:
    assert not os.environ.get("CI"), "never regenerate golden files in CI"
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    expected = {os.path.splitext(os.path.basename(p))[0] + ".yaml" for p in shared_flows()}
    for stale in sorted(set(os.listdir(GOLDEN_DIR)) - expected):
        os.remove(os.path.join(GOLDEN_DIR, stale))
        print("removed", stale)
    for path in shared_flows():
        name = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(GOLDEN_DIR, name + ".yaml"), "w", encoding="utf-8") as f:
            f.write(golden_text(path))
        print("wrote", name)


if __name__ == "__main__":
    main()
