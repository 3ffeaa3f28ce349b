r"""The condition language of policy files.

A condition is parsed with :mod:`ast`, accepted only if every node and operator is on the
allow-list below (anything else is an :class:`ExpressionError` at its column), checked against
the manifest schema and the functions' signatures, and compiled once into nested closures.
Nothing in a policy file can run code: there are no attribute calls, no subscripts, no
builtins, no lambdas, no comprehensions. What compiles evaluates without raising on every
manifest the schema accepts.

Grammar (the whole language; Python's precedence)::

    condition  := or_test
    or_test    := and_test ('or' and_test)*
    and_test   := not_test ('and' not_test)*
    not_test   := 'not' not_test | comparison
    comparison := sum (compare sum)*             # a chain: a < b <= c is a < b and b <= c
                | sum ('in' | 'not in') sum      # never chained: a in b in c is an error
    compare    := '==' | '!=' | '<' | '<=' | '>' | '>='
    sum        := term (('+' | '-') term)*
    term       := factor (('*' | '/') factor)*
    factor     := '-' factor | atom
    atom       := '(' condition ')' | call | path | NUMBER | STRING | 'true' | 'false' | list
    call       := NAME '(' [condition (',' condition)* [',']] ')'  # positional arguments only
    path       := NAME ('.' NAME)*               # a manifest field, a derived fact, params.NAME
    list       := '[' [item (',' item)* [',']] ']'                 # items all of one kind
    item       := '-'* NUMBER | STRING | 'true' | 'false'
    NAME       := a Python identifier (not a keyword)
    NUMBER     := decimal: DIGITS ['.' [DIGITS]] [EXPONENT] | '.' DIGITS [EXPONENT]
                  (DIGITS may hold '_' between digits; no 0x, 0o, 0b, no j)
    STRING     := a Python string literal, '...' or "..." (no f-strings, no bytes); adjacent
                  literals join

Newlines count as spaces, so a condition may span the lines of a TOML multi-line string.
Refused with a hint: ``is``/``is not`` (use ``==``/``!=``), ``True``/``False`` (write
``true``/``false``), ``None`` (use ``missing(path)``), tuples (write a list), ``**``, ``//``,
``%``, bitwise operators, unary ``+`` and ``~``, subscripts, attribute calls, keyword and
starred arguments, lambdas, if-expressions, comprehensions, dicts, sets, f-strings, ``:=``.

Types, checked when the pack loads. A value is a *number* (fields of kind fraction, count,
number or integer, numeric literals, parameters), a *string* (string, text and enum fields),
*true or false*, a *list*, a *table* or a *date*:

* ``+ - * /`` and unary ``-`` take numbers; ``< <= > >=`` compare numbers;
* ``==`` and ``!=`` compare two values of the same type; a string compared with an enum field
  (or looked up in a list of enum values) must be one of its values, as typos never match;
* ``x in y`` needs a list or a string ``y``: ``x`` is of the list's item type, or a string;
* the functions' parameters are typed: ``len(list)``, ``abs(number)``, ``min(number, ...)``,
  ``max(number, ...)``, ``any_in(list, list)``, ``coalesce(x, ...)`` with arguments of one
  type (its result has that type), ``defined(path)`` and ``missing(path)`` take a path itself;
  a plugin's function declares its parameters' types with :attr:`Function.takes` (untyped: any);
* a value whose type the compiler cannot know (the result of a plugin's function) is checked
  when the condition runs instead: where it does not fit, it reads as absent. Typed arguments
  are checked again then too, so a function never sees a value of a type it did not declare.

Absent values (a key that is not in the manifest and has no default):

* every comparison, and ``in``/``not in``, with an absent operand is false;
* arithmetic and function calls with an absent argument give absent, and so does division by
  zero or a result too large for a float (``defined``, ``missing`` and ``coalesce`` are the
  exceptions: they are about absence);
* an absent value in a boolean position is false, so ``not x`` is true.

Limits, each a located error naming the limit (so a policy file cannot make loading or
evaluating slow, and evaluation cannot exhaust the stack): a condition of at most 10,000
characters (:data:`MAX_SOURCE_CHARS`), nested at most 50 levels deep (:data:`MAX_DEPTH`);
numeric literals of at most 30 characters (:data:`MAX_NUMBER_CHARS`) and at most 10^15 in
magnitude (:data:`MAX_NUMBER`); string literals of at most 1,000 characters
(:data:`MAX_STRING_CHARS`); list literals of at most 1,000 items (:data:`MAX_LIST_ITEMS`).

Message templates interpolate ``{path}`` and ``{params.name}`` only, optionally with a noun
to count (``{evaluation.examples:example}`` reads ``1 example``, ``600 examples``;
``{x:query/queries}`` for an irregular plural); ``{{`` and ``}}`` are literal braces. An absent
value reads ``not declared``; a list reads as its items joined with commas; a table cannot be
interpolated (name one of its keys).
"""

from __future__ import annotations

import ast
import datetime
import operator
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

