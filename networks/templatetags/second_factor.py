"""What the second factor's pages need beyond allauth's context (networks.mfa)."""

from django import template

from networks import mfa

register = template.Library()


@register.filter
def in_groups_of(value, size=4):
    """``"JBSWY3DPEHPK3PXP"`` → ``"JBSW Y3DP EHPK 3PXP"``: a secret typed by hand, read in groups."""
    text = str(value)
    size = int(size)
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


@register.simple_tag(takes_context=True)
def second_factor_next_url(context):
    """Where « Continuer » leads once the recovery codes are saved."""
    return mfa.enrolment_next_url(context["request"])


@register.simple_tag(takes_context=True)
def second_factor_required(context):
    """Whether the signed-in person must keep a second factor (staff)."""
    return mfa.second_factor_required(context["request"].user)
