"""The declaration mechanism: each key is declared once, as a dataclass field made by `setting()`.

A declaration carries the key's name, default, description, checks and (from the field's annotation) its type.
`load_config` parses every raw value by its type, runs the key's checks, then the cross-key `rule`s, and either
returns a `StackConfig` or raises one `ConfigError` listing every problem. Parsing never raises anything else:
any YAML value of any type (or the CLI's string) becomes a typed value or a problem line naming its key.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import reprlib
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROJECT = "webstack"
REGION_KEY = "aws:region"

# Bounds every integer key shares before its own checks: the AWS/Kubernetes API fields are 32-bit.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_STRING = 4096  # no key takes more; refusing earlier keeps every later check cheap
MAX_ITEMS = 1000
SHOWN = 100  # a problem line shows at most this many characters of a value

Check = Callable[[Any], "str | None"]


class Invalid(ValueError):  # noqa: N818 - the name reads as what a parser raises: Invalid("what is allowed")
    """Raised by a `parse=` function: its message says what is allowed."""


class ConfigError(ValueError):
    """All configuration problems found, one per line, each starting with the key(s) concerned."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{listing}")


@dataclass(frozen=True)
class Setting:
    """One config key as declared; `attr`, `section` and `kind` are filled in from the dataclass field."""

    key: str
    default: Any
    description: str
    checks: tuple[Check, ...] = ()
    parse: Callable[[Any], Any] | None = None
    required: bool = False
    section: str = ""
    attr: str = ""
    kind: str = ""  # string | integer | boolean | array | object | custom
    item_kind: str = ""  # for arrays: string | integer

    @functools.cached_property  # asked for every key on every load: computed once per declaration
    def path(self) -> tuple[str, ...]:
        return (self.section, self.attr) if self.section else (self.attr,)


def setting(key: str, default: Any, description: str, *checks: Check, parse: Callable[[Any], Any] | None = None,
            required: bool = False) -> Any:
    """A dataclass field declaring config key `key` (its type comes from the field's annotation)."""
    decl = Setting(key, default, description, tuple(checks), parse, required)
    return dataclasses.field(default=default, metadata={"setting": decl})


@dataclass(frozen=True)
class Rule:
    keys: tuple[str, ...]
    check: Callable[[Any], str | None]


RULES: list[Rule] = []


