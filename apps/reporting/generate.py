"""Writing a report: builtin in one streaming pass, or through the model gateway, map-reduce when needed.

With the builtin provider the builtin writer reads the entries once and writes the whole report (free,
"Drafted without AI"). With a model, the entries go in one request when their lines fit the context budget
(`REPORT_CONTEXT_TOKENS`); otherwise each group (employer / project, at most `REPORT_MAP_CHUNK_ENTRIES`
entries a request) is summarised into draft bullets first (map), and the drafts are combined into the
report (reduce, in rounds while they still do not fit). Each step is a job step: progress is shown, a
cancellation is seen between steps, and its money key is the job's attempt and the step's name.

A step whose answer is not in the required JSON even after the gateway's repair round is drafted by the
builtin writer instead, and the report says so.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from apps.llm.errors import LLMBadAnswer
from apps.llm.gateway import LLMTask, llm_estimate, llm_provider_info, llm_run, llm_step_key
from apps.reporting import kinds, prompts
from apps.reporting.builtin import Result, builtin_write
from apps.reporting.citations import ModelFormatError, sections_from_data
from apps.reporting.requirements import requirements_parse
from apps.reporting.sources import group_key, group_label, prompt_line, token_estimate
from apps.worklog import selectors as worklog_selectors

logger = logging.getLogger("afterresume.reporting")

FEATURE = "report"
WRITE_OUTPUT_TOKENS = 4000
MAP_OUTPUT_TOKENS = 1200
MAP_BULLETS = 8
MAX_REDUCE_ROUNDS = 4


@dataclass(frozen=True)
class Inputs:
    """What a report is written from (a Report row, or the create form before there is one)."""

    tenant: object
    kind: str
    variant: str
    audience: str
    filters: dict
    job_description: str = ""
    options: dict = field(default_factory=dict)

    @property
    def shareable(self) -> bool:
        return self.audience == "shareable"

    def since(self) -> date | None:
        return date.fromisoformat(self.filters["since"]) if self.filters.get("since") else None

    def until(self) -> date | None:
        return date.fromisoformat(self.filters["until"]) if self.filters.get("until") else None

    def _filters(self) -> dict:
        return {
            "tenant": self.tenant,
            "since": self.since(),
            "until": self.until(),
            "employers": self.filters.get("employers") or (),
            "projects": self.filters.get("projects") or (),
            "skills": self.filters.get("skills") or (),
            "tags": self.filters.get("tags") or (),
            "confidential": False if self.shareable else None,
        }

    def rows(self, *, ids=None) -> Iterator[dict]:
        """The selected entries: everything matching for a private report, no confidential ones otherwise."""
        return worklog_selectors.entry_report_rows(ids=ids, **self._filters())

    def count(self) -> int:
        return worklog_selectors.entry_report_count(**self._filters())

    def arrangement(self) -> list[dict]:
        return kinds.section_arrangement(self.kind, self.variant, self.options.get("sections"))

    def requirements(self) -> tuple[list[str], bool]:
        return requirements_parse(self.job_description) if self.kind == "tailored_resume" else ([], False)

    def builtin(self, rows) -> Result:
        requirements, _more = self.requirements()
        result = builtin_write(
            kind=self.kind,
            variant=self.variant,
            rows=rows,
            options=self.options,
            requirements=requirements,
            since=self.since(),
            until=self.until(),
        )
        return _arranged(result, self.arrangement())


def _arranged(result: Result, arrangement: list[dict]) -> Result:
    """The builtin sections in the person's order, with their titles, switched-off ones kept but off."""
    if not arrangement:
        return result
    by_key = {section["key"]: section for section in result.sections}
    ordered = []
    for item in arrangement:
        section = by_key.pop(item["key"], {"key": item["key"], "bullets": []})
        ordered.append({**section, "title": item["title"], "enabled": item["enabled"]})
    ordered += list(by_key.values())
    return Result(ordered, result.requirements, result.notes)


def uses_model() -> bool:
    return llm_provider_info()["name"] != "builtin"


# ------------------------------------------------------------------------------ planning


