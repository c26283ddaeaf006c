import json

from django.core.management.base import BaseCommand

from advisor.catalogue.transfer import catalogue_export


class Command(BaseCommand):
    help = "Print the whole catalogue as JSON, in the format import_catalogue reads."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(catalogue_export(), indent=2, ensure_ascii=False))
