"""惠企政策: the 政策库 (knowledge/policies/), enterprise profiles, matching with reasons, and the push."""

from .library import PolicyLibrary, load_policy_library
from .models import Conditions, Policy

__all__ = ["Conditions", "Policy", "PolicyLibrary", "load_policy_library"]
