"""Regenerate golden/argo/*.yaml on purpose: `python -m tests.argo.regen` (never in CI)."""
import os

from .helpers import GOLDEN_DIR, golden_text, shared_flows


def main() -> None:
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    for path in shared_flows():
        name = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(GOLDEN_DIR, name + ".yaml"), "w", encoding="utf-8") as f:
            f.write(golden_text(path))
        print("wrote", name)


if __name__ == "__main__":
    main()