from policylint.schema import ABSENT, FieldType, did_you_mean, is_number, number_text, show
from policylint.wording import plural

Namespace = Mapping[str, Any]
Evaluator = Callable[[Namespace], Any]

#: The longest condition, in characters.
MAX_SOURCE_CHARS = 10_000
#: The deepest nesting of the syntax tree (a sum of 50 terms is 50 deep): evaluation recurses.
MAX_DEPTH = 50
#: The longest numeric literal, in characters, and the largest magnitude one may have.
MAX_NUMBER_CHARS = 30
MAX_NUMBER = 10**15
#: The longest string literal, in characters.
MAX_STRING_CHARS = 1_000
#: The most items a list literal may hold.
MAX_LIST_ITEMS = 1_000


class ExpressionError(Exception):
    """A condition or template that cannot be compiled; ``column`` is 1-based in the source."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


class Function(NamedTuple):
    """A function conditions may call. ``absent_ok`` functions see absent arguments as such.

    ``takes`` declares the parameters' types, checked against every call when the pack loads:
    one of ``"number"``, ``"string"``, ``"bool"``, ``"list"`` or ``"any"`` per parameter (one
    for all of them when ``arity`` is None), or ``"same"`` for arguments of one type, which
    the result then has. None (the default) takes anything, as plugins' functions always did.
    A call whose argument does not fit when the condition runs (a value of unknown type) is
    absent, so the function never sees it.
    """

    name: str
    impl: Callable[..., Any]
    arity: int | None  # None: one or more
    doc: str = ""
    absent_ok: bool = False
    returns: FieldType | None = None
    takes: tuple[str, ...] | None = None


def _any_in(values: Any, candidates: Any) -> bool:
    return any(candidate in values for candidate in candidates)


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not ABSENT), ABSENT)


def _smallest(*values: Any) -> Any:
    return min(values)  # not min(*values): min(x) of one number would iterate it


def _largest(*values: Any) -> Any:
    return max(values)


BUILTIN_FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("len", len, 1, "number of items in a list", returns=FieldType("integer"), takes=("list",)),
        Function("any_in", _any_in, 2, "true when any of the given values is in the list", returns=FieldType("bool"),
                 takes=("list", "list")),
        Function("coalesce", _coalesce, None, "the first argument that is present", absent_ok=True, takes=("same",)),
        Function("abs", abs, 1, "absolute value of a number", returns=FieldType("number"), takes=("number",)),
        Function("min", _smallest, None, "smallest of the arguments", returns=FieldType("number"), takes=("number",)),
        Function("max", _largest, None, "largest of the arguments", returns=FieldType("number"), takes=("number",)),
    )
}
#: ``defined(path)`` and ``missing(path)`` take a field path itself, not its value.
PRESENCE_FUNCTIONS = ("defined", "missing")

# -- the allow-list: every node and operator the language has -------------------------------

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
_MEMBERSHIP = (ast.In, ast.NotIn)
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY = (ast.Not, ast.USub)
_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%",
    ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
    ast.UAdd: "+", ast.Invert: "~", ast.Is: "is", ast.IsNot: "is", ast.In: "in", ast.NotIn: "not",
}
#: Operators Python has and the language refuses, with what to write instead.
_REFUSED_OPERATORS: dict[type[ast.AST], str] = {
    ast.Is: "'is' is not supported; use ==",
    ast.IsNot: "'is not' is not supported; use !=",
    ast.Pow: "'**' is not supported; the arithmetic operators are + - * /",
    ast.FloorDiv: "'//' is not supported; use /",
    ast.Mod: "'%' is not supported; the arithmetic operators are + - * /",
    ast.MatMult: "'@' is not supported; the arithmetic operators are + - * /",
    ast.BitAnd: "'&' is not supported; use and",
    ast.BitOr: "'|' is not supported; use or",
    ast.BitXor: "'^' is not supported; use !=",
    ast.LShift: "'<<' is not supported; the arithmetic operators are + - * /",
    ast.RShift: "'>>' is not supported; the arithmetic operators are + - * /",
    ast.UAdd: "unary '+' is not supported; drop it",
    ast.Invert: "'~' is not supported; use not",
}
#: Syntax Python has and the language refuses, with what to write instead.
_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Subscript: "a subscript ([...]) is not supported; test membership with in",
    ast.Lambda: "a lambda is not supported",
    ast.IfExp: "an if-expression is not supported; combine conditions with and, or",
    ast.ListComp: "a comprehension is not supported; use any_in(list, [...])",
    ast.SetComp: "a comprehension is not supported; use any_in(list, [...])",
    ast.DictComp: "a comprehension is not supported; use any_in(list, [...])",
    ast.GeneratorExp: "a comprehension is not supported; use any_in(list, [...])",
    ast.Dict: "a dict is not supported; write a list [...]",
    ast.Set: "a set is not supported; write a list [...]",
    ast.Tuple: "a tuple is not supported; write a list [...]",
    ast.JoinedStr: "an f-string is not supported; write a plain string",
    ast.NamedExpr: "an assignment (:=) is not supported; compare with ==",
    ast.Starred: "a starred expression (*x) is not supported",
    ast.Await: "await is not supported",
    ast.Yield: "yield is not supported",
    ast.YieldFrom: "yield is not supported",
    ast.Slice: "a slice is not supported",
}
_NUMBER = re.compile(r"(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?")

# -- types ----------------------------------------------------------------------------------

#: Each field kind's type as the checker sees it; a kind not here (``any``) is unknown.
_TYPE_OF_KIND = {
    "fraction": "number", "count": "number", "number": "number", "integer": "number", "waiver-days": "number",
    "string": "string", "text": "string", "enum": "string", "rule-pattern": "string",
    "bool": "bool", "list": "list", "table": "table", "date": "date",
}
#: Parameter types a :class:`Function` may declare.
PARAMETER_TYPES = frozenset({"number", "string", "bool", "list", "any", "same"})
_A = {"number": "a number", "string": "a string", "bool": "true or false", "list": "a list", "table": "a table",
      "date": "a date"}
_PLURAL = {"number": "numbers", "string": "strings", "bool": "true or false", "list": "lists"}


def _type(field_type: FieldType | None) -> str | None:
    """The checker's type of a field type; None when unknown (checked at run time instead)."""
    return None if field_type is None else _TYPE_OF_KIND.get(field_type.kind)


