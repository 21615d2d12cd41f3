from connectors.models import CallLog, Connection
from tests.registry import isolation_factory


@isolation_factory(Connection)
def make_connection(org):
    return Connection.objects.create(organization=org, system="wafeq", name=f"Wafeq {org.slug}",
                                     base_url="http://127.0.0.1:9/v1", api_key="secret-key")


@isolation_factory(CallLog)
def make_call(org):
    return CallLog.objects.create(connection=make_connection(org), method="GET", path="/organization/", status=200)
