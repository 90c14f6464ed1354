"""Use cases: what the mailer does, on top of the domain (rules) and the data layer (AWS)."""

from collections.abc import Callable
from typing import Any

# A request's body, read only once the thing it changes is found: a missing thing answers 404
# whatever the body (the order the API has always had).
Body = Callable[[], Any]
