"""Column types of the kind applications define, shared by the tests that
check values pass through bind and result processing."""

from __future__ import annotations

import json

from sqlalchemy import Text, TypeDecorator


class JSONText(TypeDecorator):
    """JSON kept as text: its bind and result processing must run for every value."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)
