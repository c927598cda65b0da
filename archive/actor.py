"""Who acts: one `Actor` for the audit log, the access workflow and the services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The user name and role (as the audit log names them), where from, and for a signed-in
    user their id and display name (as the workflow's records name them)."""

    name: str
    role: str = ""
    ip: str = ""
    user_id: int | None = None
    display_name: str = ""

    @property
    def shown_name(self) -> str:
        """The name people read: the display name where there is one."""
        return self.display_name or self.name
