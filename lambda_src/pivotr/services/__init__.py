"""Use cases: what the mailer does, on top of the domain (rules) and the data layer (AWS)."""
