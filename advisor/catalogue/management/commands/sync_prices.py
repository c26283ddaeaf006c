from django.core.management.base import BaseCommand

from advisor.catalogue.prices import genai_prices_version, prices_sync


class Command(BaseCommand):
    help = "Refresh hosted models' prices from the genai-prices package and report what changed."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report the changes without saving them.")

    def handle(self, *args, dry_run=False, **options):
        changes, unknown = prices_sync(dry_run=dry_run)
        self.stdout.write(f"Prices from genai-prices {genai_prices_version()}{' (dry run)' if dry_run else ''}:")
        for change in changes:
            self.stdout.write(f"  {change.slug}: ${change.old[0]} → ${change.new[0]} in, ${change.old[1]} → ${change.new[1]} out per Mtok")
        if not changes:
            self.stdout.write("  no price changed")
        for slug in unknown:
            self.stdout.write(self.style.WARNING(f"  {slug}: not in genai-prices; kept as it is"))
