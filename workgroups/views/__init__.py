"""The working groups' pages: groups, a lead's sessions, invitees' answers and calendars, staff overviews."""
