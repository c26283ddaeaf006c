"""The README sends readers to documentation that is in the repository (issue 8, item 13)."""

import re

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
