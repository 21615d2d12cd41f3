from expensico_sync.retention.models import RetentionSettings
from tests.registry import isolation_factory


@isolation_factory(RetentionSettings)
def make_retention(org):
    return RetentionSettings.objects.create(organization=org, months={"webhook.bodies": 3})
