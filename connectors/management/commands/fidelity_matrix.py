"""`python manage.py fidelity_matrix > connectors/FIDELITY.md`: the fidelity matrix from each
vendor schema's FIDELITY declaration (connectors/fidelity.py)."""

from django.core.management.base import BaseCommand

from connectors.fidelity import matrix


class Command(BaseCommand):
    help = "Print the fidelity matrix (Markdown) generated from every vendor's schema.FIDELITY."

    def handle(self, *args, **options):
        self.stdout.write(matrix(), ending="")
