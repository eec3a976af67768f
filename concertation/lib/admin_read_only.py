"""Admin pages that only show what the portal wrote (reports, reminders, allauth's address,
second factor and social account records): nothing is added, changed or deleted by hand."""


class ReadOnlyAdminMixin:
    """Put first among a ModelAdmin's bases."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
