"""The layers of the package (README, Architecture): every import points downward, and no source
file grows past what one reader holds in mind.

    cli -> benchmarks -> training -> runtime -> export -> isbnet -> plugins
    (errors, files: the root, importable from every layer)

Imports inside functions count too: a lazy import upward is still a dependency upward.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: bottom to top; a module may import its own layer and the layers before it.
LAYERS = ("plugins", "isbnet", "export", "runtime", "training", "benchmarks", "cli")
#: root modules (and the version) every layer may use.
ROOT_SHARED = {"errors", "files", "__version__"}
MAX_LINES = 500


def _layer_of(module: str) -> str | None:
    """The layer of an `isbnet_trt.<...>` module name; None for the shared root modules."""
    parts = module.split(".")
    if parts[0] != "isbnet_trt" or len(parts) == 1:
        return None
    return None if parts[1] in ROOT_SHARED else parts[1]


def _source_files() -> dict[str, list[Path]]:
    files = {layer: sorted((REPO / layer).rglob("*.py")) for layer in LAYERS if layer != "cli"}
    files["cli"] = [REPO / "isbnet_trt" / "cli.py"]
    return files


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every `isbnet_trt...` module `path` imports, wherever the import statement is."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from isbnet_trt import runtime` imports the layer named by the alias
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "isbnet_trt" else []
            out += [(node.lineno, m) for m in names or [node.module]]
    return [(line, m) for line, m in out if m.startswith("isbnet_trt")]


def test_lazy_upward_imports_are_found(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "def f():\n    from isbnet_trt.runtime.pipeline import Pipeline\n    import isbnet_trt.export\n"
    )
    found = [(line, _layer_of(m)) for line, m in _imported_modules(src)]
    assert found == [(2, "runtime"), (3, "export")]


def test_every_layer_folder_is_scanned() -> None:
    for layer, files in _source_files().items():
        assert files, f"no Python files found for layer {layer!r}"


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_point_downward(layer: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    upward = []
    for path in _source_files()[layer]:
        for line, module in _imported_modules(path):
            target = _layer_of(module)
            if target is not None and target not in allowed:
                upward.append(f"{path.relative_to(REPO)}:{line} imports {module} ({layer} -> {target})")
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_source_files_stay_small() -> None:
    roots = [REPO / d for d in (*LAYERS[:-1], "isbnet_trt")]
    big = [
        f"{p.relative_to(REPO)}: {n} lines"
        for root in roots
        for p in sorted(root.rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    assert not big, f"source files over {MAX_LINES} lines (split them by job):\n" + "\n".join(big)


def test_every_source_folder_is_an_installed_package() -> None:
    """pyproject lists packages one by one (the folders are mapped into `isbnet_trt`): a folder
    missing there would import from a clone but not from an installed wheel."""
    tomllib = pytest.importorskip("tomllib", reason="Python >= 3.11 reads TOML")
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(tool["packages"])
    mapped = {folder: name for name, folder in tool["package-dir"].items()}
    missing = []
    for layer in LAYERS[:-1]:
        for init in sorted((REPO / layer).rglob("*.py")):
            rel = init.parent.relative_to(REPO)
            name = ".".join([mapped[rel.parts[0]], *rel.parts[1:]])
            if name not in listed and "__pycache__" not in rel.parts:
                missing.append(f"{rel} ({name})")
    assert not missing, "folders with Python files not in pyproject's packages:\n" + "\n".join(
        sorted(set(missing))
    )
