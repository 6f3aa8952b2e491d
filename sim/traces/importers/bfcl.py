"""BFCL multi-turn importer: user turns and ground-truth calls as trace episodes.

Reads the data shipped in the `bfcl-eval` package (or a folder laid out like its `data/`).
The rules (safety, steps, dependencies, sizes) are documented in docs/importers.md.
"""

import ast
import importlib.util
import itertools
import json
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.inputs import json_lines
from rtsim.traces.importers.bfcl_exec import CLASS_MODULES, Simulator
from rtsim.traces.importers.safety import is_read_only
from rtsim.traces.knownat import compute_known_at
from rtsim.traces.tokens import count_tokens

CATEGORIES = ("multi_turn_base", "multi_turn_long_context", "multi_turn_miss_param",
              "multi_turn_miss_func")
INSTALL_HINT = "bfcl-eval is not installed; install it with: pip install --no-deps bfcl-eval"
ANSWER_TOKENS = 30
"""Tokens of the spoken answer BFCL does not give: about 22 words, two short sentences."""
HOLDOUT_PROMPT = "I have updated some more functions you can choose from. What about now?"
"""The user message BFCL sends when a held-out function is added (miss_func categories)."""
DOC_FILES = {name: f"{module}.json" for name, module in CLASS_MODULES.items()}
"""Function-doc file of each BFCL tool class (BFCL's MULTI_TURN_FUNC_DOC_FILE_MAPPING)."""
VALUE_TOKENS = {"string": 8, "integer": 2, "float": 2, "number": 2, "boolean": 1,
                "array": 24, "dict": 16, "object": 16}
"""Estimated tokens of one value of each response-schema type."""
UNKNOWN_OUTPUT_TOKENS = 16


def data_dir() -> Path:
    """The `data` folder of the installed bfcl-eval package (found without importing it)."""
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(INSTALL_HINT)
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def category_files(category: str, root: Path) -> tuple[Path, Path]:
    """The question and ground-truth files of `category` under `root` (newest version)."""
    if category not in CATEGORIES:
        raise InputError(f"unknown BFCL category {category!r}; choose one of: "
                         + ", ".join(CATEGORIES))
    found = sorted(root.glob(f"BFCL_v*_{category}.json"))
    if not found:
        raise InputError(f"{root}: no BFCL_v*_{category}.json file")
    questions = found[-1]
    answers = root / "possible_answer" / questions.name
    if not answers.is_file():
        raise InputError(f"{answers}: ground-truth file missing")
    return questions, answers


def import_bfcl(category: str = "multi_turn_base", limit: int | None = None,
                root: str | Path | None = None, execute: bool = False) -> list[dict]:
    """Episodes (raw trace dicts) of one BFCL multi-turn category, the first `limit` ones.

    With `execute`, tool outputs are the results of running the ground truth in BFCL's
    bundled simulators (needs the installed package); otherwise they are estimated.
    """
    root = Path(root) if root is not None else data_dir()
    questions_path, answers_path = category_files(category, root)
    truths = {}
    for where, row in json_lines(answers_path):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise InputError(f"{where}: id: missing")
        truths[row["id"]] = (where, row)
    docs = _Docs(root / "multi_turn_func_doc")
    episodes = []
    for where, row in json_lines(questions_path)[:limit]:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise InputError(f"{where}: id: missing")
        if row["id"] not in truths:
            raise InputError(f"{where}: id: no ground truth for {row['id']!r} in {answers_path}")
        run = None
        if execute:
            long_context = category == "multi_turn_long_context"
            run = Simulator(row, where, long_context).run
        episodes.append(_episode(row, where, *truths[row["id"]], docs, category, run))
    return episodes


class _Docs:
    """Function docs of BFCL's tool classes, read on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cache: dict[str, list[dict]] = {}

    def of_class(self, name: str) -> list[dict]:
        if name not in self.cache:
            path = self.folder / DOC_FILES.get(name, "")
            self.cache[name] = [v for _, v in json_lines(path)] if path.is_file() else []
        return self.cache[name]

    def of_row(self, row: dict) -> dict[str, dict]:
        """Docs by function name for the row's classes, without its excluded functions."""
        excluded = set(row.get("excluded_function") or [])
        return {doc["name"]: doc for cls in row.get("involved_classes") or []
                for doc in self.of_class(cls) if doc.get("name") not in excluded}


