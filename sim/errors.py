"""The one exception type for bad user input (scenario, trace, option value).

A message names the file, key or value at fault, on one line (line breaks in a quoted value
are shown escaped). Where it names one of the caller's options, it does so through
`option(name)`: the library's message then says `name` (the parameter of the Python API),
and the command line's says `--name` (its flag).
"""

_MARK = "\x00"
_ONE_LINE = str.maketrans({"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028",
                            "\u2029": "\\u2029", "\x85": "\\x85"})


def option(name: str) -> str:
    """A reference to option `name` inside an InputError message."""
    return f"{_MARK}{name}{_MARK}"


def _render(template: str, flag: bool) -> str:
    parts = template.split(_MARK)
    for i in range(1, len(parts), 2):
        parts[i] = "--" + parts[i].replace("_", "-") if flag else parts[i]
    return "".join(parts).translate(_ONE_LINE)


class OptionMessage:
    """An exception whose message may name options with `option(name)`."""

    @property
    def template(self) -> str:
        """The message with its option references unresolved."""
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return _render(self.template, flag=False)

    def cli_message(self) -> str:
        """The message with options named as command-line flags."""
        return _render(self.template, flag=True)


class InputError(OptionMessage, ValueError):
    """A user-supplied input is invalid; the message names the file, key or value."""
