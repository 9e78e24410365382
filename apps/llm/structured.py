"""Structured output: the messages that ask for JSON, and the check of what comes back.

The schema is always in the system message (servers without response_format support follow it there).
An answer is accepted when it parses as a JSON object (a ```json fence or text around the object is
tolerated), validates against the task's JSON schema (jsonschema, Draft 2020-12 rules as the schema
declares) and passes the task's own `validate`. Otherwise the error goes back to the model once, in
`repair_messages`, and a second bad answer is a failure.
"""

import functools
import json

import jsonschema

FORMAT_INSTRUCTIONS = (
    "Answer with one JSON object only: no prose, no code fences. It must match this JSON schema:\n{schema}"
)
REPAIR_INSTRUCTIONS = (
    "That answer was not valid: {error}. Answer again with one JSON object only, matching the schema."
)
REPAIR_ERROR_MAX_CHARS = 300
# What a repair request can add besides the echoed answer: the instructions with the longest error.
REPAIR_MAX_TEXT = REPAIR_INSTRUCTIONS.format(error="x" * REPAIR_ERROR_MAX_CHARS)


class AnswerInvalid(ValueError):
    pass


def schema_text(schema: dict) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def messages_for(*, system: str, prompt: str, schema: dict) -> list[dict]:
    instructions = FORMAT_INSTRUCTIONS.format(schema=schema_text(schema))
    system_text = f"{system.strip()}\n\n{instructions}" if system.strip() else instructions
    return [{"role": "system", "content": system_text}, {"role": "user", "content": prompt}]


def repair_messages(messages: list[dict], answer: str, error: str) -> list[dict]:
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": REPAIR_INSTRUCTIONS.format(error=error[:REPAIR_ERROR_MAX_CHARS])},
    ]


def _loads(text: str):
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    try:
        return json.loads(stripped)
    except ValueError:
        start, end = stripped.find("{"), stripped.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(stripped[start : end + 1])
            except ValueError:
                pass
    raise AnswerInvalid("it is not JSON" if stripped else "it is empty")


@functools.lru_cache(maxsize=64)
def _validator(text: str):
    schema = json.loads(text)
    return jsonschema.validators.validator_for(schema)(schema)


def _schema_error(data: dict, schema: dict) -> str | None:
    validator = _validator(schema_text(schema))  # built once per schema, not once per answer
    if validator.is_valid(data):
        return None
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{'at ' + where + ': ' if where else ''}{error.message}"


def answer_check(text: str, *, schema: dict, validate=None) -> dict:
    """The answer as a dict, or AnswerInvalid with a short reason (sent back to the model to repair)."""
    data = _loads(text)
    if not isinstance(data, dict):
        raise AnswerInvalid("it is not a JSON object")
    problem = _schema_error(data, schema)
    if problem:
        raise AnswerInvalid(problem)
    if validate is not None:
        try:
            checked = validate(data)
        except ValueError as exc:
            raise AnswerInvalid(str(exc) or "it failed the feature's check") from exc
        if checked is not None:
            data = checked
    return data
