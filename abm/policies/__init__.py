"""Citizen-security policies, each a module behind one small interface
(:class:`abm.policies.base.Policy`).

A scenario switches a policy on with its table, ``[policies.cbt]`` and so on; any mix
may be on at once. When several act at the same hook they act in the order of
:data:`ORDER`: focused deterrence, CBT, community policing, mano dura. Officers taken
by community policing are the first ones and by mano dura the last ones, so the two
mix without conflict until they need more than all officers (then mano dura, acting
last, takes them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from abm.policies.base import Policy, PolicyParams
from abm.policies.cbt import CBT, CBTParams
from abm.policies.community_policing import CommunityPolicing, CommunityPolicingParams
from abm.policies.focused_deterrence import FocusedDeterrence, FocusedDeterrenceParams
from abm.policies.mano_dura import ManoDura, ManoDuraParams
from abm.schema import Section

if TYPE_CHECKING:
    from abm.model import CityModel

ORDER: tuple[type[Policy], ...] = (FocusedDeterrence, CBT, CommunityPolicing, ManoDura)
NAMES = tuple(cls.name for cls in ORDER)


class PoliciesParams(Section):
    """The policies switched on: a table present means the policy is on."""

    focused_deterrence: FocusedDeterrenceParams | None = Field(None, description="focused deterrence")
    cbt: CBTParams | None = Field(None, description="cognitive behavioural therapy for at-risk youths")
    community_policing: CommunityPolicingParams | None = Field(None, description="community policing")
    mano_dura: ManoDuraParams | None = Field(None, description="mano dura")


def build(params: PoliciesParams, model: CityModel) -> list[Policy]:
    """The scenario's policies, in :data:`ORDER`."""
    return [cls(getattr(params, cls.name), model) for cls in ORDER if getattr(params, cls.name) is not None]


__all__ = ["ORDER", "NAMES", "Policy", "PolicyParams", "PoliciesParams", "build"]
