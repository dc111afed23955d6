"""Repository rules: clean notebooks, a complete table of contents, agreeing package lists."""

import json
import pathlib
import re
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under notebooks/"


def test_committed_notebooks_carry_no_outputs():
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
                 and (c.get("outputs") or c.get("execution_count") is not None)]
        assert not dirty, f"{nb.relative_to(ROOT)} has outputs in cells {dirty}; clear them before committing"


def test_every_notebook_is_in_the_toc_and_uses_the_contract():
    toc = (ROOT / "_toc.yml").read_text()
    for nb in NOTEBOOKS:
        rel = nb.relative_to(ROOT).with_suffix("").as_posix()
        assert f"file: {rel}" in toc, f"{rel} is not listed in _toc.yml"
        code = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"]
                         if c["cell_type"] == "code")
        assert "lmt.setup(" in code and "run.check(" in code, f"{rel} must use lmt.setup and run.check"


def test_parameter_cell_is_tagged():
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1 and "lmt.setup(" in "".join(tagged[0]["source"]), nb.name


def test_environment_yml_and_pyproject_list_the_same_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r) for r in pip_block if not r.startswith("-e")}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject: {wanted - listed}"


def test_constraints_pin_every_direct_dependency():
    pins = {_name(line) for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line and not line.startswith("#")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        direct |= {_name(r) for r in extra}
    assert direct <= pins, f"not pinned in constraints.txt: {direct - pins}"


def _code(nb) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")


def _calls(code: str, name: str) -> list[str]:
    """The argument text of every call ``name(...)`` in ``code`` (balanced parentheses)."""
    out, start = [], 0
    while (i := code.find(name + "(", start)) >= 0:
        depth, j = 0, i + len(name)
        for j in range(i + len(name), len(code)):
            depth += {"(": 1, ")": -1}.get(code[j], 0)
            if depth == 0:
                break
        out.append(code[i + len(name) + 1:j])
        start = j
    return out


def test_every_check_says_what_it_rests_on_and_uses_a_recorded_prediction():
    """Static belt to the contract's braces: evidence= in every check, no hand-built Estimates."""
    for nb in NOTEBOOKS:
        code = _code(nb)
        rel = nb.relative_to(ROOT)
        for call in _calls(code, "run.check") + _calls(code, "run.check_breaks"):
            assert "evidence=" in call, f"{rel}: a check without evidence=: run.check({call[:60]}...)"
        assert "lmt.Estimate(" not in code, f"{rel} builds an lmt.Estimate by hand (use mean_se/slope/stack/map)"
        assert "run.predict(" in code or "lmt.predict(" in code, f"{rel} makes no recorded prediction"


def test_some_chapter_checks_where_its_theory_breaks():
    assert any("run.check_breaks(" in _code(nb) for nb in NOTEBOOKS), "no chapter uses run.check_breaks"
