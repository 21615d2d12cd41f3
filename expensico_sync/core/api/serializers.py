from rest_framework import serializers

from ..models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField()
    expensico_api_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="Write-only; blank keeps the current token."
    )

    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "base_currency", "country", "timezone", "mode", "role",
                  "webhook_url", "expensico_api_base_url", "expensico_api_token", "created_at", "updated_at"]
        read_only_fields = ["id", "slug", "created_at", "updated_at"]

    def get_role(self, obj) -> str | None:
        return self.context.get("roles", {}).get(obj.pk)

    def get_webhook_url(self, obj) -> str:
        return f"/api/v1/expensico/webhooks/{obj.slug}/"

    def update(self, instance, validated_data):
        if not validated_data.get("expensico_api_token"):
            validated_data.pop("expensico_api_token", None)
        return super().update(instance, validated_data)


class MembershipBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField(allow_null=True)


class MeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "api_key"])
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    is_superuser = serializers.BooleanField()
    organizations = MembershipBriefSerializer(many=True)
