from allauth.account.adapter import DefaultAccountAdapter


class ClosedAccountAdapter(DefaultAccountAdapter):
    """No open sign-up: accounts come from invitations or from the admin."""

    def is_open_for_signup(self, request):
        return False
