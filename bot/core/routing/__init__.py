"""诉求 routing: the 派单目录 and 属地 as data, a model learned from the centre's own tickets, and the
dispatcher's queue for what is unsure (see router.py)."""

from .catalogue import DispatchEntry, RoutingData, Territory, load_routing_data
from .places import Place
from .router import Decision, Routing, router_for

__all__ = [
    "Decision",
    "DispatchEntry",
    "Place",
    "Routing",
    "RoutingData",
    "Territory",
    "load_routing_data",
    "router_for",
]
