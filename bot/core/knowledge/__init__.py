from .loader import DEFAULT_KNOWLEDGE_DIR, KnowledgeBase, KnowledgeError, load_knowledge
from .models import AppealCategory, Bundle, Department, Entry, Exemption, Item, Material

__all__ = [
    "DEFAULT_KNOWLEDGE_DIR",
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