#: The common exact types, looked up before the isinstance chain (which subclasses still need).
_TYPE_OF_EXACT_TYPE: dict[type, str] = {
    bool: "bool", int: "number", float: "number", str: "string", list: "list", tuple: "list", dict: "table",
}


def _type_of_value(value: Any) -> str | None:
    """The type of a value at run time, as :func:`_type` names it."""
    exact = _TYPE_OF_EXACT_TYPE.get(type(value))
    if exact is not None:
        return exact
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime.date):
        return "date"
    return None


def _what(field_type: FieldType) -> str:
    """A field type in a few words: ``a count``, ``one of 'a', 'b'``, ``a list``."""
    if field_type.kind in ("fraction", "count"):
        return f"a {field_type.kind}"
    if field_type.kind == "integer":
        return "an integer"
    if field_type.kind == "enum":
        return field_type.describe()
    return _A.get(_type(field_type) or "", "a value")


def _orderable(a: Any, b: Any) -> bool:
    return is_number(a) and is_number(b)


def arithmetic(op: Callable[[Any, Any], Any], x: Any, y: Any) -> Any:
    """``x op y`` as conditions compute it (the closures and generated code alike): absent when
    an operand is absent or no number, or when the result is undefined (division by zero)."""
    if not (is_number(x) and is_number(y)):  # absent, or a value of unknown type that is no number
        return ABSENT
    try:
        return op(x, y)
    except (ZeroDivisionError, OverflowError):
        return ABSENT


def _containable(a: Any, b: Any) -> bool:
    return isinstance(b, (list, tuple)) or (isinstance(b, str) and isinstance(a, str))


class Code(NamedTuple):
    """A checked sub-expression as data, which :mod:`policylint.codegen` turns into Python.

    The closures are the reference; this is the same tree, kept so a whole pack can be compiled
    into one function. ``kind`` is one of ``const`` (``value``: a literal's or a parameter's
    value), ``field`` (``value``: the path), ``defined`` and ``missing`` (``value``: the path),
    ``and``/``or`` (``parts``; with more than two the result is True or False), ``not``, ``neg``
    (one part), ``arith`` (``value``: the :mod:`operator` function; two parts), ``compare``
    (``parts``: the operands; ``steps``: each operator's text and its guard, ``order`` or
    ``contain`` or None) and ``call`` (``value``: a :class:`CallSpec`; ``parts``: arguments).
    """

    kind: str
    value: Any = None
    parts: tuple[Code, ...] = ()
    steps: tuple[tuple[str, str | None], ...] = ()


_NO_CODE = Code("none")  # what a compiler without codes gives every node


class CallSpec(NamedTuple):
    """How a function call runs: ``checked`` pairs an argument's index with the type it must have."""

    impl: Callable[..., Any]
    absent_ok: bool
    checked: tuple[tuple[int, str], ...]


class _Node(NamedTuple):
    """A compiled sub-expression: how to evaluate it, and what the checker knows of its type."""

    evaluate: Evaluator
    type: FieldType | None = None  # None: unknown (a function's result, say)
    constant: Any = ABSENT  # the value, for literals and params
    path: str | None = None  # the field path, for field reads
    code: Code = Code("const", ABSENT)  # the same sub-expression as data, for codegen


class Operand(NamedTuple):
    """One side of a comparison as the source wrote it; ``evaluate`` is None for a literal."""

    text: str
    evaluate: Evaluator | None
    path: str | None = None  # a field path or ``params.name``, when the operand is one


class Comparison(NamedTuple):
    """A comparison (or a ``defined``/``missing`` test) inside a condition, for ``explain``:
    its operands in source order, the operators between them, and what the whole test gives."""

    text: str
    operands: tuple[Operand, ...]
    operators: tuple[str, ...]  # empty for defined()/missing(), whose operand is the path
    evaluate: Evaluator


