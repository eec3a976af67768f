class FrenchFirstMiddleware:
    """Serve French unless the person chose another language.

    Django would follow the browser's Accept-Language header; a French State
    service answers in French and offers English through the language button
    (which sets the language cookie that LocaleMiddleware reads).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Only the portal's own scripts, styles, images and forms.

    Inline style attributes stay allowed: the synthesis sizes its bars and
    legend swatches from the data. No inline script runs anywhere.
    """

    POLICY = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response
