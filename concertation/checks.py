from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def legal_notice_names_the_host(app_configs, **kwargs):
    if settings.PORTAL.get("host"):
        return []
    return [
        Warning(
            "HOSTING_PROVIDER is empty: the mentions légales must name the host (name, address, telephone).",
            id="concertation.W001",
        )
    ]
