"""lead-import: placeholder until its issue lands (answers 501)."""

from pivotr.pending import not_implemented


def handler(event: dict, context: object) -> dict:
    return not_implemented(event)
