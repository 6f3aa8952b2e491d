"""BFCL multi-turn importer: user turns and ground-truth calls as trace episodes.

Reads the data shipped in the `bfcl-eval` package (or a folder laid out like its `data/`).
The rules (safety, steps, dependencies, sizes) are documented in docs/importers.md.
"""

import ast
import importlib.util
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.inputs import json_lines
from rtsim.traces.importers.bfcl_exec import CLASS_MODULES, MissingPackage, Simulator
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
ARGUMENT_DEPTH = 20
"""Deepest nesting of lists and objects in one call argument."""


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


class WrongFile(InputError):
    """A file is not in the format expected at all (not one record has its shape)."""


@dataclass(frozen=True)
class Imported:
    """The episodes of an import, and one line per record it skipped (`WHERE: problem`)."""

    episodes: list[dict]
    skipped: list[str]

    def skipped_summary(self, shown: int = 3) -> str:
        """One line: how many records were skipped, and why (the first `shown` of them)."""
        n = len(self.skipped)
        more = f"; and {n - shown} more" if n > shown else ""
        return (f"skipped {n} malformed {'record' if n == 1 else 'records'}: "
                + "; ".join(self.skipped[:shown]) + more)


def import_bfcl(category: str = "multi_turn_base", limit: int | None = None,
                root: str | Path | None = None, execute: bool = False) -> Imported:
    """Episodes (raw trace dicts) of one BFCL multi-turn category, from its first `limit`
    records; a record of the wrong shape is skipped and listed in `skipped`.

    A file none of whose records has the expected shape is an InputError. With `execute`,
    tool outputs are the results of running the ground truth in BFCL's bundled simulators
    (needs the installed package); otherwise they are estimated.
    """
    root = Path(root) if root is not None else data_dir()
    questions_path, answers_path = category_files(category, root)
    skipped: list[str] = []
    truths = _truths(answers_path, skipped)
    docs = _Docs(root / "multi_turn_func_doc", skipped)
    records = _lines(questions_path, "question")[:limit]
    episodes, problems, ids = [], [], set()
    for where, row in records:
        if isinstance(row, InputError):
            problems.append(str(row))
            continue
        try:
            episode = _record_episode(row, where, truths, answers_path, docs, category, execute)
            if episode["id"] in ids:
                raise InputError(f"{where}: id: duplicate episode id {episode['id']!r}")
        except (MissingPackage, WrongFile):
            raise
        except InputError as exc:
            problems.append(str(exc))
            continue
        ids.add(episode["id"])
        episodes.append(episode)
    if records and not episodes:
        raise InputError(f"{questions_path}: not BFCL {category} data: none of its "
                         f"{len(records)} records has the expected shape ({problems[0]})")
    return Imported(episodes, skipped + problems)


def _lines(path: Path, kind: str) -> list[tuple[str, dict | InputError]]:
    """Each line of a JSON Lines file: its object, or the InputError saying why it is not
    one. A file with lines but no object is an InputError."""
    entries = []
    for where, value in json_lines(path, keep_errors=True):
        if not isinstance(value, (dict, InputError)):
            value = InputError(f"{where}: must be a JSON object, got {_kind(value)}")
        entries.append((where, value))
    if entries and all(isinstance(value, InputError) for _, value in entries):
        raise WrongFile(f"{path}: not a BFCL {kind} file (JSON Lines of objects): "
                         f"{entries[0][1]}")
    return entries


def _truths(path: Path, skipped: list[str]) -> dict[str, tuple[str, dict]]:
    """Ground-truth records by id (the first of each id); bad ones go to `skipped`."""
    truths: dict[str, tuple[str, dict]] = {}
    for where, row in _lines(path, "ground-truth"):
        if isinstance(row, InputError):
            skipped.append(str(row))
        elif not isinstance(row.get("id"), str):
            skipped.append(f"{where}: id: must be a string, got {_kind(row.get('id'))}")
        elif row["id"] in truths:
            skipped.append(f"{where}: id: duplicate ground truth for {row['id']!r} "
                           f"(first at {truths[row['id']][0]})")
        else:
            truths[row["id"]] = (where, row)
    return truths


def _record_episode(row: dict, where: str, truths: dict, answers_path: Path, docs: "_Docs",
                    category: str, execute: bool) -> dict:
    """The episode of one question record; InputError names what is wrong with it."""
    _check_row(row, where, execute)
    if row["id"] not in truths:
        raise InputError(f"{where}: id: no ground truth for {row['id']!r} in {answers_path}")
    run = None
    if execute:
        run = Simulator(row, where, category == "multi_turn_long_context").run
    return _episode(row, where, *truths[row["id"]], docs, category, run)


