"""The README stays true: every setting is documented, and CI runs the README's test command."""

from pathlib import Path

from biomatdb.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    for name, field in Settings.model_fields.items():
        assert f"BIOMATDB_{name.upper()}" in README, name
        assert field.description, name


def test_ci_runs_exactly_the_readme_test_command():
    command = "python3 -m pip install -e '.[test]' -c constraints.txt && python3 -m pytest"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