class CompiledCondition(NamedTuple):
    """A compiled condition and what it reads, like pytest's ``Expression.idents()``.

    ``fields`` are manifest paths and derived facts, ``params`` parameter names (without
    ``params.``), ``comparisons`` the tests it is made of, in source order.
    """

    evaluate: Evaluator
    fields: frozenset[str]
    params: frozenset[str]
    comparisons: tuple[Comparison, ...] = ()
    #: The checked tree as data, for :mod:`policylint.codegen` (None only if built by hand).
    code: Code | None = None


#: A message template as data, for :mod:`policylint.codegen`: in order, ``("text", text, "")``
#: (parameters already rendered) and ``("field", path, noun)`` (noun empty when not counted).
TemplatePieces: TypeAlias = tuple[tuple[str, str, str], ...]


class CompiledTemplate(NamedTuple):
    """A compiled message template and the fields and parameters it interpolates."""

    render: Callable[[Namespace], str]
    fields: frozenset[str]
    params: frozenset[str]
    pieces: TemplatePieces = ()


_OPERATOR_TEXT: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
    ast.NotIn: "not in",
}


class Compiler:
    """Compiles conditions and templates against one schema, one set of params and functions."""

    def __init__(
        self,
        fields: Mapping[str, FieldType],
        params: Mapping[str, Any],
        functions: Mapping[str, Function] | None = None,
        *,
        with_code: bool = True,
    ) -> None:
        self.fields = fields
        self.params = params
        #: Whether conditions keep their tree as data (:class:`Code`), which only codegen needs:
        #: a one-manifest check compiles without (about 5% of compiling a condition).
        self.with_code = with_code
        self.functions = {**BUILTIN_FUNCTIONS, **(functions or {})}
        for function in self.functions.values():
            _check_signature(function)
        # What the condition being compiled reads: paths (``params.x`` included) and comparisons.
        self._reads: set[str] = set()
        self._comparisons: list[Comparison] = []
        self._template_reads: set[str] = set()
        self._template_pieces: list[tuple[str, str, str]] = []

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, source: str) -> Callable[[Namespace], bool]:
        """Compile a condition; raises :class:`ExpressionError` with the column of the problem."""
        evaluate = self.predicate(source)
        return lambda ns: bool(evaluate(ns))

    def compile_condition(self, source: str) -> CompiledCondition:
        """Compile a condition (as :meth:`predicate`) and say which fields and parameters it reads."""
        node = self._predicate_node(source)
        fields, params = _split_reads(self._reads)
        return CompiledCondition(node.evaluate, fields, params, tuple(self._comparisons),
                                 node.code if self.with_code else None)

    def predicate(self, source: str) -> Evaluator:
        """Like :meth:`condition`, but the result is only truthy or falsy (one call less)."""
        return self._predicate_node(source).evaluate

    def _predicate_node(self, source: str) -> _Node:
        self._reads, self._comparisons = set(), []
        if len(source) > MAX_SOURCE_CHARS:
            raise ExpressionError(
                f"the condition is {len(source):,} characters long; the limit is {MAX_SOURCE_CHARS:,}", MAX_SOURCE_CHARS + 1
            )
        # Newlines become spaces so a long condition may span lines of a TOML multi-line string;
        # leading blanks are kept as columns but stripped for the parser.
        flat = source.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        self._indent = len(flat) - len(flat.lstrip())
        self._source = flat.lstrip()
        if not self._source.strip():
            raise ExpressionError("the condition is empty")
        if "\x00" in self._source:
            raise ExpressionError("the condition contains a NUL character", self._indent + self._source.index("\x00") + 1)
        try:
            with warnings.catch_warnings():  # "is with a literal" and the like: refused below anyway
                warnings.simplefilter("ignore")
                tree = ast.parse(self._source, mode="eval")
        except SyntaxError as exc:
            too_long = _LONG_DIGITS.search(self._source)
            if too_long:  # Python refuses some (4,300 digits), and places none: name our limit
                raise ExpressionError(_number_too_long(too_long.group()), self._indent + too_long.start() + 1) from None
            if exc.offset:
                column = self._indent + exc.offset
            else:  # Python gives no offset when the input ends too early
                column = self._indent + len(self._source.rstrip()) + 1
            detail = " (the condition ends too early)" if not exc.offset else ""
            detail += "" if exc.msg == "invalid syntax" else f": {exc.msg}"
            raise ExpressionError(f"invalid syntax{detail}", column) from None
        except (ValueError, MemoryError, RecursionError) as exc:
            raise ExpressionError(f"cannot parse the condition: {exc}") from None
        self._bytes = self._source.encode()
        self._check_depth(tree.body)
        try:
            node = self._compile(tree.body)
        except RecursionError:  # not reached within MAX_DEPTH; kept so no input can escape
            raise ExpressionError("the condition is nested too deeply") from None
        return node

    def _check_depth(self, root: ast.AST) -> None:
        """Evaluation recurses once per level: refuse a tree deeper than MAX_DEPTH (iteratively)."""
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise self._fail(node, f"the condition is nested more than {MAX_DEPTH} levels deep; split it")
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))

    def _column_at(self, offset: int) -> int:
        """ast counts UTF-8 bytes; users count characters."""
        return self._indent + len(self._bytes[:offset].decode("utf-8", "ignore")) + 1

    def _column(self, node: ast.AST) -> int:
        return self._column_at(getattr(node, "col_offset", 0))

    def _operator_column(self, left: ast.AST, right: ast.AST, op: ast.AST) -> int:
        """Operators carry no position: find the symbol between the operands."""
        start, end = getattr(left, "end_col_offset", 0) or 0, getattr(right, "col_offset", 0)
        found = self._bytes.find(_SYMBOLS.get(type(op), "?").encode(), start, end)
        return self._column_at(found if found >= 0 else getattr(left, "col_offset", 0))

    def _full_text(self, node: ast.AST) -> str:
        """The source of a node, whole (for ``explain``)."""
        start, end = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None) or 0
        return self._bytes[start:end].decode("utf-8", "replace")

    def _text(self, node: ast.AST) -> str:
        """The source of a node, shortened for a message."""
        start, end = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None) or 0
        text = self._bytes[start:end].decode("utf-8", "replace")
        return text if len(text) <= 40 else text[:37] + "..."

    def _fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self._column(node))

    def _code(self, kind: str, value: Any, children: Sequence[_Node] = (), steps: tuple[tuple[str, str | None], ...] = ()) -> Code:
        """A node's :class:`Code`, from its children's, when this compiler keeps them."""
        if not self.with_code:
            return _NO_CODE
        return Code(kind, value, tuple([child.code for child in children]), steps)

    def _compile(self, node: ast.AST) -> _Node:
        handler = self._HANDLERS.get(type(node))
        if handler is None:
            refused = _REFUSED_NODES.get(type(node))
            raise self._fail(node, refused or f"expected a comparison, field, literal or function call; got {type(node).__name__}")
        return handler(self, node)  # type: ignore[no-any-return]

    def _bool_op(self, node: ast.BoolOp) -> _Node:
        # ABSENT is falsy, so plain truthiness already reads an absent value as false.
        compiled = [self._compile(v) for v in node.values]
        parts = tuple(c.evaluate for c in compiled)
        # Like Python's, the result is an operand (data.examples or 1): true or false only when they are.
        result = FieldType("bool") if all(_type(c.type) == "bool" for c in compiled) else None
        code = self._code("and" if isinstance(node.op, ast.And) else "or", None, compiled)
        if len(parts) == 2:
            a, b = parts
            if isinstance(node.op, ast.And):
                return _Node(lambda ns: a(ns) and b(ns), result, code=code)
            return _Node(lambda ns: a(ns) or b(ns), result, code=code)
        if isinstance(node.op, ast.And):
            return _Node(lambda ns: all(p(ns) for p in parts), FieldType("bool"), code=code)
        return _Node(lambda ns: any(p(ns) for p in parts), FieldType("bool"), code=code)

    def _unary_op(self, node: ast.UnaryOp) -> _Node:
        if not isinstance(node.op, _UNARY):
            raise self._fail(node, _REFUSED_OPERATORS[type(node.op)])
        operand = self._compile(node.operand)
        inner = operand.evaluate
        if isinstance(node.op, ast.Not):
            return _Node(lambda ns: not inner(ns), FieldType("bool"), code=self._code("not", None, (operand,)))
        self._expect_number(node.operand, operand)
        if operand.constant is not ABSENT:
            return _literal(-operand.constant, FieldType("number"))
        return _Node(lambda ns: negate(inner(ns)), FieldType("number"), code=self._code("neg", None, (operand,)))

    def _bin_op(self, node: ast.BinOp) -> _Node:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            refused = _REFUSED_OPERATORS.get(type(node.op), "the arithmetic operators are + - * /")
            raise ExpressionError(refused, self._operator_column(node.left, node.right, node.op))
        left, right = self._compile(node.left), self._compile(node.right)
        self._expect_number(node.left, left)
        self._expect_number(node.right, right)
        a, b = left.evaluate, right.evaluate

        def evaluate(ns: Namespace) -> Any:
            return arithmetic(op, a(ns), b(ns))

        return _Node(evaluate, FieldType("number"), code=self._code("arith", op, (left, right)))

    def _compare(self, node: ast.Compare) -> _Node:
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            if type(op) not in _COMPARE:
                raise ExpressionError(_REFUSED_OPERATORS[type(op)], self._operator_column(operands[i], operands[i + 1], op))
            if isinstance(op, _MEMBERSHIP) and len(node.ops) > 1:
                raise ExpressionError(
                    f"'{'in' if isinstance(op, ast.In) else 'not in'}' cannot be chained with another comparison; "
                    "join the tests with and",
                    self._operator_column(operands[i], operands[i + 1], op),
                )
        compiled = [self._compile(o) for o in operands]
        guarded = [
            self._comparison(op, operands[i], compiled[i], operands[i + 1], compiled[i + 1]) for i, op in enumerate(node.ops)
        ]
        steps = [compare for compare, _ in guarded]
        evaluators = [c.evaluate for c in compiled]
        texts = tuple([_OPERATOR_TEXT[type(op)] for op in node.ops])
        code = self._code("compare", None, compiled, tuple([(text, guard) for text, (_, guard) in zip(texts, guarded)]))
        result = _Node(self._compare_evaluator(steps, evaluators, compiled), _BOOL, ABSENT, None, code)
        self._comparisons.append(Comparison(
            self._full_text(node),
            tuple(Operand(self._full_text(o), None if c.constant is not ABSENT and c.path is None else c.evaluate, c.path)
                  for o, c in zip(operands, compiled)),
            texts,
            result.evaluate,
        ))
        return result

    def _compare_evaluator(self, steps: list[Callable[[Any, Any], bool]], evaluators: list[Evaluator],
                           compiled: list[_Node]) -> Evaluator:
        if len(steps) == 1:
            (compare,), (a, b) = steps, evaluators
            fast = _field_against_constant(compare, *compiled)
            if fast is not None:
                return fast

            def single(ns: Namespace) -> bool:
                x, y = a(ns), b(ns)
                return x is not ABSENT and y is not ABSENT and compare(x, y)

            return single

        def chained(ns: Namespace) -> bool:
            left = evaluators[0](ns)
            for compare, right_eval in zip(steps, evaluators[1:]):
                right = right_eval(ns)
                if left is ABSENT or right is ABSENT or not compare(left, right):
                    return False
                left = right
            return True

        return chained

    def _comparison(
        self, op: ast.cmpop, left_ast: ast.AST, left: _Node, right_ast: ast.AST, right: _Node
    ) -> tuple[Callable[[Any, Any], bool], str | None]:
        """Check one step of a comparison; its function, guarded where a type is known only at run
        time, and the guard's name (``contain``, ``order`` or None) for codegen."""
        compare = _COMPARE[type(op)]
        if isinstance(op, _MEMBERSHIP):
            self._check_membership(left_ast, left, right_ast, right)
            # Always guarded, as it costs one isinstance: schema_version is described as an enum
            # of strings but holds an integer, and 'in' is where such a slip would raise.
            return (lambda a, b: _containable(a, b) and compare(a, b)), "contain"
        if not isinstance(op, _ORDERING):
            self._check_equality(left_ast, left, right_ast, right)
            return compare, None  # == and != never raise
        self._expect_number(left_ast, left)
        self._expect_number(right_ast, right)
        if _type(left.type) is None or _type(right.type) is None:
            return (lambda a, b: _orderable(a, b) and compare(a, b)), "order"
        return compare, None

    def _check_membership(self, left_ast: ast.AST, left: _Node, right_ast: ast.AST, right: _Node) -> None:
        container, item = _type(right.type), _type(left.type)
        if container not in (None, "list", "string"):
            assert right.type is not None
            raise self._fail(
                right_ast, f"'in' needs a list or a string on its right; {self._text(right_ast)} is {_what(right.type)}"
            )
        if container == "string" and item not in (None, "string"):
            assert left.type is not None
            raise self._fail(
                left_ast,
                f"'in' with a string on its right needs a string on its left; {self._text(left_ast)} is {_what(left.type)}",
            )
        if container != "list":
            return
        assert right.type is not None
        items = _type(right.type.item)
        if item is not None and items not in (None, item):
            assert left.type is not None
            raise self._fail(
                left_ast,
                f"{self._text(left_ast)} ({_what(left.type)}) can never be in {self._text(right_ast)}, "
                f"a list of {_PLURAL.get(items or '', 'values')}",
            )
        self._check_values(left_ast, left, right.type.item)
        if right.constant is not ABSENT and left.type is not None:
            self._check_values(right_ast, right, left.type, elementwise=True)

    def _check_equality(self, left_ast: ast.AST, left: _Node, right_ast: ast.AST, right: _Node) -> None:
        if left.type is not None and right.type is not None and None not in (_type(left.type), _type(right.type)):
            if _type(left.type) != _type(right.type):
                raise self._fail(
                    right_ast,
                    f"{self._text(left_ast)} ({_what(left.type)}) is never equal to "
                    f"{self._text(right_ast)} ({_what(right.type)})",
                )
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

    def _expect_number(self, node: ast.AST, operand: _Node) -> None:
        if operand.type is not None and _type(operand.type) not in (None, "number"):
            raise self._fail(node, f"expected a number; {self._text(node)} is {_what(operand.type)}")

    def _constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, bool):
            raise self._fail(node, f"'{value}' is not supported; write {str(value).lower()}")
        if value is None:
            raise self._fail(node, "'None' is not supported; test for an absent key with missing(path)")
        if isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                raise self._fail(
                    node, f"a string may hold at most {MAX_STRING_CHARS:,} characters; this one holds {len(value):,}"
                )
            return _literal(value, FieldType("string"))
        if isinstance(value, (int, float)):
            start, end = node.col_offset, node.end_col_offset or node.col_offset
            text = self._bytes[start:end].decode("utf-8", "replace")
            if len(text) > MAX_NUMBER_CHARS:
                raise self._fail(node, _number_too_long(text))
            if not _NUMBER.fullmatch(text):
                raise self._fail(node, f"{text} is not a decimal number; write numbers such as 3, 0.85 or 1e6")
            if abs(value) > MAX_NUMBER:
                raise self._fail(node, f"{text} is out of range; numbers in conditions are at most 10^15 in magnitude")
            return _literal(value, FieldType("number"))
        raise self._fail(node, f"expected a string, number, true or false; got {self._text(node)}")

    def _list(self, node: ast.List) -> _Node:
        if len(node.elts) > MAX_LIST_ITEMS:
            raise self._fail(node, f"a list may hold at most {MAX_LIST_ITEMS:,} items; this one holds {len(node.elts):,}")
        items = [self._compile(e) for e in node.elts]
        for element, item in zip(node.elts, items):
            if item.constant is ABSENT or item.path is not None or isinstance(item.constant, tuple):
                raise self._fail(element, "a list may hold only literal strings, numbers, true or false")
        if len({_type(item.type) for item in items}) > 1:
            raise self._fail(node, "a list's items must be all strings, all numbers or all true or false")
        item_type = items[0].type if items else None
        return _literal(tuple(item.constant for item in items), FieldType("list", item=item_type))

    def _name(self, node: ast.Name | ast.Attribute) -> _Node:
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
            self._reads.add(path)
            return _Node(lambda ns: value, FieldType(_type_of_value(value) or "any"), constant=value, path=path,
                         code=self._code("const", value))
        field_type = self.fields.get(path)
        if field_type is None:
            raise self._fail(node, f"unknown field {path!r}{did_you_mean(path, self.fields)}")
        self._reads.add(path)
        return _Node(lambda ns: ns.get(path, ABSENT), field_type, path=path, code=self._code("field", path))

    def _call(self, node: ast.Call) -> _Node:
        if not isinstance(node.func, ast.Name):
            raise self._fail(node, "only named functions can be called, e.g. defined(data.examples)")
        name = node.func.id
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self._fail(argument, _REFUSED_NODES[ast.Starred])
        if node.keywords:
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
        args = [self._compile(a) for a in node.args]
        takes = _parameter_types(function, len(args))
        for argument, arg, wanted in zip(node.args, args, takes):
            have = _type(arg.type)
            if wanted not in ("any", "same") and have is not None and have != wanted:
                assert arg.type is not None
                expected = _PLURAL[wanted] if function.arity is None else _A[wanted]
                raise self._fail(argument, f"{name}() takes {expected}, got {self._text(argument)} ({_what(arg.type)})")
        returns = self._same_type(node, name, args) if "same" in takes else function.returns
        # Typed arguments are checked again when the condition runs (a value of unknown type is
        # known only then), so a function never sees a value it did not declare: a misfit is absent.
        checked = tuple((i, wanted) for i, wanted in enumerate(takes) if wanted not in ("any", "same"))
        arguments = tuple(a.evaluate for a in args)
        impl, absent_ok = function.impl, function.absent_ok

        def call(ns: Namespace) -> Any:
            values = [a(ns) for a in arguments]
            if not absent_ok and any(v is ABSENT for v in values):
                return ABSENT
            if checked and not all(_type_of_value(values[i]) == wanted for i, wanted in checked):
                return ABSENT
            return impl(*values)

        return _Node(call, returns, code=self._code("call", CallSpec(impl, absent_ok, checked), args))

    def _same_type(self, node: ast.Call, name: str, args: Sequence[_Node]) -> FieldType | None:
        """Arguments of one type (``coalesce``): the result's type, None when one is unknown."""
        known = [(a, arg) for a, arg in zip(node.args, args) if _type(arg.type) is not None]
        for argument, arg in known[1:]:
            first_ast, first = known[0]
            if _type(arg.type) != _type(first.type):
                assert arg.type is not None and first.type is not None
                raise self._fail(
                    argument,
                    f"{name}() takes arguments of one type; {self._text(first_ast)} is {_what(first.type)}, "
                    f"{self._text(argument)} is {_what(arg.type)}",
                )
        if len(known) < len(args):
            return None
        first_type = args[0].type
        assert first_type is not None
        if all(arg.type == first_type for arg in args):
            return first_type
        return FieldType(_type(first_type) or "any")

    def _presence(self, node: ast.Call, name: str) -> _Node:
        if len(node.args) != 1:
            raise self._fail(node, f"{name}() takes one field path, got {len(node.args)} arguments")
        target = self._compile(node.args[0])
        if target.path is None or target.path.startswith("params."):
            raise self._fail(node.args[0], f"{name}() takes a field path such as data.examples")
        path = target.path
        if name == "defined":
            result = _Node(lambda ns: path in ns, FieldType("bool"), code=self._code("defined", path))
        else:
            result = _Node(lambda ns: path not in ns, FieldType("bool"), code=self._code("missing", path))
        operand = Operand(path, target.evaluate, path)
        self._comparisons.append(Comparison(self._full_text(node), (operand,), (), result.evaluate))
        return result

    #: The allow-list: each node type the language has and what compiles it. Any other node is
    #: refused at its column (with a hint from _REFUSED_NODES where one helps).
    _HANDLERS: dict[type[ast.AST], Callable[[Compiler, Any], _Node]] = {
        ast.BoolOp: _bool_op,
        ast.UnaryOp: _unary_op,
        ast.BinOp: _bin_op,
        ast.Compare: _compare,
        ast.Constant: _constant,
        ast.List: _list,
        ast.Name: _name,
        ast.Attribute: _name,
        ast.Call: _call,
    }

    # -- templates ----------------------------------------------------------------------------

    def compile_template(self, text: str) -> CompiledTemplate:
        """Compile a message template (as :meth:`template`) and say which fields and params it shows."""
        render = self.template(text)
        fields, params = _split_reads(self._template_reads)
        return CompiledTemplate(render, fields, params, tuple(self._template_pieces))

    def template(self, text: str) -> Callable[[Namespace], str]:
        """Compile a message template; only field paths and params may be interpolated."""
        parts: list[Callable[[Namespace], str]] = []
        self._template_reads = set()
        pieces = self._template_pieces = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            before = _unescape(text[position : match.start()])
            parts.append(_const_text(before))
            pieces.append(("text", before, ""))
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
                self._template_reads.add(name)
                shown = render_count(value, noun) if noun else render(value)
                parts.append(_const_text(shown))
                pieces.append(("text", shown, ""))
            elif name in self.fields:
                self._check_showable(name, column)
                self._template_reads.add(name)
                parts.append(_field_text(name, noun))
                pieces.append(("field", name, noun))
            else:
                raise ExpressionError(f"unknown field {name!r}{did_you_mean(name, self.fields)}", column)
            position = match.end()
        after = _unescape(text[position:])
        parts.append(_const_text(after))
        pieces.append(("text", after, ""))
        stray = _stray_brace(text)
        if stray is not None:
            raise ExpressionError("unbalanced brace; write {{ or }} for a literal brace", stray + 1)
        return lambda ns: "".join(part(ns) for part in parts)

    def _check_showable(self, name: str, column: int) -> None:
        """A table (or an array of tables) has no wording: name one of its keys instead."""
        field_type = self.fields[name]
        if field_type.kind == "table" or (field_type.kind == "list" and field_type.item is not None and field_type.item.kind == "table"):
            keys = [p for p in self.fields if p.startswith(name + ".") and self.fields[p].kind != "table"]
            example = f", e.g. {{{keys[0]}}}" if keys else ""
            raise ExpressionError(f"{{{name}}} is {field_type.describe()}, which a message cannot show; "
                                  f"interpolate one of its keys{example}", column)


