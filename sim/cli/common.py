"""What the commands share: options declared once, and user errors as one line, exit 2."""

import contextlib
import warnings
from pathlib import Path

import click
from tqdm import tqdm

from rtsim.engine.runner import known_policies
from rtsim.errors import InputError, OptionMessage
from rtsim.real.connect import Target

ALL_POLICIES = "sync,preemptive,async,speculative"
DEFAULT_SCENARIO = "cloud-realtime"


class BadInput(click.ClickException):
    """A bad file, key or value given by the user: one line, exit code 2."""

    exit_code = 2


@contextlib.contextmanager
def user_errors():
    """Turn InputError raised inside the block into BadInput, options named as flags."""
    try:
        yield
    except InputError as exc:
        raise BadInput(exc.cli_message()) from None


@contextlib.contextmanager
def printed_warnings():
    """Print each of rtsim's warnings (an OptionMessage) raised inside the block at once on
    stderr, as one line `warning: ...` with options named as flags; others as usual."""
    usual = warnings.showwarning

    def show(message, *args, **kwargs):
        if not isinstance(message, OptionMessage):
            return usual(message, *args, **kwargs)
        click.echo(f"warning: {message.cli_message()}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def progress(total: int | None, unit: str, hidden: bool = False):
    """A progress bar on stderr, only when stderr is a terminal (never on stdout, never in
    a log or a test's captured output); yields its `update(n)`."""
    bar = tqdm(total=total, unit=f" {unit}", disable=True if hidden else None, leave=False,
               dynamic_ncols=True)
    try:
        yield bar.update
    finally:
        bar.close()


def split_names(text: str | None) -> list[str]:
    """The names of a comma-separated option value, blanks dropped."""
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def policy_names(text: str | None, default=(), option: str = "--policies") -> list[str]:
    """The policies of a comma-separated option value (else `default`), validated."""
    try:
        return known_policies(split_names(text) or list(default))
    except InputError as exc:
        raise InputError(f"{option}: {exc.template}") from None


def _stack(*decorators):
    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn
    return apply


def set_option(help_text: str = "Override a scenario value (repeatable)."):
    """`--set KEY=VALUE`, repeatable, into the parameter `overrides`."""
    return click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=help_text)


def seed_options(seeds_help: str = "Replications of every episode [default: the scenario's].",
                 seed_help: str = "Root seed [default: the scenario's]."):
    """`--seeds N` and `--seed N`."""
    return _stack(
        click.option("--seeds", type=click.IntRange(min=1), default=None, help=seeds_help),
        click.option("--seed", type=click.IntRange(min=0), default=None, help=seed_help))


def policies_option(default: str | None = ALL_POLICIES,
                    help_text: str = "Comma-separated: sync, preemptive, async, speculative."):
    """`-p/--policies NAMES`."""
    return click.option("--policies", "-p", default=default, show_default=default is not None,
                        help=help_text)


def scenario_options(seed_help: str = "Root seed [default: the scenario's].",
                     set_help: str = "Override a scenario value (repeatable)."):
    """`-s/--scenario`, `-t/--traces` (into `trace_set`), `--seeds`, `--seed` and `--set`:
    what picks a run's scenario (rtsim.scenario.overrides.run_overrides)."""
    return _stack(
        click.option("--scenario", "-s", default=DEFAULT_SCENARIO, show_default=True,
                     help="Built-in scenario name or a YAML file."),
        click.option("--traces", "-t", "trace_set", default=None,
                     help="Built-in trace set name or a JSONL file [default: the scenario's]."),
        seed_options(seed_help=seed_help), set_option(set_help))


def out_option(default: str, help_text: str = "Folder for the results."):
    """`-o/--out FOLDER`."""
    return click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
                        default=Path(default), show_default=True, help=help_text)


backend_options = _stack(
    click.option("--backend", "-b", default="embedded", show_default=True,
                 help="'embedded' (SmolLM2-135M, started here, one request at a time), "
                      "'batching' or 'batching:N' (the same model on llama.cpp's llama-server, "
                      "started here, N slots decoded in one batch, 2 by default; needs the "
                      "batching extra) or an OpenAI-compatible base URL, e.g. "
                      "http://127.0.0.1:8000/v1."),
    click.option("--model", "-m", default=None,
                 help="Model name [default: the server's first]."),
    click.option("--api-key-env", default=None, metavar="VAR",
                 help="Environment variable holding the API key (never written anywhere)."),
    click.option("--threads", type=click.IntRange(min=1), default=None,
                 help="Threads of the server started here [default: all cores but one]."),
)
"""`--backend`, `--model`, `--api-key-env`, `--threads`: see `backend_target`."""


def backend_target(backend: str, model: str | None, api_key_env: str | None,
                   threads: int | None) -> Target:
    """The backend the `backend_options` name."""
    return Target(backend, model, api_key_env, threads)