@dataclass
class Plan:
    entry_count: int
    entry_ids: list[int] = field(default_factory=list)  # with a model: the selected entries, read once
    confidential_held_back: int = 0
    single: bool = True
    chunk_count: int = 0
    prompt_tokens: int = 0


def _chunks(rows, *, budget: int, limit: int) -> Iterator[tuple[tuple[str, str], list[dict], list[str]]]:
    """(group, rows, lines) per map request: a group's entries, split at `limit` entries or `budget`."""
    current_key, current_rows, current_lines, tokens = None, [], [], 0
    for row in rows:
        line = prompt_line(row)
        cost = token_estimate(line)
        key = group_key(row)
        if current_rows and (key != current_key or len(current_rows) >= limit or tokens + cost > budget):
            yield current_key, current_rows, current_lines
            current_rows, current_lines, tokens = [], [], 0
        current_key = key
        current_rows.append(row)
        current_lines.append(line)
        tokens += cost
    if current_rows:
        yield current_key, current_rows, current_lines


def _model_rows(inputs: Inputs, rows, held_back: list[int]) -> Iterator[dict]:
    """The rows the model may see: confidential ones only when the person allowed sending them."""
    allowed = bool(inputs.options.get("send_confidential"))
    for row in rows:
        if row["confidential"] and not allowed:
            held_back.append(row["id"])
            continue
        yield row


def plan(inputs: Inputs, *, ids=None) -> Plan:
    """One pass over the entries: which are selected, and (with a model) how they split into requests."""
    budget, limit = settings.REPORT_CONTEXT_TOKENS, settings.REPORT_MAP_CHUNK_ENTRIES
    entry_ids: list[int] = []
    if not uses_model():
        return Plan(entry_count=inputs.count())
    held_back: list[int] = []
    chunk_count, tokens = 0, 0

    def seen(rows):
        for row in rows:
            entry_ids.append(row["id"])
            yield row

    for _key, _rows, lines in _chunks(
        _model_rows(inputs, seen(inputs.rows(ids=ids)), held_back), budget=budget, limit=limit
    ):
        chunk_count += 1
        tokens += sum(token_estimate(line) for line in lines)
    return Plan(
        entry_count=len(entry_ids),
        entry_ids=entry_ids,
        confidential_held_back=len(held_back),
        single=tokens <= budget,
        chunk_count=chunk_count,
        prompt_tokens=tokens,
    )


def _section_data(result: Result) -> dict:
    return {
        "sections": [
            {
                "title": s["title"],
                "bullets": [{"text": b["text"], "citations": b["citations"]} for b in s["bullets"]],
            }
            for s in result.sections
            if s.get("enabled", True)
        ]
    }


def _validate(data: dict) -> dict:
    try:
        sections_from_data(data)
    except ModelFormatError as exc:
        raise ValueError(str(exc)) from exc
    return data


def _task(
    inputs: Inputs, *, prompt: str, output_tokens: int, builtin: Callable[[], dict], confidential: bool
) -> LLMTask:
    return LLMTask(
        feature=FEATURE,
        system=prompts.system_prompt(kind=inputs.kind, variant=inputs.variant, shareable=inputs.shareable),
        prompt=prompt,
        schema=prompts.SECTIONS_SCHEMA,
        max_output_tokens=output_tokens,
        builtin=builtin,
        validate=_validate,
        contains_confidential=confidential,
        confidential_allowed=bool(inputs.options.get("send_confidential")),
        schema_name="report_sections",
    )


def _instructions(inputs: Inputs, sections: list[dict] | None = None) -> str:
    arrangement = (
        sections if sections is not None else [item for item in inputs.arrangement() if item["enabled"]]
    )
    return prompts.section_instructions(
        kind=inputs.kind,
        variant=inputs.variant,
        sections=arrangement,
        roles=inputs.options.get("roles") or {},
    )


def _job_extra(inputs: Inputs) -> str:
    if inputs.kind != "tailored_resume":
        return ""
    requirements, _more = inputs.requirements()
    return (
        "The job asks for:\n" + "\n".join(f"- {text}" for text in requirements) + "\nShow the matching work."
    )


