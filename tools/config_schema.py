"""`make config-schema`: write Pulumi.yaml's `config:` block from the key declarations in infra/config/.

Everything else in Pulumi.yaml is kept as it is. `--check` exits 1 when the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.config import schema  # noqa: E402


def rendered(path: Path) -> str:
    project = yaml.safe_load(path.read_text())
    project["config"] = schema()
    return yaml.safe_dump(project, sort_keys=False, width=110, allow_unicode=True)


def main() -> int:
    path = ROOT / "Pulumi.yaml"
    text = rendered(path)
    if "--check" in sys.argv[1:]:
        if path.read_text() != text:
            print("Pulumi.yaml is out of date: run `make config-schema`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}: {len(yaml.safe_load(text)['config'])} keys")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
