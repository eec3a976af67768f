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
