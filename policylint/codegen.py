"""Checked conditions compiled to Python functions, so a manifest costs a few calls, not hundreds.

:mod:`policylint.expr` compiles each condition into a tree of closures (the reference, which
``explain``, the trail and the first manifests of a run use) and, when asked, keeps the same
checked tree as data (:class:`~policylint.expr.Code`). This module turns such trees into Python
source, compiled once with :func:`compile`: one function per condition
(:func:`condition_function`), or one per selection of rules that runs them all, messages
included, and returns those that fired (:func:`rules_function`).

Nothing a policy file holds becomes code. Every value the source needs (literals, parameter
values, field paths, texts, functions) is put in a table and read through a name this module
makes up (``_k3``); field values are read into names made up the same way (``_v2``); the only
literals in the generated source are integers this module counts. The generated code runs with
no builtins, so it can reach nothing it was not handed.

Evaluation keeps the closures' semantics: the order in which operands are evaluated and
short-circuited, how absent values and guards behave, what each sub-expression gives, which
exception a rule raises. Reading a namespace has no effect, so a field read more than once is
read once before the conditions run (with, where a membership test asks, whether it is a list
or a string), and a field read once where it is used. Only how many times a value's truth is
tested may differ (Python's own compiler merges repeated tests of ``(a or b) and c``), which no
value a manifest or a well-behaved function gives can tell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from policylint.expr import (
    ABSENT,
    CallSpec,
    Code,
    Evaluator,
    Namespace,
    TemplatePieces,
    _containable,
    _orderable,
    _type_of_value,
    arithmetic,
    negate,
    render,
    render_count,
)

#: How each comparison's text reads as Python; keys are the compiler's own operator texts.
_OPERATORS = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "in", "not in": "not in"}


def _guarded_call(spec: CallSpec) -> Callable[..., Any]:
    """A function as conditions call it: absent when an argument is absent or of the wrong type."""
    impl, absent_ok, checked = spec
    if absent_ok and not checked:
        return impl
    if not absent_ok and len(checked) == 1 and checked[0][0] == 0:
        wanted = checked[0][1]

        def call_first_checked(*values: Any) -> Any:
            for value in values:
                if value is ABSENT:
                    return ABSENT
            if _type_of_value(values[0]) != wanted:
                return ABSENT
            return impl(*values)

        return call_first_checked

    def call(*values: Any) -> Any:
        if not absent_ok:
            for value in values:
                if value is ABSENT:
                    return ABSENT
        for index, wanted in checked:
            if _type_of_value(values[index]) != wanted:
                return ABSENT
        return impl(*values)

    return call


#: What every generated function may use, by the names the source gives them.
_RUNTIME: dict[str, Any] = {
    "__builtins__": {},
    "_A": ABSENT,
    "_neg": negate,
    "_arith": arithmetic,
    "_ord": _orderable,
    "_cont": _containable,
    "_isinstance": isinstance,
    "_str": str,
    "_sequence_or_str": (list, tuple, str),
    "_MemoryError": MemoryError,
    "_join": "".join,
    "_render": render,
    "_render_count": render_count,
    "_Exception": Exception,
}


class _Operand(NamedTuple):
    """An operand's source. ``pure``: evaluating it has no effect and cannot raise (a field read,
    a membership test of the namespace, a value), so it may be evaluated in any order or not at
    all; ``atom``: a name, free to repeat; ``present``: known not to be absent."""

    text: str
    pure: bool
    atom: bool = False
    present: bool = False


def _field_uses(codes: Iterable[Code]) -> dict[str, int]:
    """How often each field is read in ``codes``."""
    uses: dict[str, int] = {}
    stack = list(codes)
    while stack:
        code = stack.pop()
        if code.kind == "field":
            uses[code.value] = uses.get(code.value, 0) + 1
        stack.extend(code.parts)
    return uses


class _Writer:
    """Turns :class:`Code` trees into Python expressions, collecting the tables they read.

    A field read more than once is read into a name before the conditions run (``_v2``), and
    so is whether it is a list or a string where a membership test asks (``_s0``: ``isinstance``
    of a namespace's value has no effect); a field read once is read where it is used.
    """

    def __init__(self, codes: Iterable[Code]) -> None:
        self.globals: dict[str, Any] = dict(_RUNTIME)
        self._read_first = {path for path, uses in _field_uses(codes).items() if uses > 1}
        self._fields: dict[str, str] = {}  # path -> the name its value is read into
        self._kinds: dict[tuple[str, str], str] = {}  # (a field's name, a type tuple's name) -> name of the test
        self._values: dict[int, str] = {}  # id of a table value -> its name
        self._temporaries = 0

    def value(self, value: Any, prefix: str = "_k") -> str:
        """The name a table value is read through (each value once)."""
        name = self._values.get(id(value))
        if name is None:
            name = f"{prefix}{len(self._values)}"
            self._values[id(value)] = name
            self.globals[name] = value
        return name

    def field(self, path: str) -> _Operand:
        if path not in self._read_first:
            return _Operand(f"_get({self.value(path)}, _A)", True)
        name = self._fields.get(path)
        if name is None:
            name = self._fields[path] = f"_v{len(self._fields)}"
        return _Operand(name, True, True)

    def is_instance(self, operand: _Operand, types: str) -> str:
        """``isinstance(operand, types)``; for a field read first, worked out once with it."""
        if not (operand.atom and operand.text.startswith("_v")):
            return f"_isinstance({operand.text}, {types})"
        key = (operand.text, types)
        name = self._kinds.get(key)
        if name is None:
            name = self._kinds[key] = f"_s{len(self._kinds)}"
        return name

    def temporary(self) -> str:
        self._temporaries += 1
        return f"_t{self._temporaries}"

    def field_reads(self, indent: str) -> list[str]:
        """Statements that read the fields read more than once, before the conditions."""
        lines = [f"{indent}_get = ns.get"]
        lines += [f"{indent}{name} = _get({self.value(path)}, _A)" for path, name in self._fields.items()]
        lines += [f"{indent}{name} = _isinstance({field}, {types})" for (field, types), name in self._kinds.items()]
        return lines

    def template(self, pieces: TemplatePieces) -> str:
        """A message as the closures make it: its pieces joined, fields rendered."""
        parts: list[str] = []
        text_run: list[str] = []  # adjacent texts (a parameter's and the template's), joined once here
        for kind, text, noun in pieces:
            if kind == "text":
                text_run.append(text)
                continue
            if kind != "field":
                raise ValueError(f"unknown template piece {kind!r}")
            if "".join(text_run):
                parts.append(self.value("".join(text_run)))
            text_run = []
            value = self.field(text).text
            parts.append(f"_render_count({value}, {self.value(noun)})" if noun else f"_render({value})")
        if "".join(text_run) or not parts:
            parts.append(self.value("".join(text_run)))
        if len(parts) == 1 and not any(kind == "field" for kind, _, _ in pieces):
            return parts[0]  # a text alone is the message
        return f"_join(({', '.join(parts)},))"

    # -- expressions ------------------------------------------------------------------------

    def expression(self, code: Code) -> str:
        return self.operand(code).text

    def operand(self, code: Code) -> _Operand:
        kind = code.kind
        if kind == "const":
            return _Operand(self.value(code.value), True, True, code.value is not ABSENT)
        if kind == "field":
            return self.field(code.value)
        if kind == "defined":
            return _Operand(f"({self.value(code.value)} in ns)", True, False, True)
        if kind == "missing":
            return _Operand(f"({self.value(code.value)} not in ns)", True, False, True)
        if kind in ("and", "or"):
            joined = f" {kind} ".join(self.expression(part) for part in code.parts)
            if len(code.parts) == 2:  # like Python's, the result is an operand
                return _Operand(f"({joined})", False)
            # all() and any(): True or False, each part tested in turn
            return _Operand(f"(True if {joined} else False)", False, False, True)
        if kind == "not":
            return _Operand(f"(not {self.expression(code.parts[0])})", False, False, True)
        if kind == "neg":
            return _Operand(f"_neg({self.expression(code.parts[0])})", False)
        if kind == "arith":
            left, right = (self.expression(part) for part in code.parts)
            return _Operand(f"_arith({self.value(code.value)}, {left}, {right})", False)
        if kind == "call":
            function = self.value(_guarded_call(code.value), "_f")
            return _Operand(f"{function}({', '.join(self.expression(part) for part in code.parts)})", False)
        if kind == "compare":
            return self._compare(code)
        raise ValueError(f"no code for a node of kind {kind!r}")

    def _compare(self, code: Code) -> _Operand:
        """A comparison, evaluated as the closures do: the first two operands, then their tests,
        then each further operand and its test; an absent operand makes the whole false."""
        operands = [self.operand(part) for part in code.parts]
        names: list[str] = []
        checks: list[str] = []  # per operand: how it is evaluated and found present ("": nothing to do)
        for operand in operands:
            if operand.atom or (operand.pure and operand.present):  # evaluated where the test uses it
                names.append(operand.text)
                checks.append("" if operand.present else f"{operand.text} is not _A")
            else:
                temporary = self.temporary()
                names.append(temporary)
                checks.append(f"({temporary} := {operand.text}) is not _A")
        tests = []
        for index, (operator, guard) in enumerate(code.steps):
            left, right = code.parts[index], code.parts[index + 1]
            test, left_present, right_present = self._test(operator, guard, names[index], names[index + 1], left, right)
            tests.append(test)
            # a test that is false for an absent operand needs no check of a name
            if left_present and operands[index].atom and len(code.steps) == 1:
                checks[index] = ""
            if right_present and operands[index + 1].atom and len(code.steps) == 1:
                checks[index + 1] = ""
        terms = self._evaluate_both(operands[0], checks[0], operands[1], checks[1])
        for index, test in enumerate(tests):
            if index > 0 and checks[index + 1]:
                terms.append(checks[index + 1])
            terms.append(test)
        joined = " and ".join(terms)
        if len(code.steps) == 1:  # the test's own result, as the closure returns it
            return _Operand(f"({joined})" if len(terms) > 1 else joined, False)
        return _Operand(f"(True if {joined} else False)", False, False, True)

    @staticmethod
    def _evaluate_both(first: _Operand, first_check: str, second: _Operand, second_check: str) -> list[str]:
        """Both operands of a first step are evaluated before either is tested."""
        if not first.pure and not second.pure:  # & does not short-circuit: the second runs too
            return [f"(({first_check}) & ({second_check}))"]
        if first.pure and not second.pure:  # a pure operand may be tested after the other runs
            return [check for check in (second_check, first_check) if check]
        return [check for check in (first_check, second_check) if check]

    def _test(
        self, operator: str, guard: str | None, left: str, right: str, left_code: Code, right_code: Code
    ) -> tuple[str, bool, bool]:
        """One step's test, and whether it is false when its left, its right operand is absent
        (so that operand needs no check of its own)."""
        symbol = _OPERATORS[operator]
        test = f"{left} {symbol} {right}"
        if guard is None:
            return f"({test})", False, False
        if guard == "order":
            return f"(_ord({left}, {right}) and {test})", True, True
        if guard != "contain":
            raise ValueError(f"unknown guard {guard!r}")
        # _containable(a, b), told what the literal operands already say
        if right_code.kind == "const" and isinstance(right_code.value, (list, tuple)):
            return f"({test})", False, False
        if right_code.kind == "const" and isinstance(right_code.value, str):
            return f"({self.is_instance(_Operand(left, True, True), '_str')} and {test})", True, False
        if left_code.kind == "const" and isinstance(left_code.value, str):
            return f"({self.is_instance(_Operand(right, True, True), '_sequence_or_str')} and {test})", False, True
        return f"(_cont({left}, {right}) and {test})", False, False


def _on_failure(index: int) -> list[str]:
    """The end of a rule's try: its errors (but MemoryError) stop the run, naming the rule."""
    return [
        "    except _MemoryError:",
        "        raise",
        "    except _Exception as _e:",
        f"        raise _fail(_path, {index}, _e) from _e",
    ]


def _compiled(source: str, table: dict[str, Any], name: str) -> Any:
    """Compile generated source and take the function it defines."""
    exec(compile(source, f"<policylint {name}>", "exec"), table)  # noqa: S102 - generated, no user text
    return table[name]


#: What compiling generated source may raise for a tree Python's compiler finds too deep.
_TOO_DEEP = (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError)


def condition_source(code: Code) -> tuple[str, dict[str, Any]]:
    """The source of :func:`condition_function` and the table it reads (its globals)."""
    writer = _Writer([code])
    expression = writer.expression(code)
    lines = ["def _condition(ns):", *writer.field_reads("    "), f"    return {expression}"]
    return "\n".join(lines) + "\n", writer.globals


def condition_function(code: Code) -> Evaluator:
    """One condition as one function, returning what its closure returns."""
    source, table = condition_source(code)
    return _compiled(source, table, "_condition")  # type: ignore[no-any-return]


class Rule(NamedTuple):
    """One rule for :func:`rules_function`: its condition as data (None: call ``condition``),
    and what gives its messages when it fires (a policy's one message, or a check's list)."""

    code: Code | None
    condition: Evaluator | None
    messages: Callable[[Namespace], Any]
    #: True when ``messages`` gives a list of messages (a plugin's check, run every time).
    is_check: bool = False
    #: A policy's message as data: each ``[[messages]]`` entry's ``when`` and text, in order...
    variants: tuple[tuple[Code, TemplatePieces], ...] = ()
    #: ...and the text when none holds; None: call ``messages`` instead.
    default: TemplatePieces | None = None

    def codes(self) -> Iterator[Code]:
        """Every condition of this rule as data, and its messages' fields as field reads."""
        if self.code is not None:
            yield self.code
        if self.default is not None:
            for when, _ in self.variants:
                yield when
            for pieces in (*(pieces for _, pieces in self.variants), self.default):
                yield from (Code("field", path) for kind, path, _ in pieces if kind == "field")


RulesFunction = Callable[[Namespace, str], list[tuple[int, list[str]]]]
FailureFactory = Callable[[str, int, Exception], Exception]


def rules_function(rules: Sequence[Rule], fail: FailureFactory) -> RulesFunction:
    """All rules as one function of ``(ns, path)`` giving ``(index, messages)`` for each that fired.

    A rule that raises (anything but MemoryError) stops it: ``fail(path, index, exc)`` makes
    the error it raises, from ``exc``. A condition Python cannot compile (nested too deeply for
    its parser) runs its closure instead.
    """
    try:
        return _rules_function(rules, fail, set())
    except _TOO_DEEP:
        pass
    by_closure = set()
    for index, rule in enumerate(rules):
        try:
            for code in rule.codes():
                condition_function(code)
        except _TOO_DEEP:
            by_closure.add(index)
    try:
        return _rules_function(rules, fail, by_closure)
    except _TOO_DEEP:  # a condition that compiles alone, but not a few levels deeper in the function
        return _rules_function(rules, fail, range(len(rules)))  # every rule by its closures: flat


def _rules_function(rules: Sequence[Rule], fail: FailureFactory, by_closure: Iterable[int]) -> RulesFunction:
    source, table = rules_source(rules, fail, by_closure)
    return _compiled(source, table, "_rules")  # type: ignore[no-any-return]


def rules_source(rules: Sequence[Rule], fail: FailureFactory, by_closure: Iterable[int] = ()) -> tuple[str, dict[str, Any]]:
    """The source of :func:`rules_function` and the table it reads; ``by_closure``: the indexes
    of rules whose condition runs its closure."""
    closures = set(by_closure)
    writer = _Writer(code for index, rule in enumerate(rules) if index not in closures for code in rule.codes())
    writer.globals["_fail"] = fail
    body: list[str] = []
    for index, rule in enumerate(rules):
        body += ["    try:"]
        if rule.is_check:
            body += [f"        _r = {writer.value(rule.messages, '_m')}(ns)", "        if _r:",
                     f"            _fired.append(({index}, _r))"]
            body += _on_failure(index)
            continue
        if rule.code is None or index in closures:
            assert rule.condition is not None
            body += [f"        if {writer.value(rule.condition, '_c')}(ns):",
                     f"            _fired.append(({index}, [{writer.value(rule.messages, '_m')}(ns)]))"]
            body += _on_failure(index)
            continue
        body += [f"        if {writer.expression(rule.code)}:"]
        if rule.default is None:
            body += [f"            _fired.append(({index}, [{writer.value(rule.messages, '_m')}(ns)]))"]
        else:  # the first [[messages]] entry whose when holds, else the default text
            for number, (when, pieces) in enumerate(rule.variants):
                body += [f"            {'el' if number else ''}if {writer.expression(when)}:",
                         f"                _fired.append(({index}, [{writer.template(pieces)}]))"]
            indent = "                " if rule.variants else "            "
            body += ["            else:"] if rule.variants else []
            body += [f"{indent}_fired.append(({index}, [{writer.template(rule.default)}]))"]
        body += _on_failure(index)
    lines = ["def _rules(ns, _path):", *writer.field_reads("    "), "    _fired = []", *body, "    return _fired"]
    return "\n".join(lines) + "\n", writer.globals
