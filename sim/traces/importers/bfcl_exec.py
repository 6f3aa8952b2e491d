"""Optional: run BFCL's ground-truth calls in its bundled simulators for real tool outputs."""

import copy
import importlib
import json

from rtsim.errors import InputError

SIMULATORS = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
CLASS_MODULES = {
    "GorillaFileSystem": "gorilla_file_system", "MathAPI": "math_api",
    "MessageAPI": "message_api", "TwitterAPI": "posting_api", "TicketAPI": "ticket_api",
    "TradingBot": "trading_bot", "TravelAPI": "travel_booking",
    "VehicleControlAPI": "vehicle_control",
}
"""Module of each BFCL tool class (BFCL's CLASS_FILE_PATH_MAPPING, multi-turn part)."""
STATELESS = frozenset({"MathAPI"})


class MissingPackage(InputError):
    """Running BFCL's simulators needs a package that is not installed."""


class Simulator:
    """BFCL's tool classes for one episode, loaded with the episode's initial state."""

    def __init__(self, row: dict, where: str, long_context: bool = False):
        config = row.get("initial_config") or {}
        self.instances = []
        for name in row.get("involved_classes") or []:
            instance = _tool_class(name, where)()
            if name not in STATELESS:
                try:
                    instance._load_scenario(copy.deepcopy(config.get(name, {})),
                                            long_context=long_context)
                except Exception as exc:  # the simulators raise anything on bad state
                    raise InputError(f"{where}: initial_config.{name}: BFCL's simulator "
                                     f"cannot load it ({exc.__class__.__name__}: "
                                     f"{str(exc)[:200]})") from None
            self.instances.append(instance)

    def run(self, name: str, arguments: dict) -> str:
        """The call's result as text; a failing call returns its error, as BFCL records it."""
        method = self._method(name)
        if method is None:
            return f"Error during execution: no function {name!r}"
        try:
            result = method(**arguments)
        except Exception as exc:  # the simulators raise anything on bad input
            return f"Error during execution: {exc}"
        return result if isinstance(result, str) else json.dumps(result, default=str)

    def _method(self, name: str):
        if name.startswith("_"):
            return None
        for instance in self.instances:
            method = getattr(instance, name, None)
            if callable(method):
                return method
        return None


def _tool_class(name: str, where: str):
    if name not in CLASS_MODULES:
        raise InputError(f"{where}: involved_classes: no BFCL simulator for {name!r}")
    try:
        module = importlib.import_module(f"{SIMULATORS}.{CLASS_MODULES[name]}")
    except ImportError as exc:
        package = (exc.name or "").split(".")[0] or "bfcl_eval"
        hint = "bfcl-eval --no-deps" if package == "bfcl_eval" else package
        raise MissingPackage(f"executing BFCL's {name} needs the {package} package: "
                         f"pip install {hint}") from None
    return getattr(module, name)
