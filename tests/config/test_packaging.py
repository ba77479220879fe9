"""The wheel is what ``pip install`` puts on a machine: it must carry every app with its
migrations, management commands, template tags and data files, import with the
repository nowhere on the path, and declare every library the code imports.

The wheel is built offline from a copy of the tree (no build isolation: nothing is
downloaded), once for this module."""

from __future__ import annotations

import ast
import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
#: Top-level packages of the repository that are not part of the product.
NOT_SHIPPED = {"tests", "benchmarks"}
#: The apps the settings and the issue name; the scan below must find at least these.
APPS = {"config", "core", "forensics", "evidence", "disputes", "packs", "api"}
#: Generated or local-only folders and files that a clean clone does not have.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", "*.pyc", "build", "dist", "*.egg-info",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "test-artifacts", "node_modules",
)  # fmt: skip


def project_packages() -> list[str]:
    """Every top-level package of the repository that the product is made of."""
    found = {p.parent.name for p in ROOT.glob("*/__init__.py")} - NOT_SHIPPED
    return sorted(found)


def source_files(package: str) -> set[str]:
    """The package's files as wheel paths (code and data; no bytecode)."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from a copy of the working tree."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", str(work / "dist"), str(source)],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = (work / "dist").glob("refundguard-*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(wheel: Path) -> Path:
    """The wheel's contents, as pip would lay them into site-packages."""
    site = wheel.parent.parent / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def test_the_wheel_carries_every_file_of_every_app(wheel: Path) -> None:
    packages = project_packages()
    assert set(packages) >= APPS
    with zipfile.ZipFile(wheel) as zf:
        shipped = set(zf.namelist())
    missing = sorted(set().union(*(source_files(p) for p in packages)) - shipped)
    assert missing == [], f"not in the wheel: {missing}"
    stray = sorted(
        name for name in shipped if name.split("/")[0] not in packages and ".dist-info/" not in name
    )
    assert stray == [], f"the wheel carries more than the apps: {stray}"


# Run with the wheel's folder first on sys.path and the repository nowhere on it: import
# every module of every package, load the migrations and list the management commands.
_PROBE = """
import importlib, json, pkgutil, sys
site, packages = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, site)
import django
django.setup()
from django.core.management import get_commands
from django.db.migrations.loader import MigrationLoader
failed = {}
def record(name):
    failed[name] = repr(sys.exc_info()[1])
for package in packages:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + ".", onerror=record):
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed[info.name] = repr(exc)
loader = MigrationLoader(None, ignore_no_migrations=True)
print(json.dumps({
    "failed": failed,
    "origins": {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
                if name.split(".")[0] in packages},
    "migrations": sorted(f"{app}.{name}" for app, name in loader.disk_migrations
                         if app in packages),
    "commands": sorted(name for name, app in get_commands().items() if app in packages),
}))
"""


def test_every_app_imports_from_the_wheel_alone(unpacked: Path, tmp_path: Path) -> None:
    packages = project_packages()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DJANGO_DEBUG",
            "DJANGO_SECRET_KEY",
            "REFUNDGUARD_BUYER_KEY",
            "REFUNDGUARD_AUDIT_KEY",
        }
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings", REFUNDGUARD_VAR_DIR=str(tmp_path))
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    # -I: no PYTHONPATH, no user site, no script or current folder on sys.path.
    result = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE, str(unpacked), json.dumps(packages)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["failed"] == {}
    origins = found["origins"]
    # The editable install would serve a package the wheel lacks from the repository.
    outside = {name: path for name, path in origins.items() if not path.startswith(str(unpacked))}
    assert outside == {}
    expected_modules = {
        path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for package in packages
        for path in source_files(package)
        if path.endswith(".py")
    }
    assert expected_modules <= set(origins)
    for app in ("core", "forensics", "packs"):
        assert app in origins
    assert {"packs.migrations", "core.migrations", "packs.management.commands.verify_pack"} <= set(
        origins
    )
    migrations = {f"{p.parent.parent.name}.{p.stem}" for p in ROOT.glob("*/migrations/0*.py")}
    assert set(found["migrations"]) == migrations
    commands = {p.stem for p in ROOT.glob("*/management/commands/[!_]*.py")}
    assert set(found["commands"]) == commands


# --- Every imported library is declared -------------------------------------------------


def _imported_top_names(paths: list[Path]) -> dict[str, str]:
    """Each third-party top-level name imported by these files, with one file importing it."""
    local = {*project_packages(), *NOT_SHIPPED}
    names: dict[str, str] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top not in sys.stdlib_module_names and top not in local:
                    names.setdefault(top, path.relative_to(ROOT).as_posix())
    return names


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(wheel: Path) -> tuple[set[str], set[str]]:
    """The wheel's requirements: (runtime, the ``dev`` extra), as normalised names."""
    with zipfile.ZipFile(wheel) as zf:
        (metadata,) = (n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.parser.Parser().parsestr(zf.read(metadata).decode())
    runtime, dev = set(), set()
    for line in message.get_all("Requires-Dist") or []:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        assert match is not None, line
        (dev if re.search(r"""extra\s*==\s*['"]dev['"]""", line) else runtime).add(
            _normalised(match.group())
        )
    return runtime, dev


def _python_files(*folders: str) -> list[Path]:
    return [
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    ]


def _undeclared(imports: dict[str, str], declared: set[str]) -> dict[str, str]:
    """Imported names whose distribution is not declared (or not installed at all)."""
    distributions = packages_distributions()
    return {
        name: f"{where} (distributions: {distributions.get(name, 'none installed')})"
        for name, where in imports.items()
        if not {_normalised(d) for d in distributions.get(name, [])} & declared
    }


def test_every_library_the_product_imports_is_a_declared_dependency(wheel: Path) -> None:
    runtime, _dev = _declared(wheel)
    product = [*_python_files(*project_packages()), ROOT / "manage.py"]
    imports = _imported_top_names(product)
    assert {"scipy", "cv2", "skimage", "django"} <= set(imports)  # the scan sees them
    assert _undeclared(imports, runtime) == {}


def test_every_library_the_tests_and_benchmarks_import_is_declared(wheel: Path) -> None:
    runtime, dev = _declared(wheel)
    imports = _imported_top_names(_python_files("tests", "benchmarks"))
    assert _undeclared(imports, runtime | dev) == {}
