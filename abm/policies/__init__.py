"""Citizen-security policies, each a module behind one small interface
(:class:`abm.policies.base.Policy`), and the registry built from them.

A scenario switches a policy on with its table, ``[policies.cbt]`` and so on; any mix
may be on at once. When several act at the same hook they act in the order of their
``order``: truce, focused deterrence, violence interruption, CBT, social prevention,
investigations, community policing, pacification, hot spots, prison reform, mano dura. Officers taken
by community policing are the first ones and by mano dura the last ones, so the two
mix without conflict until they need more than all officers (then mano dura, acting
last, takes them).

Adding a policy: write a module with a ``Policy`` subclass that declares its name,
``Params``, ``order``, state, measures, controls and cost (see
:mod:`abm.policies.base`), and call :func:`register` on it (the built-in ones are
registered below). Registering adds its table to :class:`PoliciesParams` (and so to
every scenario), its measures to :mod:`abm.measures` and its state to the youths of
models built afterwards. Processes that run models (sweep workers) must register it
too: register at import of the policy's module and import that module in them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo

from abm import measures
from abm.policies.base import Control, GangState, PersonState, Policy, PolicyParams
from abm.schema import Section

if TYPE_CHECKING:
    from abm.model import CityModel

_registry: dict[str, type[Policy]] = {}
_holders: list[type[BaseModel]] = []  # models that hold a PoliciesParams field

PoliciesParams = create_model(
    "PoliciesParams",
    __base__=Section,
    __doc__="The policies switched on: a table present means the policy is on.",
)


def registered() -> tuple[type[Policy], ...]:
    """The registered policies, in hook order."""
    return tuple(sorted(_registry.values(), key=lambda cls: (cls.order, cls.name)))


def names() -> tuple[str, ...]:
    """Names of the registered policies, in hook order."""
    return tuple(cls.name for cls in registered())


def get(name: str) -> type[Policy]:
    return _registry[name]


def person_state() -> tuple[PersonState, ...]:
    """Per-person arrays every registered policy keeps on the youths."""
    return tuple(s for cls in registered() for s in cls.state)


def register(cls: type[Policy]) -> type[Policy]:
    """Add a policy to the registry (usable as a class decorator)."""
    if not cls.name or not cls.name.isidentifier():
        raise ValueError(f"{cls.__name__}: a policy needs a name that is an identifier")
    if cls.name in _registry and _registry[cls.name] is not cls:
        raise ValueError(f"a policy named {cls.name!r} is already registered")
    taken = {s.name for other in registered() if other is not cls for s in other.state}
    clash = sorted(taken & {s.name for s in cls.state})
    if clash:
        raise ValueError(f"policy {cls.name}: state names already taken: {', '.join(clash)}")
    measures.add(cls.name, cls.measures, cls.window_measures)
    _registry[cls.name] = cls
    _rebuild()
    return cls


def unregister(name: str) -> None:
    """Remove a policy from the registry (a scenario with its table is then refused)."""
    if _registry.pop(name, None) is not None:
        measures.remove(name)
        _rebuild()


def hold(model: type[BaseModel]) -> None:
    """Rebuild ``model`` whenever the registry changes (it has a PoliciesParams field)."""
    _holders.append(model)


def _rebuild() -> None:
    fields = PoliciesParams.model_fields
    for name in [n for n in fields if n not in _registry]:
        del fields[name]
        PoliciesParams.__annotations__.pop(name, None)
    wanted = names()
    for cls in registered():
        if cls.name not in fields:
            fields[cls.name] = FieldInfo.from_annotated_attribute(
                cls.Params | None, Field(None, description=cls.description or cls.label)
            )
            PoliciesParams.__annotations__[cls.name] = cls.Params | None
    # Keep fields in hook order (the order of scenario dumps and manifests).
    ordered = {n: fields[n] for n in wanted}
    fields.clear()
    fields.update(ordered)
    PoliciesParams.model_rebuild(force=True)
    for holder in _holders:
        holder.model_rebuild(force=True)


def build(params: PoliciesParams, model: CityModel) -> list[Policy]:
    """The scenario's policies that are on, in hook order."""
    # A table built before a policy was registered has no entry for it: off.
    return [cls(getattr(params, cls.name), model) for cls in registered()
            if getattr(params, cls.name, None) is not None]


def _register_builtin() -> None:
    from abm.policies.cbt import CBT
    from abm.policies.community_policing import CommunityPolicing
    from abm.policies.focused_deterrence import FocusedDeterrence
    from abm.policies.hot_spots import HotSpots
    from abm.policies.investigations import Investigations
    from abm.policies.mano_dura import ManoDura
    from abm.policies.pacification import Pacification
    from abm.policies.prison_reform import PrisonReform
    from abm.policies.social_prevention import SocialPrevention
    from abm.policies.truce import Truce
    from abm.policies.violence_interruption import ViolenceInterruption

    for cls in (FocusedDeterrence, CBT, SocialPrevention, CommunityPolicing, PrisonReform, ManoDura, Truce,
                ViolenceInterruption, Investigations, HotSpots, Pacification):
        register(cls)


_register_builtin()

__all__ = [
    "Control", "GangState", "PersonState", "Policy", "PolicyParams", "PoliciesParams", "build", "get", "hold",
    "names", "person_state", "register", "registered", "unregister",
]
