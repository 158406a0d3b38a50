"""Errors of the LLM layer; each carries a message a researcher can act on."""


class LLMError(RuntimeError):
    """Base of every LLM failure."""


class LLMUnavailable(LLMError):
    """The model server cannot be reached (down, wrong host, timed out)."""


class ModelNotFound(LLMError):
    """The server answers but does not have the model."""


class StructuredOutputError(LLMError):
    """The model's answer stayed invalid after every retry."""

    def __init__(self, message: str, *, last_answer: str = "", errors: str = "", attempts: int = 0,
                 schema: str = ""):
        super().__init__(message)
        self.last_answer = last_answer
        self.errors = errors
        self.attempts = attempts  # how many answers were tried
        self.schema = schema  # the name of the schema the answers had to fit
