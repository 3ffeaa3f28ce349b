r"""The condition language of policy files.

A condition is a Python-like expression, parsed with :mod:`ast` and accepted only if every node
is on the allow-list below; it is checked against the manifest schema and compiled once into
nested closures. Nothing in a policy file can run code: there are no attribute calls, no
subscripts, no builtins, no lambdas, no comprehensions.

Grammar (informal)::

    expr     := expr 'or' expr | expr 'and' expr | 'not' expr
              | operand (cmp operand)*          # chains: a < b < c
    cmp      := '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in'
    operand  := operand ('+' | '-' | '*' | '/') operand | '-' operand | '(' expr ')'
              | path | 'params.' NAME | literal | list | NAME '(' expr (',' expr)* ')'
    path     := NAME ('.' NAME)*                # a manifest field or derived fact
    literal  := 'string' | "string" | INT | FLOAT | true | false
    list     := '[' literal (',' literal)* ']'

Absent values (a key that is not in the manifest and has no default):

* every comparison, and ``in``/``not in``, with an absent operand is false;
* arithmetic and function calls with an absent argument give absent
  (``defined``, ``missing`` and ``coalesce`` are the exceptions: they are about absence);
* an absent value in a boolean position is false, so ``not x`` is true.

Message templates interpolate ``{path}`` and ``{params.name}`` only, optionally with a noun
to count (``{evaluation.examples:example}`` reads ``1 example``, ``600 examples``;
``{x:query/queries}`` for an irregular plural); ``{{`` and ``}}`` are literal braces. An absent
value reads ``not declared``.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from policylint.schema import ABSENT, FieldType, did_you_mean, number_text, show
from policylint.wording import plural

Namespace = Mapping[str, Any]
Evaluator = Callable[[Namespace], Any]

_NUMERIC = frozenset({"fraction", "count", "number", "integer"})


class ExpressionError(Exception):
    """A condition or template that cannot be compiled; ``column`` is 1-based in the source."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


class Function(NamedTuple):
    """A function conditions may call. ``absent_ok`` functions see absent arguments as such."""

    name: str
    impl: Callable[..., Any]
    arity: int | None  # None: one or more
    doc: str = ""
    absent_ok: bool = False
    returns: FieldType | None = None


def _any_in(values: Any, candidates: Any) -> bool:
    return any(candidate in values for candidate in candidates)


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not ABSENT), ABSENT)


BUILTIN_FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("len", len, 1, "number of items in a list", returns=FieldType("integer")),
        Function("any_in", _any_in, 2, "true when any of the given values is in the list", returns=FieldType("bool")),
        Function("coalesce", _coalesce, None, "the first argument that is present", absent_ok=True),
        Function("abs", abs, 1, "absolute value of a number", returns=FieldType("number")),
        Function("min", min, None, "smallest of the arguments", returns=FieldType("number")),
        Function("max", max, None, "largest of the arguments", returns=FieldType("number")),
    )
}
#: ``defined(path)`` and ``missing(path)`` take a field path itself, not its value.
PRESENCE_FUNCTIONS = ("defined", "missing")

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_SYMBOLS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class _Node(NamedTuple):
    """A compiled sub-expression: how to evaluate it, and what the checker knows of its type."""

    evaluate: Evaluator
    type: FieldType | None = None  # None: unknown (a function's result, say)
    constant: Any = ABSENT  # the value, for literals and params
    path: str | None = None  # the field path, for field reads


