from .loader import KnowledgeBase, KnowledgeError, load_knowledge
from .models import AppealCategory, Bundle, Department, Entry, Exemption, Item, Material

__all__ = [
    "AppealCategory",
    "Bundle",
    "Department",
    "Entry",
    "Exemption",
    "Item",
    "KnowledgeBase",
    "KnowledgeError",
    "Material",
    "load_knowledge",
]
