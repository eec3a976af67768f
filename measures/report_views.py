"""Staff's side of round reports: ask for a new one, download one, mark feedback to quote in them.

Writes go through ``measures.reports``; who may do what is said in ``measures/rules.py``.
"""

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from measures import reports
from measures.models import ConsultationRound, Feedback, RoundReport
from networks.access import inside_required

logger = logging.getLogger(__name__)


def round_reports_context(user, consultation: ConsultationRound) -> dict:
    """What the round page's reports block needs (one query), for those who read reports; else nothing."""
    if not user.has_perm("measures.read_round_reports", consultation):
        return {}
    return {
        "round_reports": list(consultation.reports.select_related("requested_by")[:50]),
        "can_request_report": user.has_perm("measures.request_round_report", consultation),
    }


@inside_required
@require_POST
def round_report_create(request, pk):
    consultation = get_object_or_404(ConsultationRound, pk=pk)
    if not request.user.has_perm("measures.request_round_report", consultation):
        raise PermissionDenied
    report = reports.round_report_request(consultation=consultation, by=request.user)
    if report.reused:
        messages.info(request, _("Un rapport est déjà en préparation pour cette consultation."))
    else:
        messages.success(
            request,
            _("Un nouveau rapport est en préparation ; il apparaîtra dans la liste ci-dessous dès qu'il sera prêt."),
        )
    return redirect(consultation.get_absolute_url() + "#rapports")


@inside_required
def round_report_download(request, pk):
    report = get_object_or_404(RoundReport.objects.select_related("round"), pk=pk)
    if not request.user.has_perm("measures.read_round_reports", report.round):
        raise PermissionDenied
    if report.status != RoundReport.Status.READY or not report.file:
        raise Http404
    try:
        content = report.file.open("rb")
    except OSError:
        logger.warning("round report %s is marked ready but missing from the storage", report.pk)
        raise Http404 from None
    response = FileResponse(
        content,
        as_attachment=True,
        filename=reports.report_download_name(report),
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@inside_required
@require_POST
def feedback_quote(request, pk):
    # Only transmitted feedback can be quoted: a draft answers like a missing id, so its existence stays private.
    feedback = get_object_or_404(Feedback.objects.exclude(status=Feedback.Status.DRAFT), pk=pk)
    if not request.user.has_perm("measures.quote_feedback", feedback):
        raise PermissionDenied
    quoted = request.POST.get("quoted") == "1"
    try:
        reports.feedback_quote_set(feedback=feedback, quoted=quoted, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Ce retour sera cité dans le rapport de sa consultation.")
            if quoted
            else _("Ce retour ne sera plus cité dans le rapport."),
        )
    # Back to the feedback's page, with the list the agent came from (``?retour=``) kept.
    from measures.views import RETURN_PARAM, _return_to  # measures.views imports this module

    return_to = _return_to(request, request.POST.get(RETURN_PARAM))
    query = f"?{urlencode({RETURN_PARAM: return_to})}" if return_to else ""
    return redirect(feedback.get_absolute_url() + query)
