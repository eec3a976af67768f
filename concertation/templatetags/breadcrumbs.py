"""One breadcrumb for every page, always starting at « Accueil ».

``{% breadcrumb _("Mesures") measures_url measure.title %}``: pairs of label and
address for the parents, then the current page's label.
"""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

register = template.Library()


@register.inclusion_tag("includes/breadcrumb.html")
def breadcrumb(*labels_and_urls):
    if not labels_and_urls or len(labels_and_urls) % 2 == 0:
        raise template.TemplateSyntaxError("breadcrumb takes pairs of label and address, then the current label")
    *parents, current = labels_and_urls
    links = [(_("Accueil"), reverse("home"))]
    links += [(parents[i], parents[i + 1]) for i in range(0, len(parents), 2)]
    return {"links": links, "current": current}
