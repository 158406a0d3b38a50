"""Local language models behind one protocol: Ollama (default), embedded llama.cpp, scripted (tests)."""

from mlr.llm.base import BaseLLM, Usage, schema_prompt
from mlr.llm.errors import LLMError, LLMUnavailable, ModelNotFound, StructuredOutputError
from mlr.llm.scripted import ScriptedLLM
from mlr.protocols import LLM, Message

__all__ = ["LLM", "BaseLLM", "Message", "Usage", "schema_prompt", "LLMError", "LLMUnavailable",
           "ModelNotFound", "StructuredOutputError", "ScriptedLLM"]