def _check_row(row: dict, where: str, execute: bool) -> None:
    """InputError unless the record's id, classes, exclusions and initial state have the
    expected types (with `execute`, the classes must have simulators)."""
    if not isinstance(row.get("id"), str):
        raise InputError(f"{where}: id: must be a string, got {_kind(row.get('id'))}")
    for key in ("involved_classes", "excluded_function"):
        names = row.get(key)
        if names is not None and not (isinstance(names, list)
                                      and all(isinstance(n, str) for n in names)):
            raise InputError(f"{where}: {key}: must be a list of names")
    config = row.get("initial_config")
    if config is not None and not isinstance(config, dict):
        raise InputError(f"{where}: initial_config: must be an object, got {_kind(config)}")
    unknown = [n for n in row.get("involved_classes") or [] if n not in CLASS_MODULES]
    if execute and unknown:
        raise InputError(f"{where}: involved_classes: no BFCL simulator for {unknown[0]!r}")


def _kind(value) -> str:
    """The JSON type of a decoded value, for messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


class _Docs:
    """Function docs of BFCL's tool classes, read on first use; a doc of the wrong shape
    goes to `skipped`."""

    def __init__(self, folder: Path, skipped: list[str]):
        self.folder, self.skipped = folder, skipped
        self.cache: dict[str, list[dict]] = {}

    def of_class(self, name: str) -> list[dict]:
        if name not in self.cache:
            path = self.folder / DOC_FILES.get(name, "")
            lines = _lines(path, "function-doc") if path.is_file() else []
            self.cache[name] = [doc for where, doc in lines if self._fits(doc, where)]
        return self.cache[name]

    def _fits(self, doc: dict | InputError, where: str) -> bool:
        problem = str(doc) if isinstance(doc, InputError) else _doc_problem(doc, where)
        if problem:
            self.skipped.append(problem)
        return not problem

    def of_row(self, row: dict) -> dict[str, dict]:
        """Docs by function name for the row's classes, without its excluded functions."""
        excluded = set(row.get("excluded_function") or [])
        return {doc["name"]: doc for cls in row.get("involved_classes") or []
                for doc in self.of_class(cls) if doc["name"] not in excluded}


def _doc_problem(doc: dict, where: str) -> str | None:
    """What is wrong with a function doc's shape (name, parameters, response), if anything."""
    if not isinstance(doc.get("name"), str):
        return f"{where}: name: must be a string, got {_kind(doc.get('name'))}"
    for key in ("parameters", "response"):
        part = doc.get(key)
        if part is not None and not (isinstance(part, dict) and isinstance(
                part.get("properties") or {}, dict)):
            return f"{where}: {key}: must be an object with an object of properties"
    return None


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
        if not isinstance(calls, list):
            raise InputError(f"{truth_where}: ground_truth[{t}]: must be a list of call "
                             f"strings, got {_kind(calls)}")
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
        params = list(((funcs.get(name) or {}).get("parameters") or {}).get("properties")
                      or {})
        args = {}
        for i, arg in enumerate(node.args):
            args[params[i] if i < len(params) else f"arg{i}"] = _argument(arg)
        for kw in node.keywords:
            if kw.arg is None:
                raise ValueError("**kwargs are not supported")
            args[kw.arg] = _argument(kw.value)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        problem = exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        shown = text if len(text) <= 200 else text[:200] + "..."
        raise InputError(f"{where}: cannot parse call {shown!r} ({problem})") from None
    return name, args


def _argument(node):
    """A call argument's value: a Python literal that is also a JSON value."""
    value = ast.literal_eval(node)
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if depth > ARGUMENT_DEPTH:
            raise ValueError(f"an argument nests deeper than {ARGUMENT_DEPTH} levels")
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                raise ValueError("an argument's object keys must be strings")
            todo += [(v, depth + 1) for v in (*item, *item.values())]
        elif isinstance(item, (list, tuple)):
            todo += [(v, depth + 1) for v in item]
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{item} is not a JSON number")
        elif isinstance(item, str):
            if any("\ud800" <= c <= "\udfff" for c in item):
                raise ValueError("a string holds a lone surrogate")
        elif item is not None and not isinstance(item, (bool, int, float)):
            raise ValueError(f"{type(item).__name__} {item!r} is not a JSON value")
    return value


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
        kind = spec.get("type") if isinstance(spec, dict) else None
        total += count_tokens(f'"{key}": ') + VALUE_TOKENS.get(
            kind if isinstance(kind, str) else "string", 8)
    return total