class Compiler:
    """Compiles conditions and templates against one schema, one set of params and functions."""

    def __init__(
        self,
        fields: Mapping[str, FieldType],
        params: Mapping[str, Any],
        functions: Mapping[str, Function] | None = None,
    ) -> None:
        self.fields = fields
        self.params = params
        self.functions = {**BUILTIN_FUNCTIONS, **(functions or {})}

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, source: str) -> Callable[[Namespace], bool]:
        """Compile a condition; raises :class:`ExpressionError` with the column of the problem."""
        evaluate = self.predicate(source)
        return lambda ns: bool(evaluate(ns))

    def predicate(self, source: str) -> Evaluator:
        """Like :meth:`condition`, but the result is only truthy or falsy (one call less)."""
        # Newlines become spaces so a long condition may span lines of a TOML multi-line string;
        # leading blanks are kept as columns but stripped for the parser.
        flat = source.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        self._indent = len(flat) - len(flat.lstrip())
        self._source = flat.lstrip()
        if not self._source.strip():
            raise ExpressionError("the condition is empty")
        try:
            tree = ast.parse(self._source, mode="eval")
        except SyntaxError as exc:
            if exc.offset:
                column = self._indent + exc.offset
            else:  # Python gives no offset when the input ends too early
                column = self._indent + len(self._source.rstrip()) + 1
            detail = " (the condition ends too early)" if not exc.offset else ""
            detail += "" if exc.msg == "invalid syntax" else f": {exc.msg}"
            raise ExpressionError(f"invalid syntax{detail}", column) from None
        except (ValueError, MemoryError, RecursionError) as exc:
            raise ExpressionError(f"cannot parse the condition: {exc}") from None
        try:
            node = self._compile(tree.body)
        except RecursionError:
            raise ExpressionError("the condition is nested too deeply") from None
        return node.evaluate

    def _column(self, node: ast.AST) -> int:
        """ast counts UTF-8 bytes; users count characters."""
        prefix = self._source.encode()[: getattr(node, "col_offset", 0)]
        return self._indent + len(prefix.decode("utf-8", "ignore")) + 1

    def _fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self._column(node))

    def _compile(self, node: ast.AST) -> _Node:
        handler = getattr(self, f"_compile_{type(node).__name__}", None)
        if handler is None:
            raise self._fail(node, f"expected a comparison, field, literal or function call; got {_describe(node)}")
        return handler(node)

    def _compile_BoolOp(self, node: ast.BoolOp) -> _Node:
        # ABSENT is falsy, so plain truthiness already reads an absent value as false.
        parts = tuple(self._compile(v).evaluate for v in node.values)
        if len(parts) == 2:
            a, b = parts
            if isinstance(node.op, ast.And):
                return _Node(lambda ns: a(ns) and b(ns), FieldType("bool"))
            return _Node(lambda ns: a(ns) or b(ns), FieldType("bool"))
        if isinstance(node.op, ast.And):
            return _Node(lambda ns: all(p(ns) for p in parts), FieldType("bool"))
        return _Node(lambda ns: any(p(ns) for p in parts), FieldType("bool"))

    def _compile_UnaryOp(self, node: ast.UnaryOp) -> _Node:
        operand = self._compile(node.operand)
        inner = operand.evaluate
        if isinstance(node.op, ast.Not):
            return _Node(lambda ns: not inner(ns), FieldType("bool"))
        if isinstance(node.op, ast.USub):
            self._expect_numeric(node.operand, operand)
            if operand.constant is not ABSENT:
                value = -operand.constant
                return _Node(lambda ns: value, operand.type, constant=value)
            return _Node(lambda ns: _absent_or(inner(ns), operator.neg), operand.type)
        raise self._fail(node, f"unsupported operator {type(node.op).__name__}")

    def _compile_BinOp(self, node: ast.BinOp) -> _Node:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise self._fail(node, f"expected one of + - * /; got {type(node.op).__name__}")
        left, right = self._compile(node.left), self._compile(node.right)
        self._expect_numeric(node.left, left)
        self._expect_numeric(node.right, right)
        a, b = left.evaluate, right.evaluate

        def evaluate(ns: Namespace) -> Any:
            x, y = a(ns), b(ns)
            if x is ABSENT or y is ABSENT:
                return ABSENT
            try:
                return op(x, y)
            except ZeroDivisionError:
                return ABSENT

        return _Node(evaluate, FieldType("number"))

    def _compile_Compare(self, node: ast.Compare) -> _Node:
        operands = [node.left, *node.comparators]
        compiled = [self._compile(o) for o in operands]
        steps = []
        for i, op_node in enumerate(node.ops):
            self._check_comparison(op_node, operands[i], compiled[i], operands[i + 1], compiled[i + 1])
            steps.append(_COMPARE[type(op_node)])
        evaluators = [c.evaluate for c in compiled]
        if len(steps) == 1:
            (compare,), (a, b) = steps, evaluators
            fast = _field_against_constant(compare, *compiled)
            if fast is not None:
                return _Node(fast, FieldType("bool"))

            def single(ns: Namespace) -> bool:
                x, y = a(ns), b(ns)
                return x is not ABSENT and y is not ABSENT and compare(x, y)

            return _Node(single, FieldType("bool"))

        def chained(ns: Namespace) -> bool:
            left = evaluators[0](ns)
            for compare, right_eval in zip(steps, evaluators[1:]):
                right = right_eval(ns)
                if left is ABSENT or right is ABSENT or not compare(left, right):
                    return False
                left = right
            return True

        return _Node(chained, FieldType("bool"))

    def _check_comparison(self, op: ast.cmpop, left_ast: ast.AST, left: _Node, right_ast: ast.AST, right: _Node) -> None:
        if isinstance(op, (ast.In, ast.NotIn)):
            if right.type is not None and right.type.kind != "list":
                raise self._fail(right_ast, f"'in' needs a list on its right; {_name(right)} is {right.type.describe()}")
            item = right.type.item if right.type is not None else None
            self._check_values(left_ast, left, item)
            if right.constant is not ABSENT and left.type is not None:
                self._check_values(right_ast, right, left.type, elementwise=True)
            return
        if isinstance(op, _ORDERING):
            self._expect_numeric(left_ast, left)
            self._expect_numeric(right_ast, right)
            return
        self._check_values(right_ast, right, left.type)
        self._check_values(left_ast, left, right.type)

    def _check_values(self, node: ast.AST, operand: _Node, expected: FieldType | None, elementwise: bool = False) -> None:
        """A literal compared with an enum field must be one of its values (typos never match)."""
        if expected is None or operand.constant is ABSENT or expected.kind != "enum":
            return
        values = operand.constant if elementwise else (operand.constant,)
        for value in values:
            if value not in expected.values:
                hint = did_you_mean(str(value), expected.values) or f" (expected {expected.describe()})"
                raise self._fail(node, f"{value!r} can never match{hint}")

    def _expect_numeric(self, node: ast.AST, operand: _Node) -> None:
        if operand.type is not None and operand.type.kind not in _NUMERIC:
            raise self._fail(node, f"expected a number; {_name(operand)} is {operand.type.describe()}")

    def _compile_Constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, bool):
            return _literal(value, FieldType("bool"))
        if isinstance(value, (int, float)):
            return _literal(value, FieldType("number"))
        if isinstance(value, str):
            return _literal(value, FieldType("string"))
        raise self._fail(node, f"expected a string, number, true or false; got {value!r}")

    def _compile_List(self, node: ast.List | ast.Tuple) -> _Node:
        items = [self._compile(e) for e in node.elts]
        for element, item in zip(node.elts, items):
            if item.constant is ABSENT or isinstance(item.constant, (list, tuple)):
                raise self._fail(element, "a list may hold only literal strings and numbers")
        kinds = {item.type.kind for item in items if item.type is not None}
        item_type = FieldType(kinds.pop()) if len(kinds) == 1 else None
        return _literal(tuple(item.constant for item in items), FieldType("list", item=item_type))

    _compile_Tuple = _compile_List

    def _compile_Name(self, node: ast.Name | ast.Attribute) -> _Node:
        path = _dotted(node)
        if path is None:
            raise self._fail(node, "expected a field path such as task.kind")
        if path in ("true", "false"):
            return _literal(path == "true", FieldType("bool"))
        if path.startswith("params."):
            name = path[len("params.") :]
            if name not in self.params:
                raise self._fail(node, f"unknown parameter {name!r}{did_you_mean(name, self.params)}")
            value = self.params[name]
            kind = "bool" if isinstance(value, bool) else "number"
            return _Node(lambda ns: value, FieldType(kind), constant=value, path=path)
        field_type = self.fields.get(path)
        if field_type is None:
            raise self._fail(node, f"unknown field {path!r}{did_you_mean(path, self.fields)}")
        return _Node(lambda ns: ns.get(path, ABSENT), field_type, path=path)

    _compile_Attribute = _compile_Name

    def _compile_Call(self, node: ast.Call) -> _Node:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name is None:
            raise self._fail(node, "only named functions can be called, e.g. defined(data.examples)")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self._fail(node, f"{name}() takes positional arguments only")
        if name in PRESENCE_FUNCTIONS:
            return self._presence(node, name)
        function = self.functions.get(name)
        if function is None:
            known = [*PRESENCE_FUNCTIONS, *self.functions]
            raise self._fail(node, f"unknown function {name!r}{did_you_mean(name, known)}")
        if (function.arity is None and not node.args) or (function.arity is not None and len(node.args) != function.arity):
            wanted = "at least 1" if function.arity is None else str(function.arity)
            raise self._fail(node, f"{name}() takes {wanted} argument(s), got {len(node.args)}")
        arguments = tuple(self._compile(a).evaluate for a in node.args)
        impl, absent_ok = function.impl, function.absent_ok

        def call(ns: Namespace) -> Any:
            values = [a(ns) for a in arguments]
            if not absent_ok and any(v is ABSENT for v in values):
                return ABSENT
            return impl(*values)

        return _Node(call, function.returns)

    def _presence(self, node: ast.Call, name: str) -> _Node:
        if len(node.args) != 1:
            raise self._fail(node, f"{name}() takes one field path, got {len(node.args)} arguments")
        target = self._compile(node.args[0])
        if target.path is None or target.path.startswith("params."):
            raise self._fail(node.args[0], f"{name}() takes a field path such as data.examples")
        path = target.path
        if name == "defined":
            return _Node(lambda ns: path in ns, FieldType("bool"))
        return _Node(lambda ns: path not in ns, FieldType("bool"))

    # -- templates ----------------------------------------------------------------------------

    def template(self, text: str) -> Callable[[Namespace], str]:
        """Compile a message template; only field paths and params may be interpolated."""
        parts: list[Callable[[Namespace], str]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            parts.append(_const_text(_unescape(text[position : match.start()])))
            name, colon, noun = match.group(1).partition(":")
            column = match.start() + 1
            if not _PATH.fullmatch(name) or (colon and not _NOUN.fullmatch(noun)):
                raise ExpressionError(
                    f"{{{match.group(1)}}}: only a field path or params.<name> may be interpolated, "
                    "optionally with a noun to count, e.g. {{data.examples:example}}",
                    column,
                )
            if name.startswith("params."):
                key = name[len("params.") :]
                if key not in self.params:
                    raise ExpressionError(f"unknown parameter {key!r}{did_you_mean(key, self.params)}", column)
                value = self.params[key]
                parts.append(_const_text(render_count(value, noun) if noun else render(value)))
            elif name in self.fields:
                if noun:
                    parts.append(lambda ns, name=name, noun=noun: render_count(ns.get(name, ABSENT), noun))
                else:
                    parts.append(lambda ns, name=name: render(ns.get(name, ABSENT)))
            else:
                raise ExpressionError(f"unknown field {name!r}{did_you_mean(name, self.fields)}", column)
            position = match.end()
        parts.append(_const_text(_unescape(text[position:])))
        stray = _stray_brace(text)
        if stray is not None:
            raise ExpressionError("unbalanced brace; write {{ or }} for a literal brace", stray + 1)
        return lambda ns: "".join(part(ns) for part in parts)


_PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]*)\}")
_NOUN = re.compile(r"[A-Za-z][A-Za-z -]*(?:/[A-Za-z][A-Za-z -]*)?")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")


