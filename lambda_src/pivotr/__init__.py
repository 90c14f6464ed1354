"""Code shared by every Pivotr Mailer function (domain, data access, HTTP helpers)."""
