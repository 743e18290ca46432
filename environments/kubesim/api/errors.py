"""API errors as ``Status`` objects (kubectl prints ``Error from server (Reason): message``)."""

from __future__ import annotations

from typing import Any

from environments.kubesim.objects import CommandError


class ApiError(Exception):
    """An error the API answers with: HTTP code, reason and message (and details)."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> dict[str, Any]:
        """The ``v1`` Status object."""
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
                "reason": self.reason, "details": self.details, "code": self.code}

    @classmethod
    def not_found(cls, qualified: str, name: str) -> ApiError:
        """404 NotFound."""
        group = qualified.split(".", 1)[1] if "." in qualified else ""
        return cls(404, "NotFound", f'{qualified} "{name}" not found',
                   {"name": name, "group": group, "kind": qualified.split(".", 1)[0]})

    @classmethod
    def exists(cls, qualified: str, name: str) -> ApiError:
        """409 AlreadyExists."""
        return cls(409, "AlreadyExists", f'{qualified} "{name}" already exists',
                   {"name": name, "kind": qualified.split(".", 1)[0]})

    @classmethod
    def invalid(cls, kind: str, name: str, cause: str) -> ApiError:
        """422 Invalid."""
        group = ".apps" if kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") else ""
        return cls(422, "Invalid", f'{kind}{group} "{name}" is invalid: {cause}',
                   {"name": name, "kind": kind, "causes": [{"message": cause}]})

    @classmethod
    def forbidden(cls, verb: str, resource: str, group: str, namespace: str | None, name: str = "",
                  why: str = "") -> ApiError:
        """403 Forbidden, in RBAC's words."""
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        subject = f'{resource} "{name}"' if name else resource.split("/")[0]
        message = why or (f'{subject} is forbidden: User "agent" cannot {verb} resource "{resource}" in API group '
                          f'"{group}" {where}')
        return cls(403, "Forbidden", message, {"name": name, "kind": resource.split("/")[0]})

    @classmethod
    def from_command(cls, error: CommandError, kind: str, name: str) -> ApiError:
        """A world rule's refusal (``CommandError`` in kubectl's wording) as a Status."""
        text = str(error).removeprefix("error: ")
        for reason, code in (("Forbidden", 403), ("AlreadyExists", 409), ("RequestEntityTooLarge", 413),
                             ("NotFound", 404)):
            prefix = f"Error from server ({reason}): "
            if text.startswith(prefix):
                return cls(code, reason, text.removeprefix(prefix), {"name": name, "kind": kind})
        return cls.invalid(kind, name, text)
