"""Sign-in through ProConnect, the State's identity federation for its agents (OpenID Connect)."""
