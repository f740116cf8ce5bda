"""Function characters: the one definition of the characters that name nothing.

A question's subject is what is left once these (and the question and aspect words of intents/) are removed:
"那要多少钱" has none of its own and follows up on the last topic; "护照要多少钱" has one. The same set is used
wherever the code needs to tell grammar from content:
  - correction never takes one of them for a typo ("孩子上小学的手续" must not become "…地手续");
  - retrieval gives an unseen one no weight (they are not evidence that a question is about something else);
  - the dialogue decides whether a message names an entry of its own or follows up on the context.
"""

from __future__ import annotations

# particles, pronouns, copulas, auxiliaries, conjunctions, prepositions, adverbs and question pronouns
FUNCTION_CHARS = frozenset(
    "的地得了着过吗呢吧啊呀哦嘛么"  # particles
    "我你他她它们这那个"  # pronouns and demonstratives
    "是在有"  # copula, existence
    "想要去能会"  # auxiliaries
    "和与或及等"  # conjunctions
    "把被给让"  # prepositions
    "就都也还又很再"  # adverbs
    "啥咋怎请问"  # question words and politeness
)


def subject_chars(text: str) -> str:
    """The characters of `text` that can name something (spaces and function characters removed)."""
    return "".join(c for c in text if c not in FUNCTION_CHARS and not c.isspace())
