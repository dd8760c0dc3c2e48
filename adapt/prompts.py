"""The instructions every rung's prompt is built from: shared by answering and by knowledge-mode training
(which must teach the model the exact prompt it will be asked with)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapt.backends import Messages, chat

if TYPE_CHECKING:
    from adapt.rag.chunking import Chunk

PROMPT_SYSTEM = ("You are a concise assistant. Answer the question in a few words. "
                 "If you do not know the answer, reply exactly: {abstain}")
RAG_SYSTEM = ("Answer the question using only the numbered passages. Answer in a few words and cite the "
              "passages you used like [1]. If the passages do not contain the answer, reply exactly: {abstain}")


def system_prompt(abstain: str, system_prompt: str | None = None, grounded: bool = False) -> str:
    return (system_prompt or (RAG_SYSTEM if grounded else PROMPT_SYSTEM)).format(abstain=abstain)


def grounded_messages(question: str, passages: list[Chunk], abstain: str,
                      system: str | None = None) -> Messages:
    """Numbered passages (retrieved hits) then the question; the system prompt says to cite or abstain."""
    blocks = []
    for i, p in enumerate(passages, 1):
        head = f" ({p.heading})" if p.heading else ""
        blocks.append(f"[{i}] {p.source}{head}\n{p.text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return chat(user, system_prompt(abstain, system, grounded=True))