def _episode(row: dict, where: str, truth_where: str, truth: dict, docs: _Docs,
             category: str, run=None) -> dict:
    turns_raw = row.get("question")
    gold = truth.get("ground_truth")
    if not isinstance(turns_raw, list) or not turns_raw:
        raise InputError(f"{where}: question: must be a non-empty list of turns")
    if not isinstance(gold, list) or len(gold) != len(turns_raw):
        raise InputError(f"{truth_where}: ground_truth: must list one entry per turn "
                         f"({len(turns_raw)})")
    funcs = docs.of_row(row)
    counter = itertools.count(1)
    turns = []
    for t, (messages, calls) in enumerate(zip(turns_raw, gold, strict=True)):
        user = _user_text(messages, f"{where}: question[{t}]")
        parsed = [parse_call(text, f"{truth_where}: ground_truth[{t}][{c}]", funcs)
                  for c, text in enumerate(calls)]
        steps = plan_steps(parsed, tuple(user.split()), funcs, counter, run)
        turns.append({"user": user, "steps": steps, "answer_tokens": ANSWER_TOKENS})
    episode = {"id": row["id"], "source": f"bfcl:{category}", "turns": turns}
    if funcs:
        episode["system_tokens"] = count_tokens(json.dumps(list(funcs.values())))
    return episode


def _user_text(messages, where: str) -> str:
    """The turn's user text; a turn with no message is BFCL's held-out-function prompt."""
    if not isinstance(messages, list):
        raise InputError(f"{where}: must be a list of messages")
    texts = [m.get("content") for m in messages if isinstance(m, dict)]
    if len(texts) != len(messages) or not all(isinstance(x, str) for x in texts):
        raise InputError(f"{where}: every message needs a string content")
    text = " ".join(x.strip() for x in texts if x.strip())
    return text or HOLDOUT_PROMPT


def parse_call(text, where: str, funcs: dict[str, dict]) -> tuple[str, dict]:
    """Name and arguments of a call string like `mv(source='a', destination='b')`."""
    if not isinstance(text, str):
        raise InputError(f"{where}: must be a call string, got {text!r}")
    try:
        node = ast.parse(text.strip(), mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, (ast.Name, ast.Attribute)):
            raise ValueError("not a function call")
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        params = list(funcs.get(name, {}).get("parameters", {}).get("properties", {}))
        args = {}
        for i, arg in enumerate(node.args):
            args[params[i] if i < len(params) else f"arg{i}"] = ast.literal_eval(arg)
        for kw in node.keywords:
            if kw.arg is None:
                raise ValueError("**kwargs are not supported")
            args[kw.arg] = ast.literal_eval(kw.value)
    except (SyntaxError, ValueError, TypeError) as exc:
        problem = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise InputError(f"{where}: cannot parse call {text!r} ({problem})") from None
    return name, args


def plan_steps(calls: list[tuple[str, dict]], words: tuple[str, ...], funcs: dict[str, dict],
               counter, run=None) -> list[dict]:
    """Group a turn's calls into steps with conservative dependencies.

    A read whose spoken values all occur in the utterance joins the step before it when
    that step holds only reads; any other call opens a new step. Every call depends on all
    calls of the step before its own. `run(name, arguments)`, when given, returns the
    call's output text; otherwise its size is estimated.
    """
    steps: list[list[dict]] = []
    for name, args in calls:
        safe = is_read_only(name)
        call = {"id": f"c{next(counter)}", "name": name, "arguments": args, "safe": safe}
        if run is None:
            call["output_tokens"] = output_tokens(funcs.get(name))
        else:
            call["output"] = run(name, args)
        joins = (steps and safe and all(c["safe"] for c in steps[-1])
                 and compute_known_at(args, words) is not None)
        if not joins:
            steps.append([])
        if len(steps) > 1:
            call["depends_on"] = [c["id"] for c in steps[-2]]
        steps[-1].append(call)
    return [{"calls": step} for step in steps]


def output_tokens(doc: dict | None) -> int:
    """Estimated result size from the function's documented response schema."""
    props = ((doc or {}).get("response") or {}).get("properties") or {}
    if not props:
        return UNKNOWN_OUTPUT_TOKENS
    total = 2
    for key, spec in props.items():
        kind = spec.get("type", "string") if isinstance(spec, dict) else "string"
        total += count_tokens(f'"{key}": ') + VALUE_TOKENS.get(kind, 8)
    return total
