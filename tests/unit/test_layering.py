"""The dependency rule: engine/ never imports the web app, the Celery tasks or their frameworks."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "flask_wtf", "flask_login", "werkzeug", "celery", "webapp", "tasks")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "engine").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_modules_do_not_import_the_web_app_or_celery(path):
    bad = {name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "leaky.py"
    module.write_text("from flask import g\nimport celery.app\n", encoding="utf-8")
    assert {"flask", "celery.app"} <= imported_modules(module)
