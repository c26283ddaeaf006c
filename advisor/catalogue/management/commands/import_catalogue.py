import json

from django.core.management.base import BaseCommand, CommandError

from advisor.catalogue.transfer import CatalogueError, catalogue_import


class Command(BaseCommand):
    help = "Upsert providers and models from a catalogue JSON file; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the JSON file, or - for standard input.")

    def handle(self, *args, file, **options):
        try:
            text = self.stdin.read() if file == "-" else open(file, encoding="utf-8").read()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file} is not valid JSON: {exc}") from exc
        try:
            report = catalogue_import(data)
        except CatalogueError as exc:
            raise CommandError("Nothing was imported:\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(f"Imported: {len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged.")
        for line in report.created + report.updated:
            self.stdout.write(f"  {line}")