def rule(*keys: str) -> Callable[[Callable[[Any], str | None]], Callable[[Any], str | None]]:
    """Register a cross-key rule. It runs on the resolved StackConfig only when every named key parsed and
    passed its own checks; it returns None or what is allowed. Its problem line names every key."""

    def register(fn: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
        RULES.append(Rule(tuple(keys), fn))
        return fn

    return register


# ---- showing values -------------------------------------------------------------------------------------------

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = _repr.maxlong = SHOWN
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 8
_repr.maxlevel = 3


def show(value: Any, limit: int = SHOWN) -> str:
    """A repr of any value, at most `limit` characters, that never raises (huge ints, recursive lists)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 300:
        text = f"<a {value.bit_length()}-bit integer>"
    else:
        try:
            text = _repr.repr(value)
        except (ValueError, RecursionError):
            text = f"<unprintable {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(value: Any) -> Any:
    """Typed values back to their YAML look: arrays as lists, string maps as dicts."""
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return dict(value)
        return list(value)
    return value


def problem(keys: Iterable[str], values: Iterable[Any], allowed: str) -> str:
    first, *rest = keys
    names = "/".join([first if ":" in first else f"{PROJECT}:{first}", *rest])
    values = [_plain(v) for v in values]
    return f"{names} = {'/'.join(show(v) for v in values)}: {allowed}"


# ---- checks ---------------------------------------------------------------------------------------------------

def one_of(*allowed: Any) -> Check:
    shown = ", ".join(str(a) for a in allowed)
    return lambda v: None if v in allowed else f"allowed: {shown}"


def between(lo: int, hi: int) -> Check:
    return lambda v: None if lo <= v <= hi else f"must be {lo} to {hi}"


def length(lo: int, hi: int) -> Check:
    def check(v: Any) -> str | None:
        if lo <= len(v) <= hi:
            return None
        what = "characters" if isinstance(v, str) else "entries"
        return f"must have {lo} to {hi} {what}" if lo else f"must have at most {hi} {what}"

    return check


def matches(regex: str, example: str, what: str = "") -> Check:
    """Full match, ASCII only (so no trailing newline, no non-ASCII digits or letters slip through)."""
    compiled = re.compile(regex, re.ASCII)
    text = f"must be {what} such as {example}" if what else f"must look like {example} (pattern {regex})"
    return lambda v: None if compiled.fullmatch(v) else text


def each(*checks: Check) -> Check:
    """Every element of an array (or every (key, value) pair of a map) passes `checks`."""

    def check(values: Any) -> str | None:
        for item in values:
            for c in checks:
                why = c(item)
                if why:
                    shown = show(item[0] if isinstance(item, tuple) and len(item) == 2 else item, 40)
                    return f"entry {shown}: {why}"
        return None

    return check


def unique(fold: Callable[[Any], Any] = lambda v: v, why: str = "") -> Check:
    """No two entries equal once `fold`ed (e.g. `str.lower` where AWS compares names case-insensitively)."""

    def check(values: Any) -> str | None:
        counts = Counter(fold(v) for v in values)
        dupes = sorted({str(v) for v in values if counts[fold(v)] > 1})
        return f"entries must be unique{why}; listed twice: {', '.join(dupes)}" if dupes else None

    return check


def when_set(*checks: Check) -> Check:
    """Run `checks` only on a non-empty value (empty means 'derive it')."""

    def check(v: Any) -> str | None:
        for c in checks if v else ():
            why = c(v)
            if why:
                return why
        return None

    return check


# ---- type-directed parsing -------------------------------------------------------------------------------------

_INT = re.compile(r"-?[0-9]{1,12}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def kind_of(annotation: Any) -> tuple[str, str]:
    """(kind, item kind) of a field annotation."""
    if annotation is str or annotation == (str | None):
        return "string", ""
    if annotation is bool or annotation == (bool | None):  # None: unset, derived (e.g. on for prod stacks)
        return "boolean", ""
    if annotation is int:
        return "integer", ""
    if annotation == tuple[str, ...]:
        return "array", "string"
    if annotation == tuple[int, ...]:
        return "array", "integer"
    if annotation == tuple[tuple[str, str], ...]:
        return "object", "string"
    return "custom", ""


def parse_string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid("must be a string")
    if isinstance(value, int) and value.bit_length() > 64:
        raise Invalid("must be a string")
    text = str(value)
    if len(text) > MAX_STRING:
        raise Invalid(f"must be a string of at most {MAX_STRING} characters")
    if _CONTROL.search(text):
        raise Invalid("must be one line with no control characters (newline, tab...)")
    return text


def parse_int(value: Any) -> int:
    allowed = f"must be a whole number from {INT32_MIN} to {INT32_MAX}"
    if isinstance(value, bool):
        raise Invalid(allowed)
    if isinstance(value, float):
        if not value.is_integer():
            raise Invalid(allowed)
        value = int(value) if abs(value) < 2**63 else INT32_MAX + 1
    elif isinstance(value, str):
        if not _INT.fullmatch(value):
            raise Invalid(allowed)
        value = int(value)
    elif not isinstance(value, int):
        raise Invalid(allowed)
    if not INT32_MIN <= value <= INT32_MAX:
        raise Invalid(allowed)
    return value


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Invalid("must be true or false")


def _decode(value: Any, container: type, allowed: str) -> Any:
    """YAML gives lists/maps; the CLI and the render give their JSON text."""
    if isinstance(value, str):
        if len(value) > 64 * 1024:
            raise Invalid(allowed)
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise Invalid(allowed) from None
    if not isinstance(value, container):
        raise Invalid(allowed)
    if len(value) > MAX_ITEMS:
        raise Invalid(f"{allowed}, at most {MAX_ITEMS} entries")
    return value


def parse_array(value: Any, item_kind: str) -> tuple[Any, ...]:
    allowed = f"must be a list of {'strings' if item_kind == 'string' else 'whole numbers'}"
    items = _decode(value, list, allowed)
    if item_kind == "string":
        if not all(isinstance(v, str) for v in items):
            raise Invalid(allowed)
        return tuple(parse_string(v) for v in items)
    return tuple(parse_int(v) for v in items)


def parse_map(value: Any) -> tuple[tuple[str, str], ...]:
    allowed = "must be a map of string to string (quote numbers and booleans)"
    items = _decode(value, dict, allowed)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in items.items()):
        raise Invalid(allowed)
    return tuple(sorted((parse_string(k), parse_string(v)) for k, v in items.items()))


def parse_value(decl: Setting, value: Any) -> Any:
    if decl.parse is not None:
        return decl.parse(value)
    if decl.kind == "string":
        return parse_string(value)
    if decl.kind == "integer":
        return parse_int(value)
    if decl.kind == "boolean":
        return parse_bool(value)
    if decl.kind == "array":
        return parse_array(value, decl.item_kind)
    if decl.kind == "object":
        return parse_map(value)
    raise TypeError(f"{decl.key}: a field of this type needs parse=")


def read(decl: Setting, raw: Mapping[str, Any]) -> tuple[Any, str | None]:
    """(typed value, None) or (default, the problem line). Never raises for any raw value."""
    if decl.key not in raw or raw[decl.key] is None:
        if decl.required:
            return decl.default, f"{PROJECT}:{decl.key} is not set: {decl.description}"
        return decl.default, None
    value = raw[decl.key]
    try:
        typed = parse_value(decl, value)
        if decl.required and typed in ("", ()):
            return decl.default, f"{PROJECT}:{decl.key} is not set: {decl.description}"
        why = next(filter(None, (check(typed) for check in decl.checks)), None)  # the first failing check
    except Invalid as err:
        return decl.default, problem([decl.key], [value], str(err))
    except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError) as err:
        if decl.parse is None:
            raise  # a bug in a built-in check: let the tests see it
        # A custom parser (parse=) or its checks failed on a value they did not expect: still a refusal by name.
        return decl.default, problem([decl.key], [value], f"could not be read ({type(err).__name__})")
    return (typed, None) if why is None else (decl.default, problem([decl.key], [typed], why))


# ---- declarations --------------------------------------------------------------------------------------------

def declared(cls: type, section: str = "") -> list[Setting]:
    """The settings of one dataclass, with attr/section/kind filled in from its fields."""
    hints = typing.get_type_hints(cls)
    found = []
    for f in dataclasses.fields(cls):
        decl = f.metadata.get("setting")
        if decl is None:
            continue
        kind, item_kind = kind_of(hints[f.name]) if decl.parse is None else ("custom", "")
        found.append(dataclasses.replace(decl, section=section, attr=f.name, kind=kind, item_kind=item_kind))
    return found


def schema_entry(decl: Setting) -> dict[str, Any]:
    """The key's Pulumi.yaml `config:` entry (maps and custom types have no Pulumi type)."""
    entry: dict[str, Any] = {}
    kind = decl.kind
    if decl.kind == "custom":
        kind = {str: "string", int: "integer", bool: "boolean"}.get(type(decl.default), "")
    if kind in ("string", "integer", "boolean", "array"):
        entry["type"] = kind
    if kind == "array":
        entry["items"] = {"type": decl.item_kind or "string"}
    entry["description"] = decl.description
    if not decl.required and decl.default not in (None, "") and kind != "object":
        entry["default"] = list(decl.default) if isinstance(decl.default, tuple) else decl.default
    return entry
