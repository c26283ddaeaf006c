import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from advisor.catalogue.transfer import CatalogueError, catalogue_import

SEED_FILE = Path(__file__).resolve().parents[2] / "seed" / "catalogue.json"


class Command(BaseCommand):
    help = "Load the curated catalogue that ships with the project. Existing entries are kept unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Overwrite entries an admin has edited.")

    def handle(self, *args, force=False, **options):
        try:
            report = catalogue_import(json.loads(SEED_FILE.read_text()), overwrite=force)
        except CatalogueError as exc:
            raise CommandError(f"The shipped catalogue is invalid:\n{exc}") from exc
        self.stdout.write(
            f"Catalogue: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.kept)} kept as edited (use --force to overwrite)."
        )
