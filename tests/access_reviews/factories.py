from django.utils import timezone

from expensico_sync.access_reviews.models import AccessReview
from tests.registry import isolation_factory


@isolation_factory(AccessReview)
def make_access_review(org):
    return AccessReview.objects.create(organization=org, due_at=timezone.now())
