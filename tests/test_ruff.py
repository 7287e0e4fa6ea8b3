"""The tree is lint-clean under the project's ruff configuration (ruff.toml: pyflakes and pycodestyle errors, lines up
to 120 characters). ruff is pinned in requirements.txt; a missing one fails here, it is never skipped."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, f"ruff findings (fix them; ruff.toml says what is checked):\n{r.stdout}{r.stderr}"


def test_the_configuration_is_the_one_checked():
    text = (ROOT / "ruff.toml").read_text()
    assert "line-length = 120" in text and 'select = ["E", "F"]' in text
