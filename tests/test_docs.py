"""The README sends readers to documentation that is in the repository (issue 8, item 13), and its
configuration table and the commands doc match the code (issue 22, item 8)."""

import re

from advisor.settings_env import settings_env_names

from .conftest import ROOT


def test_readme_links_the_api_catalogue_and_commands_docs_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "CONTRACT.md" not in readme
    links = set(re.findall(r"\]\((docs/[^)]+\.md)\)", readme))
    assert {"docs/api.md", "docs/catalogue-format.md", "docs/commands.md"} <= links
    for link in links:
        assert (ROOT / link).is_file(), link
    api = (ROOT / "docs/api.md").read_text()
    for endpoint in ("POST /api/recommend", "POST /api/trials", "GET /api/trials/<id>", "WWW-Authenticate", "CSRF"):
        assert endpoint in api, endpoint
    assert '"api_key_env"' in (ROOT / "docs/catalogue-format.md").read_text()
    commands = (ROOT / "docs/commands.md").read_text()
    for command in ("seed_catalogue", "import_catalogue", "export_catalogue", "prepare_models", "sync_prices", "celery -A advisor worker"):
        assert command in commands, command


def readme_configuration_names() -> set[str]:
    """The variables in the first column of the README's configuration tables (## Configuration up to
    the next ## section, its ### subsections included)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("|")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}


def test_readme_configuration_table_lists_every_variable_the_settings_read():
    missing = sorted(settings_env_names() - readme_configuration_names())
    assert not missing, (f"The README's configuration table misses {len(missing)} variable(s) that advisor/settings.py "
                         f"reads: {', '.join(missing)}")


def test_settings_variables_are_found_however_settings_read_them(tmp_path):
    """The comparison above is only as good as this parser: every way settings.py reads a variable."""
    source = tmp_path / "settings.py"
    source.write_text(
        'import os\nimport dj_database_url\n'
        'A = os.environ.get("READ_BY_GET", "1")\nB = os.environ["READ_BY_INDEX"]\nC = os.getenv("READ_BY_GETENV")\n'
        'D = "READ_BY_IN" in os.environ\nE = env_bool("READ_BY_ENV_BOOL", False)\nF = env_list("READ_BY_ENV_LIST", "")\n'
        'G = int(os.environ.get("READ_INSIDE_INT", os.environ.get("READ_AS_FALLBACK", "0")))\n'
        'H = dj_database_url.config(default="sqlite://")\nI = {"NOT_A_VARIABLE": os.environ.get}\n'
    )
    assert settings_env_names(source) == {"READ_BY_GET", "READ_BY_INDEX", "READ_BY_GETENV", "READ_BY_IN", "READ_BY_ENV_BOOL",
                                          "READ_BY_ENV_LIST", "READ_INSIDE_INT", "READ_AS_FALLBACK", "DATABASE_URL"}


def test_commands_doc_lists_every_management_command_and_its_options():
    commands = (ROOT / "docs/commands.md").read_text()
    for command in sorted(path.stem for path in ROOT.glob("advisor/*/management/commands/*.py") if not path.stem.startswith("_")):
        assert f"manage.py {command}" in commands, f"docs/commands.md does not describe {command}"
    assert "--no-calibration" in commands and "load_sample_suites [--force]" in commands