def estimate(inputs: Inputs, the_plan: Plan) -> int:
    """The most writing the report can cost (0 with builtin): every request of the plan, priced."""
    if not uses_model() or not the_plan.entry_count:
        return 0
    budget, limit = settings.REPORT_CONTEXT_TOKENS, settings.REPORT_MAP_CHUNK_ENTRIES
    instructions = _instructions(inputs)
    none: Callable[[], dict] = dict
    if the_plan.single:
        lines = [prompt_line(row) for row in _model_rows(inputs, inputs.rows(), [])]
        prompt = prompts.write_prompt(instructions=instructions, lines=lines, extra=_job_extra(inputs))
        return llm_estimate(
            tenant=inputs.tenant,
            tasks=[
                _task(
                    inputs, prompt=prompt, output_tokens=WRITE_OUTPUT_TOKENS, builtin=none, confidential=False
                )
            ],
        )
    total = 0
    for key, _rows, lines in _chunks(_model_rows(inputs, inputs.rows(), []), budget=budget, limit=limit):
        prompt = prompts.map_prompt(
            group=group_label(key), lines=lines, kind=inputs.kind, variant=inputs.variant, limit=MAP_BULLETS
        )
        total += llm_estimate(
            tenant=inputs.tenant,
            tasks=[
                _task(
                    inputs, prompt=prompt, output_tokens=MAP_OUTPUT_TOKENS, builtin=none, confidential=False
                )
            ],
        )
    # Combining rounds, as the writer runs them: each takes at most a budget's worth of drafts and answers
    # at most MAP_OUTPUT_TOKENS; they stop once the drafts fit, stop shrinking, or after MAX_REDUCE_ROUNDS.
    drafts_tokens = the_plan.chunk_count * MAP_OUTPUT_TOKENS
    filler = "draft "  # about one token a word: stands in for drafts not written yet
    for _round in range(MAX_REDUCE_ROUNDS):
        if drafts_tokens <= budget:
            break
        requests = -(-drafts_tokens // budget)
        prompt = prompts.reduce_prompt(instructions=instructions, drafts=[filler * budget], final=False)
        task = _task(inputs, prompt=prompt, output_tokens=MAP_OUTPUT_TOKENS, builtin=none, confidential=False)
        total += requests * llm_estimate(tenant=inputs.tenant, tasks=[task])
        shrunk = requests * MAP_OUTPUT_TOKENS
        if shrunk >= drafts_tokens:
            break
        drafts_tokens = shrunk
    prompt = prompts.reduce_prompt(instructions=instructions, drafts=[filler * drafts_tokens], final=True)
    total += llm_estimate(
        tenant=inputs.tenant,
        tasks=[
            _task(inputs, prompt=prompt, output_tokens=WRITE_OUTPUT_TOKENS, builtin=none, confidential=False)
        ],
    )
    return total


# ------------------------------------------------------------------------------ writing


@dataclass
class Written:
    sections: list[dict]
    requirements: list[dict]
    entry_ids: list[int]
    notes: list[str] = field(default_factory=list)
    provider: str = "builtin"
    model: str = ""
    drafted_without_ai: bool = True
    cost_micros: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Writer:
    """One generation run inside a job. `progress(done, total, step)` reports each step."""

    def __init__(
        self, inputs: Inputs, *, job, progress: Callable[[int, int, str], None], check: Callable[[], None]
    ):
        self.inputs = inputs
        self.job = job
        self.progress = progress
        self.check = check
        self.notes: list[str] = []
        self.model_steps = 0
        self.builtin_steps = 0
        self.cost = self.prompt_tokens = self.completion_tokens = 0
        self.provider, self.model = "builtin", ""

    def write(self, *, section: dict | None = None) -> Written:
        """The whole report, or (with `section`) new bullets for that one section only."""
        inputs = self.inputs
        requirements_text, more = inputs.requirements()
        if more:
            self.notes.append(
                f"The job description lists more than {len(requirements_text)} requirements; "
                f"the first {len(requirements_text)} were used."
            )
        if not uses_model():
            self.progress(0, 1, "Writing from your entries")
            entry_ids: list[int] = []

            def counted(rows):
                for row in rows:
                    entry_ids.append(row["id"])
                    yield row

            result = inputs.builtin(counted(inputs.rows()))
            self.progress(1, 1, "Checking citations")
            return Written(result.sections, result.requirements, entry_ids, notes=self.notes + result.notes)

        requirements: list[dict] = []
        ids = None
        if inputs.kind == "tailored_resume":
            self.progress(0, 1, "Matching the job's requirements to your entries")
            matched = inputs.builtin(inputs.rows())
            requirements = matched.requirements
            ids = sorted({pk for item in requirements for pk in item["entry_ids"]})
        the_plan = plan(inputs)
        if the_plan.confidential_held_back:
            self.notes.append(
                f"{the_plan.confidential_held_back} confidential entries were not sent to the AI model; "
                "they are listed under entries not used."
            )
        expected = [item for item in inputs.arrangement() if item["enabled"]]
        if section is not None:
            expected = [section]
        if ids is not None and not ids:
            sections = []
        else:
            model_plan = plan(inputs, ids=ids) if ids is not None else the_plan
            sections = self._sections(model_plan, expected, ids)
        written = Written(
            sections=sections,
            requirements=requirements,
            entry_ids=the_plan.entry_ids,
            notes=self.notes,
            provider=self.provider,
            model=self.model,
            drafted_without_ai=self.model_steps == 0,
            cost_micros=self.cost,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
        )
        return written

    # -- model steps

    def _run(self, step: str, task: LLMTask) -> dict | None:
        """One model request; None when its answer could not be used (the caller drafts it without AI)."""
        self.check()
        try:
            result = llm_run(
                tenant=self.inputs.tenant,
                task=task,
                idempotency_key=llm_step_key(self.job, step),
                job=self.job,
            )
        except LLMBadAnswer as exc:
            logger.info("report step %s: unusable answer (%s)", step, exc.message)
            return None
        self.cost += result.cost_micros
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.provider, self.model = result.provider, result.model
        if result.drafted_without_ai:
            self.builtin_steps += 1
        else:
            self.model_steps += 1
        return result.data

    def _builtin_for(self, rows_ids: list[int] | None) -> Callable[[], dict]:
        inputs = self.inputs
        return lambda: _section_data(inputs.builtin(inputs.rows(ids=rows_ids)))

    def _sections(self, the_plan: Plan, expected: list[dict], ids) -> list[dict]:
        inputs = self.inputs
        instructions = _instructions(inputs, expected)
        allowed = bool(inputs.options.get("send_confidential"))
        budget, limit = settings.REPORT_CONTEXT_TOKENS, settings.REPORT_MAP_CHUNK_ENTRIES
        if the_plan.single:
            self.progress(0, 1, "Writing the report")
            rows = list(_model_rows(inputs, inputs.rows(ids=ids), []))
            prompt = prompts.write_prompt(
                instructions=instructions, lines=[prompt_line(row) for row in rows], extra=_job_extra(inputs)
            )
            task = _task(
                inputs,
                prompt=prompt,
                output_tokens=WRITE_OUTPUT_TOKENS,
                builtin=self._builtin_for(ids),
                confidential=allowed and any(row["confidential"] for row in rows),
            )
            data = self._run("write", task)
            self.progress(1, 1, "Checking citations")
            return self._final(data, expected, ids)

        total_steps = the_plan.chunk_count + 1
        drafts: list[dict] = []
        for index, (key, rows, lines) in enumerate(
            _chunks(_model_rows(inputs, inputs.rows(ids=ids), []), budget=budget, limit=limit)
        ):
            label = group_label(key)
            self.progress(index, total_steps, f"Summarising {label} ({index + 1} of {the_plan.chunk_count})")
            chunk_ids = [row["id"] for row in rows]
            prompt = prompts.map_prompt(
                group=label, lines=lines, kind=inputs.kind, variant=inputs.variant, limit=MAP_BULLETS
            )
            task = _task(
                inputs,
                prompt=prompt,
                output_tokens=MAP_OUTPUT_TOKENS,
                builtin=lambda chunk=rows: _map_builtin(self.inputs, chunk),
                confidential=allowed and any(row["confidential"] for row in rows),
            )
            data = self._run(f"map-{index + 1}", task)
            if data is None:
                self.notes.append(
                    f"The model's summary of {label} was not usable; it was drafted without AI."
                )
                data = _map_builtin(inputs, rows)
            drafts += _drafts(data, set(chunk_ids))
        rounds = 0
        while (
            sum(token_estimate(prompts.draft_line(item)) for item in drafts) > budget
            and rounds < MAX_REDUCE_ROUNDS
        ):
            rounds += 1
            batches = _draft_batches(drafts, budget)
            merged: list[dict] = []
            for number, batch in enumerate(batches, start=1):
                self.progress(
                    the_plan.chunk_count,
                    total_steps,
                    f"Combining summaries, round {rounds} ({number} of {len(batches)})",
                )
                prompt = prompts.reduce_prompt(
                    instructions=instructions,
                    drafts=[prompts.draft_line(item) for item in batch],
                    final=False,
                )
                task = _task(
                    inputs,
                    prompt=prompt,
                    output_tokens=MAP_OUTPUT_TOKENS,
                    builtin=lambda b=batch: _drafts_data(b),
                    confidential=False,
                )
                data = self._run(f"reduce-{rounds}-{number}", task)
                batch_ids = {pk for item in batch for pk in item["citations"]}
                merged += _drafts(data, batch_ids) if data is not None else batch
            if len(merged) >= len(drafts):
                break  # the model did not condense: stop trying, the final step gets what fits
            drafts = merged
        self.progress(the_plan.chunk_count, total_steps, "Writing the report from the summaries")
        prompt = prompts.reduce_prompt(
            instructions=instructions, drafts=[prompts.draft_line(item) for item in drafts], final=True
        )
        if token_estimate(prompt) > budget * 2:
            self.notes.append(
                "The summaries were still too long for the model; "
                "the report was drafted without AI from all entries."
            )
            data = None
        else:
            task = _task(
                inputs,
                prompt=prompt,
                output_tokens=WRITE_OUTPUT_TOKENS,
                builtin=self._builtin_for(ids),
                confidential=False,
            )
            data = self._run("reduce-final", task)
        self.progress(total_steps, total_steps, "Checking citations")
        return self._final(data, expected, ids)

    def _final(self, data: dict | None, expected: list[dict], ids) -> list[dict]:
        if data is not None:
            try:
                return sections_from_data(data, expected=expected)
            except ModelFormatError:
                pass
        self.notes.append(
            "The model's answer was not in the required format; this report was drafted without AI."
        )
        result = self.inputs.builtin(self.inputs.rows(ids=ids))
        keys = {item["key"] for item in expected}
        return [section for section in result.sections if not keys or section["key"] in keys or not expected]


def _map_builtin(inputs: Inputs, rows: list[dict]) -> dict:
    result = builtin_write(kind="brag_document", rows=rows)
    bullets = [item for section in result.sections for item in section["bullets"]][:MAP_BULLETS]
    return {
        "sections": [
            {
                "title": "Drafts",
                "bullets": [{"text": b["text"], "citations": b["citations"]} for b in bullets],
            }
        ]
    }


def _drafts(data: dict, allowed: set[int]) -> list[dict]:
    """Draft bullets from a map or reduce answer, keeping only citations of the entries that step saw."""
    try:
        sections = sections_from_data(data)
    except ModelFormatError:
        return []
    drafts = []
    for section in sections:
        for item in section["bullets"]:
            citations = [pk for pk in item["citations"] if pk in allowed]
            if citations:
                drafts.append({"text": item["text"], "citations": citations})
    return drafts


def _drafts_data(drafts: list[dict]) -> dict:
    return {"sections": [{"title": "Drafts", "bullets": drafts}]}


def _draft_batches(drafts: list[dict], budget: int) -> list[list[dict]]:
    batches: list[list[dict]] = [[]]
    tokens = 0
    for item in drafts:
        cost = token_estimate(prompts.draft_line(item))
        if batches[-1] and tokens + cost > budget:
            batches.append([])
            tokens = 0
        batches[-1].append(item)
        tokens += cost
    return batches
