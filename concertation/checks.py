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


@register(deploy=True)
def not_a_local_trial(app_configs, **kwargs):
    if not (settings.PRODUCTION and settings.LOCAL_TRIAL):
        return []
    return [
        Warning(
            "LOCAL_TRIAL is set: the base URL and the sender, contact and DPO addresses may be placeholders. "
            "Unset it and give the real values before opening the portal to anyone.",
            id="concertation.W002",
        )
    ]
