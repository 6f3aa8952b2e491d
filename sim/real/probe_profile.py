"""A probe as a scenario profile: the base scenario with the measured `speculation:` keys."""

import dataclasses

import yaml

from rtsim.scenario.schema import Speculation, parse_scenario
from rtsim.text import count


def unknown_keys(section: dict) -> list[str]:
    """The keys of `section` this version's `speculation:` schema does not have."""
    known = {f.name for f in dataclasses.fields(Speculation)}
    return [k for k in section if k not in known]


def profile_yaml(base: dict, base_label: str, section: dict, summary: dict, url: str,
                 model: str) -> str:
    """The base scenario with `section` as its speculation values, headed by what was
    probed. It is checked to load (without the keys this version does not know yet)."""
    name = f"{base.get('name', base_label)}-probe"
    raw = {**base, "name": name,
           "description": f"{base.get('name', base_label)} with speculation probed on "
                          f"{model}",
           "speculation": {**(base.get("speculation") or {}), **section}}
    known = {k: v for k, v in raw["speculation"].items() if k not in unknown_keys(section)}
    parse_scenario({**raw, "speculation": known}, name)
    c = summary["commit"]
    header = [
        f"# Written by `rtsim probe` against {url} (model {model}):",
        f"# {count(summary['calls'], 'call')} ({summary['failed']} failed), "
        f"{count(summary['partials'], 'partial transcript')}; "
        f"{count(summary['accuracy_partials'], 'partial')} at or after known_at;",
        f"# at the commit point {c['confirmed']} of {c['wrong']} wrong guesses confirmed, "
        f"{c['revised']} of {c['right']} right ones revised.",
        f"# speculation keys without data keep {base_label}'s values: "
        + (", ".join(k for k in ("accuracy", "premature_rate", "accuracy_curve",
                                 "confirm_error", "revise_error") if k not in section)
           or "none"),
    ]
    return "\n".join(header) + "\n" + yaml.safe_dump(raw, sort_keys=False)