def _stray_brace(text: str) -> int | None:
    """The index of a brace that is neither doubled nor part of a placeholder."""
    masked = _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text.replace("{{", "  ").replace("}}", "  "))
    for index, char in enumerate(masked):
        if char in "{}":
            return index
    return None


def _const_text(text: str) -> Callable[[Namespace], str]:
    return lambda ns: text


def _unescape(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


#: How an absent value reads in a message. Policies give absent values their own messages
#: (``[[messages]]``); this is the last resort, and still tells the reader what is wrong.
NOT_DECLARED = "not declared"


def render(value: Any) -> str:
    """A value as a message shows it: 240,000; 0.85; 33,333.33; true; a, b; not declared."""
    if value is ABSENT:
        return NOT_DECLARED
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}" if value.bit_length() <= 64 else show(value)
    if isinstance(value, float):
        return number_text(value, grouping=True)
    if isinstance(value, (list, tuple)):
        return ", ".join(render(v) for v in value) if value else "none"
    return str(value)


def render_count(value: Any, noun: str) -> str:
    """``1 example``, ``600 examples``; ``noun`` is ``singular`` or ``singular/plural``."""
    if value is ABSENT:
        return f"{plural(2, noun).split(' ', 1)[1]} {NOT_DECLARED}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 64:
        return plural(value, noun)
    singular, _, irregular = noun.partition("/")
    return f"{render(value)} {irregular or singular + 's'}"


