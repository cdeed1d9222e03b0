"""One reference comparison of ``larseg validate``: a measured value next to a published (or Geant4) one."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Check:
    """``value`` is larseg's; ``reference`` the outside value (None: information only, nothing to compare).

    ``tolerance`` is absolute, in ``unit``; the check passes when
    ``|value - reference| <= tolerance``. ``explained`` is the written reason
    for a failing comparison that is understood (a documented simplification);
    an unexplained failure is a defect. ``source`` names where the reference
    comes from; ``figure`` the report figure that shows it.
    """

    group: str
    name: str
    value: float
    reference: float | None
    tolerance: float | None
    unit: str
    source: str
    explained: str = ""
    figure: str | None = None
    detail: str = ""

    @property
    def passed(self) -> bool | None:
        if self.reference is None or self.tolerance is None:
            return None
        return abs(self.value - self.reference) <= self.tolerance

    @property
    def status(self) -> str:
        ok = self.passed
        if ok is None:
            return "info"
        if ok:
            return "pass"
        return "explained" if self.explained else "FAIL"

    def as_dict(self) -> dict:
        out = asdict(self)
        out["status"] = self.status
        return out


__all__ = ["Check"]
