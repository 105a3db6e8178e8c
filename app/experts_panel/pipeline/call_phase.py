"""Which phase a model call is made for, so the call's metrics can say it.

The runner sets it in each expert's task before each phase; whatever makes the call (`llm/`,
which the pipeline never imports) reads it. A context variable, so experts running side by side
each see their own phase, and a call made outside a query (the CLI's drift analysis) sees
`other`.
"""

from __future__ import annotations

from contextvars import ContextVar

current_phase: ContextVar[str] = ContextVar("experts_panel_call_phase", default="other")