def _field_against_constant(compare: Callable[[Any, Any], bool], left: _Node, right: _Node) -> Evaluator | None:
    """The common shapes ``field OP constant`` and ``constant OP field``, with one lookup."""
    if left.path and left.constant is ABSENT and right.constant is not ABSENT:
        path, constant = left.path, right.constant

        def field_first(ns: Namespace) -> bool:
            value = ns.get(path, ABSENT)
            return value is not ABSENT and compare(value, constant)

        return field_first
    if right.path and right.constant is ABSENT and left.constant is not ABSENT:
        path, constant = right.path, left.constant

        def constant_first(ns: Namespace) -> bool:
            value = ns.get(path, ABSENT)
            return value is not ABSENT and compare(constant, value)

        return constant_first
    return None


def _absent_or(value: Any, function: Callable[[Any], Any]) -> Any:
    return ABSENT if value is ABSENT else function(value)


def _literal(value: Any, field_type: FieldType) -> _Node:
    return _Node(lambda ns: value, field_type, constant=value)


def _dotted(node: ast.AST) -> str | None:
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    names.append(node.id)
    return ".".join(reversed(names))


def _name(node: _Node) -> str:
    if node.path:
        return node.path
    return repr(node.constant) if node.constant is not ABSENT else "that value"


def _describe(node: ast.AST) -> str:
    names = {
        "Subscript": "a subscript ([...])",
        "Lambda": "a lambda",
        "IfExp": "an if-expression",
        "ListComp": "a comprehension",
        "GeneratorExp": "a comprehension",
        "Dict": "a dict",
        "Set": "a set",
        "JoinedStr": "an f-string",
        "NamedExpr": "an assignment (:=)",
        "Await": "await",
        "Starred": "a starred expression",
    }
    return names.get(type(node).__name__, type(node).__name__)
