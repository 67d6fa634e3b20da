"""`make generate`: writes every file that follows from the service catalogue (services.py): the Kubernetes
base and overlays (k8s_render.py), the Grafana dashboards (grafana_render.py), prometheus.yml, the local
stack's process table, Terraform's ports, and the marked blocks of docker-compose.yml, .env.example, the
services' Dockerfiles, gunicorn.conf.py and settings, and of the Markdown pages that name a port or an address
(catalogue_render.py).

A test (tests/static/test_catalogue.py) fails when a committed file differs from what this writes.

    python infra/generate.py           # rewrite the files
    python infra/generate.py --check   # exit 1 and name the files that are out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from catalogue_render import HEADER, replace_block, style_of, text_blocks, whole_files
from grafana_render import boards, dashboard_json
from k8s_render import base_files, overlay

INFRA = Path(__file__).resolve().parent
ROOT = INFRA.parent
K8S_HEADER = f"# {HEADER} (infra/k8s_render.py).\n"


# --- Writing --------------------------------------------------------------------------------------------


def _yaml(docs: list[dict] | dict) -> str:
    if isinstance(docs, dict):
        docs = [docs]
    return K8S_HEADER + "---\n".join(yaml.safe_dump(doc, sort_keys=False, width=120) for doc in docs)


def rendered() -> dict[Path, str]:
    files = {INFRA / "k8s" / "base" / name: _yaml(docs) for name, docs in base_files().items()}
    for name in ("dev", "prod"):
        files[INFRA / "k8s" / "overlays" / name / "kustomization.yaml"] = _yaml(overlay(name))
    files.update(
        {
            INFRA / "grafana" / "dashboards" / f"{b.uid}.json": json.dumps(dashboard_json(b), indent=2) + "\n"
            for b in boards()
        }
    )
    files.update({ROOT / path: text for path, text in whole_files().items()})
    return files


def with_blocks(read=lambda path: path.read_text(encoding="utf-8")) -> dict[Path, str]:
    """Each file holding marked blocks, as it is with every block rewritten from the catalogue."""
    texts: dict[Path, str] = {}
    for (path, name), content in text_blocks().items():
        file = ROOT / path
        texts[file] = replace_block(texts.get(file) or read(file), name, style_of(path), content)
    return texts


def everything() -> dict[Path, str]:
    return {**rendered(), **with_blocks()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report out-of-date files instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in everything().items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("out of date (run make generate):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