def _split_reads(reads: set[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Paths read -> (fields and facts, parameter names)."""
    params = frozenset(p[len("params."):] for p in reads if p.startswith("params."))
    return frozenset(p for p in reads if not p.startswith("params.")), params


def _check_signature(function: Function) -> None:
    """A function's declared parameter types name known types, one per parameter."""
    if function.takes is None:
        return
    count = 1 if function.arity is None else function.arity
    if len(function.takes) != count or not set(function.takes) <= PARAMETER_TYPES:
        raise ValueError(
            f"condition function {function.name}(): takes must give {count} of {', '.join(sorted(PARAMETER_TYPES))}, "
            f"got {function.takes!r}"
        )


def _parameter_types(function: Function, count: int) -> tuple[str, ...]:
    """The type each of ``count`` arguments must have."""
    if function.takes is None:
        return ("any",) * count
    return function.takes * count if function.arity is None else function.takes


_LONG_DIGITS = re.compile(rf"[0-9_.]{{{MAX_NUMBER_CHARS + 1},}}")


def _number_too_long(text: str) -> str:
    return f"a number may be at most {MAX_NUMBER_CHARS} characters long; this one is {len(text):,}"


def negate(value: Any) -> Any:
    """``-value`` as conditions compute it (the closures and generated code alike): absent
    unless ``value`` is a number."""
    return -value if is_number(value) else ABSENT


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


def _field_text(path: str, noun: str) -> Callable[[Namespace], str]:
    """A field's value as a message shows it, counted with ``noun`` when one is given."""
    if noun:
        return lambda ns: render_count(ns.get(path, ABSENT), noun)
    return lambda ns: render(ns.get(path, ABSENT))


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



_BOOL = FieldType("bool")


def _literal(value: Any, field_type: FieldType) -> _Node:
    return _Node(lambda ns: value, field_type, constant=value, code=Code("const", value))


def _dotted(node: ast.AST) -> str | None:
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    names.append(node.id)
    return ".".join(reversed(names))
