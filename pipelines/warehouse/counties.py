"""Counties as partitions: where a county's working database lives and what a county run sees.

A province deployment runs the pipeline once per county partition (the partition key is the
county code from `expectations/profiles/*.yaml`). Each county has its own working database, so
counties can be written at the same time by different processes or machines (DuckDB: one writer
per file), and its own Great Expectations folder:

    <warehouse_dir>/counties/<code>/warehouse.duckdb     the county's working database
    <warehouse_dir>/counties/<code>/gx/                  its GX context and results
    <warehouse_dir>/counties/<code>/profiles/<file>.yaml its profile alone (a copy, see `county_scope`)
    <warehouse_dir>/counties/<code>/expectations/        the expectations folder as seen by the county:
        links to every entry of the shared one, except the GX suites (`gx/expectations/*.json`), which
        are generated for this county's profile (the committed ones list the bundled county's codes)

The raw folder stays shared (`<raw>/<code>/<unit>/<file>`): a county run reads only `<raw>/<code>/`.

`county_scope` points the existing settings at the county (environment variables
WUCHUANG_PROFILES_DIR, WUCHUANG_EXPECTATIONS_DIR and WUCHUANG_GX_DIR, the documented override mechanism of
`pipelines.settings`) for the duration of one step, so every domain asset - including ones added
later - reads only its county's profile without knowing about partitions. The scope is
process-wide: one county per process at a time (Dagster's run launcher starts a process per run;
the multiprocess and dask executors a process per step).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import yaml

PARTITION_TAG = "dagster/partition"
COUNTY_CODE_RE = re.compile(r"^\d{6}$")
_SCOPED_VARS = (
    "WUCHUANG_PROFILES_DIR",
    "WUCHUANG_GX_DIR",
    "WUCHUANG_EXPECTATIONS_DIR",
    "WUCHUANG_STANDARDS_DIR",
)


class CountyError(ValueError):
    """An unknown county code or an unreadable profile (message in Chinese and English)."""


def _loader():
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def profile_files(profiles_dir: Path) -> dict[str, Path]:
    """County code -> its profile file, read from the `county.code` of every `*.yaml` (C loader)."""
    found: dict[str, Path] = {}
    for path in sorted(Path(profiles_dir).glob("*.yaml")):
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=_loader())
        except (OSError, yaml.YAMLError) as exc:
            raise CountyError(
                f"无法读取县档案 {path.name}：{exc} / cannot read profile {path.name}: {exc}"
            ) from exc
        code = str(((data or {}).get("county") or {}).get("code") or "")
        if not COUNTY_CODE_RE.match(code):
            raise CountyError(
                f"县档案 {path.name} 缺少六位县代码 / profile {path.name} has no six-digit county.code"
            )
        if code in found:
            raise CountyError(
                f"县代码 {code} 出现在两个档案中：{found[code].name}、{path.name} / "
                f"county {code} is in two profiles: {found[code].name}, {path.name}"
            )
        found[code] = path
    return found


def county_codes(profiles_dir: Path) -> list[str]:
    """Sorted county codes of the profiles: the partition keys."""
    return sorted(profile_files(profiles_dir))


def partitioned(profiles_dir: Path) -> bool:
    """Whether automation runs county partitions: WUCHUANG_COUNTY_PARTITIONS=on|off, or by default
    (auto) when the profiles folder holds more than one county. A one-county deployment keeps the
    single working database and single-file snapshots (`make run`)."""
    mode = os.environ.get("WUCHUANG_COUNTY_PARTITIONS", "auto").strip().lower()
    if mode in ("on", "1", "true", "yes"):
        return True
    if mode in ("off", "0", "false", "no"):
        return False
    return len(profile_files(profiles_dir)) > 1


def county_dir(warehouse_dir: Path, code: str) -> Path:
    if not COUNTY_CODE_RE.match(code):
        raise CountyError(f"无效的县代码：{code!r} / invalid county code: {code!r}")
    return Path(warehouse_dir) / "counties" / code


def county_database(warehouse_dir: Path, code: str) -> Path:
    """The county's working database (written only by that county's run)."""
    return county_dir(warehouse_dir, code) / "warehouse.duckdb"


def county_raw_files(raw_dir: Path, code: str) -> list[Path]:
    """The county's candidate return files: everything the loader would read under `<raw>/<code>/`."""
    from pipelines.returns.load import scan_raw_folder

    return scan_raw_folder(Path(raw_dir) / code)


def county_of(rel_path: str) -> str | None:
    """The county a raw file belongs to: the first folder of its path relative to the raw folder."""
    head = rel_path.split("/", 1)[0]
    return head if COUNTY_CODE_RE.match(head) and "/" in rel_path else None


def _prepare_profile(profiles_dir: Path, warehouse_dir: Path, code: str) -> Path:
    """A folder holding only this county's profile (copied when its bytes changed)."""
    files = profile_files(profiles_dir)
    if code not in files:
        raise CountyError(f"没有县代码为 {code} 的县档案 / no county profile with code {code}")
    folder = county_dir(warehouse_dir, code) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    source = files[code]
    target = folder / source.name
    if not target.is_file() or target.read_bytes() != source.read_bytes():
        tmp = folder / f".tmp-{os.getpid()}-{source.name}"
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    for other in folder.glob("*.yaml"):
        if other != target:
            other.unlink(missing_ok=True)
    return folder


def _link(target: Path, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    tmp = link.with_name(f".tmp-{os.getpid()}-{link.name}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _prepare_expectations(expectations_dir: Path, standards_dir: Path, profiles: Path, folder: Path) -> Path:
    """The county's view of the expectations folder, with GX suites generated for its profile."""
    from pipelines.catalog import load_catalog
    from pipelines.profile import load_profiles
    from pipelines.validation import suites

    expectations_dir = Path(expectations_dir).resolve()
    (folder / "gx" / "expectations").mkdir(parents=True, exist_ok=True)
    for entry in expectations_dir.iterdir():
        if entry.name != "gx" and not entry.name.startswith("."):
            _link(entry, folder / entry.name)
    for entry in (expectations_dir / "gx").iterdir():
        if entry.name != "expectations" and not entry.name.startswith("."):
            _link(entry, folder / "gx" / entry.name)
    catalog = load_catalog(standards_dir)
    generated = suites.generate_suites(catalog, load_profiles(profiles, catalog))
    out = suites.suites_dir(folder)
    for name, suite in generated.items():
        _write_if_changed(out / f"{name}.json", suites.dumps(suite))
    for stale in out.glob("*.json"):
        if stale.stem not in generated:
            stale.unlink()
    return folder


@contextlib.contextmanager
def county_scope(code: str) -> Iterator[Path]:
    """Point this process's settings at one county (profiles, GX folder) and restore them after.
    Yields the county's working database path."""
    from pipelines.settings import Settings

    settings = Settings.from_env()
    saved = {k: os.environ.get(k) for k in _SCOPED_VARS}
    folder = county_dir(settings.warehouse_dir, code)
    try:
        profiles = _prepare_profile(settings.profiles_dir, settings.warehouse_dir, code)
        expectations = _prepare_expectations(
            settings.expectations_dir, settings.standards_dir, profiles, folder / "expectations"
        )
        os.environ["WUCHUANG_STANDARDS_DIR"] = str(settings.standards_dir)
        os.environ["WUCHUANG_PROFILES_DIR"] = str(profiles)
        os.environ["WUCHUANG_EXPECTATIONS_DIR"] = str(expectations)
        os.environ["WUCHUANG_GX_DIR"] = str(folder / "gx")
        yield county_database(settings.warehouse_dir, code)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
