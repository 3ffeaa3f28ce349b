"""Tests for policylint.positions: key paths -> where they first appear in the TOML text.

Expected positions are worked out by hand from the documents (line and column
comments next to them), never copied from the implementation's output.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import tomli

from policylint.positions import KeyPath, SourceIndex


def index(text: str) -> SourceIndex:
    tomli.loads(text.lstrip("\ufeff"))  # every document here is valid TOML 1.1
    return SourceIndex.from_text(text)


# --------------------------------------------------------------------------- tables


def test_simple_tables_and_keys() -> None:
    idx = index(
        "title = 'x'\n"  # 1
        "\n"  # 2
        "[model]\n"  # 3
        "name = \"m\"\n"  # 4
        "  size = 7\n"  # 5
        "\t[data]\n"  # 6: the tab is one column
        "path = 'p'\n"  # 7
    )
    assert idx.position(("title",)) == (1, 1)
    assert idx.position(("model",)) == (3, 1)
    assert idx.position(("model", "name")) == (4, 1)
    assert idx.position(("model", "size")) == (5, 3)
    assert idx.position(("data",)) == (6, 2)
    assert idx.position(("data", "path")) == (7, 1)
    assert idx.position(("path",)) is None
    assert idx.position(("model", "path")) is None


def test_first_appearance_wins_for_headers() -> None:
    text = "a = 1\n\n\n\n[evaluation]\nx = 1\n\n\n\n[evaluation.prompting]\ny = 2\n"
    idx = index(text)
    assert idx.position(("evaluation",)) == (5, 1)
    assert idx.position(("evaluation", "prompting")) == (10, 1)
    assert idx.position(("evaluation", "prompting", "y")) == (11, 1)

    # Without the earlier [evaluation], the sub-table header names both.
    idx = index("a = 1" + "\n" * 9 + "[evaluation.prompting]\n")  # header on line 10
    assert idx.position(("evaluation",)) == (10, 1)
    assert idx.position(("evaluation", "prompting")) == (10, 1)


def test_first_appearance_dotted_key_before_header() -> None:
    idx = index(
        "[a]\n"  # 1
        "b.c = 1\n"  # 2: names a.b first
        "[a.b.d]\n"  # 3
        "e = 2\n"  # 4
    )
    assert idx.position(("a", "b")) == (2, 1)
    assert idx.position(("a", "b", "c")) == (2, 1)
    assert idx.position(("a", "b", "d")) == (3, 1)
    assert idx.position(("a", "b", "d", "e")) == (4, 1)


def test_whitespace_in_headers() -> None:
    idx = index(
        "x = 0\n"  # 1
        "  [ a . \"b.c\" ]\n"  # 2: `[` at column 3
        "k = 1\n"  # 3
        "[[ list . item ]]\n"  # 4
        "\t[ list . item . sub ]  # comment\n"  # 5
    )
    assert idx.position(("a",)) == (2, 3)
    assert idx.position(("a", "b.c")) == (2, 3)
    assert idx.position(("a", "b.c", "k")) == (3, 1)
    assert idx.position(("a", "b", "c")) is None
    assert idx.position(("list", "item")) == (4, 1)
    assert idx.position(("list", "item", 0)) == (4, 1)
    assert idx.position(("list", "item", 0, "sub")) == (5, 2)


# ----------------------------------------------------------------------- dotted keys


def test_dotted_keys_top_level_and_in_table() -> None:
    idx = index(
        "a.b.c = 1\n"  # 1
        "a . d = 2\n"  # 2
        "\n"  # 3
        "[t]\n"  # 4
        "  a.b.c = 1\n"  # 5: starts at column 3
        "  a.\"x.y\" = 2\n"  # 6
    )
    assert idx.position(("a",)) == (1, 1)
    assert idx.position(("a", "b")) == (1, 1)
    assert idx.position(("a", "b", "c")) == (1, 1)
    assert idx.position(("a", "d")) == (2, 1)
    assert idx.position(("t",)) == (4, 1)
    assert idx.position(("t", "a")) == (5, 3)
    assert idx.position(("t", "a", "b")) == (5, 3)
    assert idx.position(("t", "a", "b", "c")) == (5, 3)
    assert idx.position(("t", "a", "x.y")) == (6, 3)


# ----------------------------------------------------------------------- quoted keys


def test_quoted_keys_with_dots_and_escapes() -> None:
    idx = index(
        '"a.b" = 1\n'  # 1
        "'c.d' = 2\n"  # 2
        '"q\\"uote" = 3\n'  # 3: key is q"uote
        '"caf\\u00e9" = 4\n'  # 4: key is café
        "\"back\\\\slash\" = 5\n"  # 5: key is back\slash
        "'lit\\eral' = 6\n"  # 6: literal, backslash kept
        '"" = 7\n'  # 7: empty key
        "[\"tab\\tle\".'x.y']\n"  # 8
        "z = 8\n"  # 9
        "\"=\" = 9\n"  # 10
    )
    assert idx.position(("a.b",)) == (1, 1)
    assert idx.position(("a",)) is None
    assert idx.position(("c.d",)) == (2, 1)
    assert idx.position(('q"uote',)) == (3, 1)
    assert idx.position(("café",)) == (4, 1)
    assert idx.position(("back\\slash",)) == (5, 1)
    assert idx.position(("lit\\eral",)) == (6, 1)
    assert idx.position(("",)) == (7, 1)
    assert idx.position(("tab\tle", "x.y")) == (8, 1)
    assert idx.position(("tab\tle", "x.y", "z")) == (9, 1)
    assert idx.position(("tab\tle", "x.y", "=")) == (10, 1)


def test_toml_1_1_escapes_in_keys() -> None:
    idx = index('"\\x41\\e" = 1\n')  # \xHH and \e are TOML 1.1
    assert idx.position(("A\x1b",)) == (1, 1)


def test_non_ascii_before_key_counts_code_points() -> None:
    idx = index('"é€😀" = 1\n[t]\n  "ü" = { "ñ" = 2 }\n')
    assert idx.position(("é€😀",)) == (1, 1)
    # line 3: 2 spaces, "ü" at column 3; then ` = { ` puts "ñ" at column 3+3+5 = 11
    assert idx.position(("t", "ü")) == (3, 3)
    assert idx.position(("t", "ü", "ñ")) == (3, 11)
    idx = index("x = '😀😀'\ny = 1\nz = { '😀' = 1, k = 2 }\n")
    # line 3: z(1) ' '(2) =(3) ' '(4) {(5) ' '(6) '(7) 😀(8) '(9) ' '(10) =(11) ' '(12) 1(13) ,(14) ' '(15) k(16)
    assert idx.position(("z", "k")) == (3, 16)


# --------------------------------------------------------------------- inline tables


def test_inline_tables_nested() -> None:
    idx = index("x = { y = 1, z = { w = 2 } }\n")
    # x(1) ' '(2) =(3) ' '(4) {(5) ' '(6) y(7) ... ,(12) ' '(13) z(14) ... {(18) ' '(19) w(20)
    assert idx.position(("x",)) == (1, 1)
    assert idx.position(("x", "y")) == (1, 7)
    assert idx.position(("x", "z")) == (1, 14)
    assert idx.position(("x", "z", "w")) == (1, 20)


def test_inline_table_dotted_keys() -> None:
    idx = index("[t]\nx = { a.b = 1, 'c.d'.e = 2 }\n")
    # line 2: a at 7; `a.b = 1, ` is 9 chars -> 'c.d' at 16
    assert idx.position(("t", "x", "a")) == (2, 7)
    assert idx.position(("t", "x", "a", "b")) == (2, 7)
    assert idx.position(("t", "x", "c.d", "e")) == (2, 16)


def test_multiline_inline_table_toml_1_1() -> None:
    idx = index(
        "[tool]\n"  # 1
        "opts = {  # opening comment, with { and [fake]\n"  # 2
        "    level = 3,  # a comment = 1\n"  # 3
        "\n"  # 4
        "    nested = {\n"  # 5
        "        deep = 'v',\n"  # 6
        "    },\n"  # 7
        "    # last = 0\n"  # 8
        "    last = [1, 2,],\n"  # 9: trailing comma
        "}\n"  # 10
        "after = 1\n"  # 11
    )
    assert idx.position(("tool", "opts")) == (2, 1)
    assert idx.position(("tool", "opts", "level")) == (3, 5)
    assert idx.position(("tool", "opts", "a")) is None
    assert idx.position(("tool", "opts", "nested")) == (5, 5)
    assert idx.position(("tool", "opts", "nested", "deep")) == (6, 9)
    assert idx.position(("tool", "opts", "last")) == (9, 5)
    assert idx.position(("tool", "after")) == (11, 1)
    assert idx.position(("fake",)) is None


# ------------------------------------------------------------------ arrays of tables


def test_arrays_of_tables_with_sub_tables() -> None:
    idx = index(
        "[[waivers]]\n"  # 1
        "rule = 'A'\n"  # 2
        "[waivers.meta]\n"  # 3
        "owner = 'x'\n"  # 4
        "\n"  # 5
        "[[waivers]]\n"  # 6
        "  rule = 'B'\n"  # 7
        "[waivers.meta]\n"  # 8
        "owner = 'y'\n"  # 9
    )
    assert idx.position(("waivers",)) == (1, 1)
    assert idx.position(("waivers", 0)) == (1, 1)
    assert idx.position(("waivers", 0, "rule")) == (2, 1)
    assert idx.position(("waivers", 0, "meta")) == (3, 1)
    assert idx.position(("waivers", 0, "meta", "owner")) == (4, 1)
    assert idx.position(("waivers", 1)) == (6, 1)
    assert idx.position(("waivers", 1, "rule")) == (7, 3)
    assert idx.position(("waivers", 1, "meta")) == (8, 1)
    assert idx.position(("waivers", 1, "meta", "owner")) == (9, 1)
    assert idx.position(("waivers", 2)) is None
    assert idx.position(("waivers", "rule")) is None


def test_nested_arrays_of_tables_refer_to_last_element() -> None:
    idx = index(
        "[[a]]\n"  # 1
        "[[a.b]]\n"  # 2
        "[[a.b]]\n"  # 3
        "[a.b.c]\n"  # 4
        "d = 1\n"  # 5
        "[[a]]\n"  # 6
        "[[a.b]]\n"  # 7: first b of the second a
        "[a.b.c]\n"  # 8
    )
    assert idx.position(("a", 0)) == (1, 1)
    assert idx.position(("a", 0, "b")) == (2, 1)
    assert idx.position(("a", 0, "b", 0)) == (2, 1)
    assert idx.position(("a", 0, "b", 1)) == (3, 1)
    assert idx.position(("a", 0, "b", 1, "c")) == (4, 1)
    assert idx.position(("a", 0, "b", 1, "c", "d")) == (5, 1)
    assert idx.position(("a", 0, "b", 0, "c")) is None
    assert idx.position(("a", 1)) == (6, 1)
    assert idx.position(("a", 1, "b")) == (7, 1)
    assert idx.position(("a", 1, "b", 0)) == (7, 1)
    assert idx.position(("a", 1, "b", 0, "c")) == (8, 1)
    assert idx.position(("a", 1, "b", 1)) is None


def test_arrays_of_inline_tables() -> None:
    idx = index(
        'w = [ {rule = "X"}, {rule = "Y"} ]\n'  # 1
        "v = [\n"  # 2
        "  1,  # {fake = 1}\n"  # 3
        "  { a = 1 },\n"  # 4
        "  [ { b = 2 } ],\n"  # 5
        "]\n"  # 6
    )
    # line 1: w(1) ' '(2) =(3) ' '(4) [(5) ' '(6) {(7) rule(8) ... "X"(15-17) }(18) ,(19) ' '(20) {(21) rule(22)
    assert idx.position(("w",)) == (1, 1)
    assert idx.position(("w", 0)) == (1, 7)
    assert idx.position(("w", 0, "rule")) == (1, 8)
    assert idx.position(("w", 1)) == (1, 21)
    assert idx.position(("w", 1, "rule")) == (1, 22)
    assert idx.position(("v", 0)) is None  # a plain element is not indexed
    assert idx.position(("v", 1, "a")) == (4, 5)
    assert idx.position(("v", 2)) == (5, 3)
    assert idx.position(("v", 2, 0, "b")) == (5, 7)
    assert idx.position(("fake",)) is None
    assert idx.position(("v", 0, "fake")) is None
    assert idx.locate(("v", 0)) == (2, 1)


# --------------------------------------------------------------- strings and comments


def test_multiline_strings_hide_fake_headers_and_keys() -> None:
    idx = index(
        'a = """\n'  # 1
        "[fake]\n"  # 2
        "fake = 1\n"  # 3
        '\\"""\n'  # 4: an escaped quote and two quotes: the string goes on
        'fake2 = 2 ""\n'  # 5
        '"""\n'  # 6
        "b = '''\n"  # 7
        "[fake3]\n"  # 8
        "fake3 = 1 \\'''\n"  # 9: literal: a backslash escapes nothing, ends here
        "c = \"\"\"x\"\"\"\"\"  # ends with two extra quotes\n"  # 10
        "d = '''y''''' # same for literal\n"  # 11
        "e = \"\"\"\"\"\"\n"  # 12: empty
        "f = '''''' \n"  # 13: empty
        "g = \"\"\"a\\\\\"\"\"\n"  # 14: ends with an escaped backslash
        "[real]\n"  # 15
        'h = """ "" """\n'  # 16
    )
    assert tomli.loads(
        'c = """x"""""\nd = \'\'\'y\'\'\'\'\'\n'
    ) == {"c": 'x""', "d": "y''"}
    assert idx.position(("a",)) == (1, 1)
    assert idx.position(("b",)) == (7, 1)
    assert idx.position(("c",)) == (10, 1)
    assert idx.position(("d",)) == (11, 1)
    assert idx.position(("e",)) == (12, 1)
    assert idx.position(("f",)) == (13, 1)
    assert idx.position(("g",)) == (14, 1)
    assert idx.position(("real",)) == (15, 1)
    assert idx.position(("real", "h")) == (16, 1)
    for fake in ("fake", "fake2", "fake3", "still"):
        assert idx.position((fake,)) is None
        assert idx.position(("a", fake)) is None


def test_strings_inside_arrays_keep_element_indexes() -> None:
    """A mis-skipped string inside an array would shift the index of what follows."""
    # The TOML line, built in pieces because it holds both kinds of triple quotes:
    # s = ["""a""""", '''b''''', "c\"", 'd\', """e\""""", {k = 1}]
    line = 's = ["""a""""", ' + r"""'''b''''', "c\"", 'd\', """ + r'"""e\""""", {k = 1}]'
    # s(1) ' ' =(3) ' ' [(5) """a"""""(6-14) ,(15) ' ' '''b'''''(17-25) ,(26) ' ' "c\""(28-32)
    # ,(33) ' ' 'd\'(35-38) ,(39) ' ' """e\"""""(41-50) ,(51) ' ' {(53) k(54)
    assert tomli.loads(line)["s"][:5] == ['a""', "b''", 'c"', "d\\", 'e""']
    idx = index(line + "\n")
    assert idx.position(("s", 5)) == (1, 53)
    assert idx.position(("s", 5, "k")) == (1, 54)


def test_hash_inside_strings_is_not_a_comment() -> None:
    idx = index(
        'a = "# not a comment" ; b = 1\n'.replace(" ; ", "\n")  # lines 1-2
        + "c = '#', d = 2\n".replace(", ", "\n")  # lines 3-4
        + 'e = { k = "#}", l = \'#\', m = 1 }  # real comment, n = 1\n'  # line 5
        + 'f = [ "#]", { o = 1 } ]\n'  # line 6
    )
    assert idx.position(("b",)) == (2, 1)
    assert idx.position(("d",)) == (4, 1)
    # line 5: e(1)..{(5) k(7) = "#}"(11-14) ,(15) l(17) = '#'(21-23) ,(24) m(26)
    assert idx.position(("e", "k")) == (5, 7)
    assert idx.position(("e", "l")) == (5, 17)
    assert idx.position(("e", "m")) == (5, 26)
    assert idx.position(("e", "n")) is None
    # line 6: f(1) ' ' = ' ' [(5) ' ' "#]"(7-10) ,(11) ' '(12) {(13) ' '(14) o(15)
    assert idx.position(("f", 1)) == (6, 13)
    assert idx.position(("f", 1, "o")) == (6, 15)


def test_all_value_types_are_skipped() -> None:
    idx = index(
        "odt = 1979-05-27T07:32:00Z\n"  # 1
        "sp = [1979-05-27 07:32:00.999-07:00, {a = 1}]\n"  # 2
        "ld = 1979-05-27 # comment\n"  # 3
        "lt = 07:32\n"  # 4: TOML 1.1 optional seconds
        "n = [1_000, -0.5e+3, +inf, -nan, 0xDEAD_beef, 0o17, 0b1, true, false]\n"  # 5
        "nested = [[1, [2]], [\n"  # 6
        "  'x', # c ]\n"  # 7
        "  ], {b = [{c = 1}]},\n"  # 8
        "]\n"  # 9
        "last = 1\n"  # 10
    )
    assert idx.position(("odt",)) == (1, 1)
    # line 2: `sp = [` is 6 chars; the date-time is 29 chars (7-35), `, ` -> { at 38, a at 39
    assert idx.position(("sp", 1)) == (2, 38)
    assert idx.position(("sp", 1, "a")) == (2, 39)
    assert idx.position(("ld",)) == (3, 1)
    assert idx.position(("lt",)) == (4, 1)
    assert idx.position(("n",)) == (5, 1)
    assert idx.position(("nested", 0)) == (6, 11)
    # line 6: nested(1-6) ' '(7) =(8) ' '(9) [(10) [(11) 1(12) ,(13) ' '(14) [(15) 2(16) ](17) ](18) ,(19) ' '(20) [(21)
    assert idx.position(("nested", 0, 1)) == (6, 15)
    assert idx.position(("nested", 1)) == (6, 21)
    assert idx.position(("nested", 2)) == (8, 6)
    assert idx.position(("nested", 2, "b", 0, "c")) == (8, 13)
    assert idx.position(("last",)) == (10, 1)


# ------------------------------------------------------------------ line endings, BOM


def test_crlf_input() -> None:
    text = "[a]\r\nb = 1\r\n  [c.d]\r\ne = '''x\r\n[f]\r\n'''\r\ng = { h = 1,\r\n  i = 2 }\r\n"
    idx = index(text)
    assert idx.position(("a",)) == (1, 1)
    assert idx.position(("a", "b")) == (2, 1)
    assert idx.position(("c",)) == (3, 3)
    assert idx.position(("c", "d", "e")) == (4, 1)
    assert idx.position(("f",)) is None
    assert idx.position(("c", "d", "g")) == (7, 1)
    assert idx.position(("c", "d", "g", "h")) == (7, 7)
    assert idx.position(("c", "d", "g", "i")) == (8, 3)


def test_crlf_inside_multiline_arrays() -> None:
    idx = index("w = [\r\n  {x = 1},\r\n  # c\r\n  {x = 2},\r\n]\r\nz = 1\r\n")
    assert idx.position(("w", 0, "x")) == (2, 4)
    assert idx.position(("w", 1)) == (4, 3)
    assert idx.position(("w", 1, "x")) == (4, 4)
    assert idx.position(("w", 2)) is None
    assert idx.position(("z",)) == (6, 1)


def test_bom_is_not_a_column() -> None:
    idx = index("\ufeffname = 'x'\n[t]\n k = 1\n")
    assert idx.position(("name",)) == (1, 1)
    assert idx.position(("t",)) == (2, 1)
    assert idx.position(("t", "k")) == (3, 2)
    idx = index("\ufeff[t]\r\nk = { a = 1 }\r\n")
    assert idx.position(("t",)) == (1, 1)
    assert idx.position(("t", "k", "a")) == (2, 7)


# ------------------------------------------------------------------ locate, str paths


def test_locate_falls_back_to_nearest_enclosing_path() -> None:
    idx = index("x = 1\n[a]\nb = [1, 2, 3]\n[[w]]\nrule = 'R'\n")
    assert idx.locate(("a", "b")) == (3, 1)
    assert idx.locate(("a", "b", 2)) == (3, 1)  # plain array element -> the array's key
    assert idx.locate(("a", "missing", "deeper")) == (2, 1)
    assert idx.locate(("w", 0, "rule")) == (5, 1)
    assert idx.locate(("w", 0, "other")) == (4, 1)
    assert idx.locate(("w", 5, "rule")) == (4, 1)
    assert idx.locate(("nothing", "here")) == (1, 1)
    assert idx.locate(()) == (1, 1)
    assert SourceIndex.from_text("").locate(("a",)) == (1, 1)


def test_str_path_convenience() -> None:
    idx = index("x = 0\n[a.b]\n  c = 1\n")
    assert idx.position("a.b.c") == (3, 3)
    assert idx.position("a.b") == (2, 1)
    assert idx.position("a.x") is None
    assert idx.locate("a.x.y") == (2, 1)
    assert idx.locate("a.b.c.d") == (3, 3)
    assert idx.locate("") == (1, 1)
    assert idx.position("a.b.c") == idx.position(["a", "b", "c"])  # type: ignore[arg-type]


# ------------------------------------------------------------- property: every path


AWKWARD_DOCS = [
    # 1: a manifest-like document with comments everywhere
    """\ufeff# policy manifest
name = "demo"   # trailing comment
[model]
base = "llama"  # [not.a.header]
params.lr = 1e-4
params."warm.up" = 10

[evaluation.prompting]
shots = [1, 2,
  3, # comment
]
[evaluation]
metric = 'f1'
""",
    # 2: arrays of tables, nested, with sub-tables and dotted keys
    """[[waivers]]
rule = "R1"
meta.owner = "a"
[[waivers]]
rule = "R2"
[waivers.meta]
owner = "b"
[[waivers.history]]
when = 2024-01-01
[[waivers.history]]
when = 2024-01-02 10:00:00
""",
    # 3: multi-line strings full of traps
    '''doc = """
[trap]
trap = 1
\\"""
"""
lit = \'\'\'
[[trap2]]
\'\'\'
q4 = """x""""
q5 = """x"""""
l5 = \'\'\'x\'\'\'\'\'
[after]
ok = true
''',
    # 4: TOML 1.1 multi-line inline tables and arrays of inline tables
    """[run]
cfg = {
  a = 1,  # comment {
  b = { c = [ { d = 1 }, { d = 2, }, ], },
  "e.f" = 'g',
}
rows = [
  { id = 1 },  # one
  # { id = 99 },
  { id = 2, tags = ["x", "#", "]"] },
]
""",
    # 5: quoted keys and whitespace in headers
    """[ "a.b" . 'c' ]
"k\\u00e9y" = 1
'lit\\' = 2
"q\\"" = { "in.ner" = 3 }
[[ "arr ay" ]]
x = 1
[[ "arr ay" ]]
[ "arr ay" . sub ]
y = 2
""",
    # 6: CRLF, tabs, all scalar types
    "[t]\r\n\ta = 1_000\r\n\tb = -inf\r\n\tc = 1979-05-27T00:32:00.999999-07:00\r\n"
    "\td = 07:32:00\r\n\te = [nan, +1.5e-3, 0x1F, true]\r\n\tf = { g = 1979-05-27 07:32:00 }\r\n"
    "[t.u]\r\nv = '''\r\n[w]\r\n'''\r\n",
    # 7: dotted keys defining tables later extended by headers
    """a.b.c = 1
a.b.d = { e = 2 }
[a.f]
g = 3
[x.y.z]
[x.y]
w = [[{ deep = 1 }], []]
""",
]


def walk(data: Any, path: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path of a parsed document: dict keys, and indexes into lists."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield path + (key,)
            yield from walk(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, (dict, list)) and _has_table(value):
                yield path + (i,)
                yield from walk(value, path + (i,))


def _has_table(data: Any) -> bool:
    if isinstance(data, dict):
        return True
    return isinstance(data, list) and any(_has_table(v) for v in data)


def _key_names(parsed: Any) -> list[str]:
    """The key components of a one-key document such as {"a": {"b": 0}} or [[a]]."""
    names: list[str] = []
    while isinstance(parsed, (dict, list)) and parsed:
        if isinstance(parsed, list):
            parsed = parsed[-1]
            continue
        ((name, parsed),) = parsed.items()
        names.append(name)
    return names


def assert_points_at(text: str, path: KeyPath, pos: tuple[int, int]) -> None:
    """The text at ``pos`` names ``path``: a header, a dotted key, or an array element."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    line_no, col = pos
    line = text.split("\n")[line_no - 1]
    rest = line[col - 1 :]
    names = [p for p in path if isinstance(p, str)]
    if isinstance(path[-1], int):  # an element of a static array, or an [[array]] element
        assert rest[:1] in ("{", "["), (path, pos, rest)
        return
    if rest.startswith("["):  # a header naming the path or a descendant of it
        header = _key_names(tomli.loads(rest))
        assert header[: len(names)] == names, (path, pos, rest)
        return
    # A (dotted) key: parse it with tomli up to the first `=` that makes it valid.
    for eq in (m.start() for m in re.finditer("=", rest)):
        try:
            key = _key_names(tomli.loads(rest[:eq] + "= 0"))
        except tomli.TOMLDecodeError:
            continue
        assert any(names[-j:] == key[:j] for j in range(1, len(key) + 1)), (path, pos, rest)
        return
    raise AssertionError(f"no key at {pos} for {path}: {rest!r}")


@pytest.mark.parametrize("doc", AWKWARD_DOCS, ids=[f"doc{i + 1}" for i in range(len(AWKWARD_DOCS))])
def test_every_parsed_path_has_a_position(doc: str) -> None:
    data = tomli.loads(doc.lstrip("\ufeff"))
    idx = SourceIndex.from_text(doc)
    paths = list(walk(data))
    assert len(paths) > 5
    for path in paths:
        pos = idx.position(path)
        assert pos is not None, path
        assert_points_at(doc, path, pos)


def test_property_check_rejects_a_wrong_position() -> None:
    """The helper above is strict enough to notice a position that is off."""
    doc = "[a]\nb = 1\nc = 2\n"
    with pytest.raises(AssertionError):
        assert_points_at(doc, ("a", "c"), (2, 1))
    with pytest.raises(AssertionError):
        assert_points_at(doc, ("a", "b"), (1, 1))


# ------------------------------------------------------------------------- fuzzing


GARBAGE = [
    "",
    "[",
    "[[",
    "[[a]",
    "[a.",
    "[ \"unterminated",
    "a = \"unterminated\nb = 1\n",
    "a = '''never closed\n[x]\n",
    'a = """never closed \\',
    "a = {",
    "a = { b = [ { c = ",
    "a = [[[[[[",
    "a = ]]]]}}}",
    "= = = =",
    "a.b.=1",
    "\"\\u12",
    "\"\\UFFFFFFFF\" = 1",
    "\"\\x\" = 1",
    "a = 1979-05-27 ",
    "\ufeff",
    "\r\r\r\n\r",
    "#",
    "}{][",
    "a = " + "[" * 5000,
    "a = " + "{b=" * 5000,
    "[[a]]\n[a]\n[[a]]\n[a.b]\n[[a.b]]",
]


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_never_raises(text: str) -> None:
    idx = SourceIndex.from_text(text)
    assert idx.locate(("a", "b", 0, "c")) >= (1, 1)


def test_garbage_keeps_what_it_could_index() -> None:
    idx = SourceIndex.from_text("ok = 1\n[t]\nk = \"broken\nz = { y = [")
    assert idx.position(("ok",)) == (1, 1)
    assert idx.position(("t", "k")) == (3, 1)
    assert idx.position(("t", "z", "y")) == (4, 7)


def test_absurd_nesting_does_not_lose_later_keys() -> None:
    text = "a = " + "[" * 5000 + "]" * 5000 + "\nz = { y = " + "{ x = " * 3000 + "1" + " }" * 3001 + "\nlast = 1\n"
    idx = SourceIndex.from_text(text)
    # line 1: a(1) ' ' =(3) ' ' [(5) [(6) [(7); line 2: z(1) ' ' =(3) ' ' {(5) ' ' y(7) ' ' =(9) ' ' {(11) ' ' x(13)
    assert idx.position(("a", 0)) == (1, 6)
    assert idx.position(("a", 0, 0)) == (1, 7)
    assert idx.position(("z", "y", "x")) == (2, 13)
    assert idx.position(("last",)) == (3, 1)


def test_every_truncation_of_the_awkward_docs_never_raises() -> None:
    for doc in AWKWARD_DOCS:
        for end in range(len(doc)):
            SourceIndex.from_text(doc[:end])


def test_random_noise_never_raises() -> None:
    rng = random.Random(1234)
    alphabet = "[]{}=,.\"'#\\ \t\n\r\ufeffab1-_:+"
    for _ in range(500):
        SourceIndex.from_text("".join(rng.choice(alphabet) for _ in range(rng.randrange(60))))


# ------------------------------------------------------- hypothesis: written documents


def _quote_key(key: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return key
    return json.dumps(key, ensure_ascii=False)  # JSON escapes are valid TOML escapes


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if "\n" in value:
        return '"""\n' + value.replace("\\", "\\\\").replace('"', '\\"') + '"""'
    return json.dumps(value, ensure_ascii=False)


def _inline(value: Any, rng: random.Random) -> str:
    if isinstance(value, dict):
        items = [f"{_quote_key(k)} = {_inline(v, rng)}" for k, v in value.items()]
        if items and rng.random() < 0.4:  # TOML 1.1: multi-line, comments, trailing comma
            return "{\n" + "".join(f"  {item},  # ]{{\n" for item in items) + "}"
        return "{ " + ", ".join(items) + " }"
    if isinstance(value, list):
        return "[\n  " + ",  # c\n  ".join(_inline(v, rng) for v in value) + ",\n]"
    return _scalar(value)


def _write_table(data: dict[str, Any], prefix: list[str], rng: random.Random, out: list[str]) -> None:
    later: list[tuple[str, Any]] = []
    for key, value in data.items():
        qkey = _quote_key(key)
        is_table_list = isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        if isinstance(value, dict) and rng.random() < 0.5:
            later.append((key, value))
        elif is_table_list and rng.random() < 0.5:
            later.append((key, value))
        elif isinstance(value, dict) and value and rng.random() < 0.5:
            for sub, sub_value in value.items():  # one level of dotted keys
                out.append(f"{qkey} . {_quote_key(sub)} = {_inline(sub_value, rng)}")
        else:
            out.append(f"{rng.choice(['', '  ', chr(9)])}{qkey} = {_inline(value, rng)}")
    for key, value in later:
        path = prefix + [key]
        header = ".".join(_quote_key(k) for k in path)
        if isinstance(value, dict):
            out.append(f"[{header}]")
            _write_table(value, path, rng, out)
        else:
            for element in value:
                out.append(f"[[ {header} ]]  # element")
                _write_table(element, path, rng, out)


def write_toml(data: dict[str, Any], seed: int) -> str:
    out: list[str] = []
    _write_table(data, [], random.Random(seed), out)
    return "\n".join(out) + "\n"


def test_hypothesis_written_documents_are_fully_indexed() -> None:
    hypothesis = pytest.importorskip("hypothesis", reason="property test needs hypothesis")
    st = pytest.importorskip("hypothesis.strategies", reason="property test needs hypothesis")

    keys = st.text(alphabet="ab_-.\"' #[]=\\é😀\t", min_size=0, max_size=5)
    strings = st.text(alphabet="xy\"'#[]{}=\\\n é", max_size=8)
    scalars = st.one_of(st.integers(-5, 5), st.booleans(), strings)
    documents = st.recursive(
        st.dictionaries(keys, scalars, max_size=3),
        lambda children: st.dictionaries(
            keys, st.one_of(scalars, children, st.lists(children, min_size=1, max_size=3)), max_size=4
        ),
        max_leaves=12,
    )

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(documents, st.integers(0, 2**32))
    def check(data: dict[str, Any], seed: int) -> None:
        text = write_toml(data, seed)
        assert tomli.loads(text) == data, text  # the writer itself is correct
        idx = SourceIndex.from_text(text)
        for path in walk(data):
            pos = idx.position(path)
            assert pos is not None, (path, text)
            assert_points_at(text, path, pos)

    check()


# ------------------------------------------------- the fast path and where it stops


def test_array_lookalikes_that_hold_tables_or_hide_lines() -> None:
    idx = index(
        "a = [1, # ]\n"  # 1: the `]` is in a comment
        "  {x = 1}]\n"  # 2
        'b = [""""]"\n'  # 3: a multi-line string opens at `"""` and holds `"]"`
        "[fake]\n"  # 4
        '"""]\n'  # 5
        "c = ['''']'\n"  # 6: same for a literal one
        "[fake2]\n"  # 7
        "''', {y = 2}]\n"  # 8
        "d = [\"]\", \"#\", 'x]', {z = 3}]\n"  # 9
    )
    assert idx.position(("a",)) == (1, 1)
    assert idx.position(("a", 0)) is None
    assert idx.position(("a", 1)) == (2, 3)
    assert idx.position(("a", 1, "x")) == (2, 4)
    assert idx.position(("b",)) == (3, 1)
    assert idx.position(("c",)) == (6, 1)
    # line 8: '''(1-3) ,(4) ' '(5) {(6) y(7)
    assert idx.position(("c", 1)) == (8, 6)
    assert idx.position(("c", 1, "y")) == (8, 7)
    # line 9: d(1) ' ' =(3) ' ' [(5) "]"(6-8) ,(9) ' ' "#"(11-13) ,(14) ' ' 'x]'(16-19) ,(20) ' ' {(22) z(23)
    assert idx.position(("d", 3)) == (9, 22)
    assert idx.position(("d", 3, "z")) == (9, 23)
    for fake in ("fake", "fake2"):
        assert idx.position((fake,)) is None


def test_dotted_and_quoted_keys_of_arrays_and_inline_tables() -> None:
    idx = index(
        "'q'.b.\"c\" = { d = 1 }\n"  # 1
        "a . b = [ {c = 1} ]\n"  # 2
    )
    assert idx.position(("q",)) == (1, 1)
    assert idx.position(("q", "b")) == (1, 1)
    assert idx.position(("q", "b", "c")) == (1, 1)
    # line 1: 'q'(1-3) .(4) b(5) .(6) "c"(7-9) ' ' =(11) ' ' {(13) ' ' d(15)
    assert idx.position(("q", "b", "c", "d")) == (1, 15)
    assert idx.position(("a", "b")) == (2, 1)
    # line 2: a(1) ' ' .(3) ' ' b(5) ' ' =(7) ' ' [(9) ' ' {(11) c(12)
    assert idx.position(("a", "b", 0)) == (2, 11)
    assert idx.position(("a", "b", 0, "c")) == (2, 12)


def test_quoted_header_names_and_keys() -> None:
    idx = index(
        '["01-a.toml"]\n'  # 1
        'rules = ["R1"]\n'  # 2
        "['lit' . \"q\" . bare]\n"  # 3
        "\"k.1\".'k 2' = 1\n"  # 4
        "[\"01-a.toml\".\"\"]\n"  # 5: an empty name
    )
    assert idx.position(("01-a.toml",)) == (1, 1)
    assert idx.position(("01-a.toml", "rules")) == (2, 1)
    assert idx.position(("lit",)) == (3, 1)
    assert idx.position(("lit", "q", "bare")) == (3, 1)
    assert idx.position(("lit", "q", "bare", "k.1")) == (4, 1)
    assert idx.position(("lit", "q", "bare", "k.1", "k 2")) == (4, 1)
    assert idx.position(("01-a.toml", "")) == (5, 1)


def test_positions_far_into_a_long_document() -> None:
    lines = [f"k{i} = {i}" for i in range(2000)] + ["[t]", "  x = 1", "y = 2"]
    for newline in ("\n", "\r\n"):
        text = newline.join(lines)  # no line end after the last line
        idx = index(text)
        assert idx.position(("k0",)) == (1, 1)
        assert idx.position(("k1999",)) == (2000, 1)
        assert idx.position(("t",)) == (2001, 1)
        assert idx.position(("t", "x")) == (2002, 3)
        assert idx.position(("t", "y")) == (2003, 1)
        assert idx.position(("t", "y")) == (2003, 1)  # asked twice
        assert idx.locate(("t", "y", "z")) == (2003, 1)


def test_an_index_built_from_positions() -> None:
    idx = SourceIndex({("a",): (3, 4), ("a", "b"): (5, 6)})
    assert idx.position("a.b") == (5, 6)
    assert idx.position(("c",)) is None
    assert idx.locate(("a", "x")) == (3, 4)
    assert SourceIndex().locate("a") == (1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "a = [1," + " " * 20000 + "{x=1}]",
        "a = [" + "#" * 20000 + "\n{]",
        "a = [" + "1 " * 20000 + "{",
        "a = [" + '"x", ' * 5000 + "{",
        'a = ["' + "\\\\" * 10000 + "\\\n{x=1}]",
        'a = """' + 'x\\"' * 10000,
        'a = """' + '""x' * 10000,
        "a = '''" + "''x" * 10000,
        "a" + " . a" * 2000 + ' . "',
        "[" + "a ." * 2000 + '"',
        "a" + " " * 20000 + ".",
        "a = {" + ",=." * 10000 + "}",
        "a = " + "[" * 120 + "x" * 20000,
        "a = [" + "1979-05-27 07:32:00, " * 2000 + "{",
        "a = [" + "1_000 " * 5000 + "{]\n",  # a one-line array that holds a table
        "a = [" + "'x' , " * 5000 + "\n",  # a one-line array never closed
        "[" + "a." * 5000 + "\n",  # a header of bare names never closed
        "a = 1\n" * 5000 + "[a]\n" * 5000 + "b = [\n",  # regions, then a last line of none
    ],
    ids=lambda text: repr(text[:12]),
)
def test_adversarial_input_is_read_in_linear_time(text: str) -> None:
    """Nothing backtracks out of control: each takes milliseconds, not minutes."""
    start = time.perf_counter()
    SourceIndex.from_text(text)
    assert time.perf_counter() - start < 2.0


# ------------------------------------------- the same reading as a per-character scanner


_REFERENCE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}


class _ReferenceScanner:
    """The rules of the index, one character at a time: slow, but plain to check.

    ``SourceIndex.from_text`` must give exactly the positions this gives, for any text.
    """

    _KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-\"'")
    _BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
    _SCALAR = re.compile(r"[A-Za-z0-9_+\-.:]+")
    _DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
    _SPACE_TIME = re.compile(r" \d{2}:")
    _ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|(.))", re.DOTALL)

    def __init__(self, text: str) -> None:
        self.src = text.removeprefix("\ufeff")
        self.pos = 0
        self.positions: dict[KeyPath, tuple[int, int]] = {}
        self.aot: dict[KeyPath, int] = {}

    def run(self) -> dict[KeyPath, tuple[int, int]]:
        table: KeyPath = ()
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.src):
                return self.positions
            char = self.src[self.pos]
            if char == "[":
                table = self.header()
            elif char in self._KEY_START:
                self.keyval(table, 0)
            end = self.src.find("\n", self.pos)
            self.pos = len(self.src) if end < 0 else end

    def record(self, path: KeyPath, offset: int) -> None:
        if path not in self.positions:
            line_start = self.src.rfind("\n", 0, offset) + 1
            self.positions[path] = (self.src.count("\n", 0, offset) + 1, offset - line_start + 1)

    def header(self) -> KeyPath:
        start = self.pos
        is_array = self.src.startswith("[[", start)
        self.pos += 2 if is_array else 1
        names = self.key()
        path: KeyPath = ()
        for i, name in enumerate(names):
            path += (name,)
            if is_array and i == len(names) - 1:
                count = self.aot.get(path, 0)
                self.aot[path] = count + 1
                self.record(path, start)
                path += (count,)
            elif path in self.aot:
                path += (self.aot[path] - 1,)
            self.record(path, start)
        return path

    def keyval(self, table: KeyPath, depth: int) -> None:
        start, path = self.pos, table
        for name in self.key():
            path += (name,)
            self.record(path, start)
        self.skip()
        if self.src.startswith("=", self.pos):
            self.pos += 1
            self.skip()
            self.value(path, depth)

    def key(self) -> list[str]:
        names: list[str] = []
        while True:
            self.skip()
            char = self.src[self.pos : self.pos + 1]
            if char in ('"', "'"):
                raw = self.string()
                names.append(self._ESCAPE.sub(self.unescape, raw) if char == '"' else raw)
            else:
                match = self._BARE_KEY.match(self.src, self.pos)
                if not match:
                    return names
                names.append(match.group())
                self.pos = match.end()
            self.skip()
            if not self.src.startswith(".", self.pos):
                return names
            self.pos += 1

    def unescape(self, match: re.Match[str]) -> str:
        digits = match.group(1) or match.group(2) or match.group(3)
        if digits:
            return chr(int(digits, 16)) if int(digits, 16) <= 0x10FFFF else match.group(0)
        return _REFERENCE_ESCAPES.get(match.group(4), match.group(0))

    def value(self, path: KeyPath, depth: int) -> None:
        if depth > 100:
            return
        src, start = self.src, self.pos
        char = src[start : start + 1]
        if char in ("{", "["):
            self.brackets(path, depth, char == "[")
        elif src.startswith(('"""', "'''"), start):
            quote, end = char, start + 3
            while end < len(src) and not src.startswith(quote * 3, end):
                end += 2 if quote == '"' and src[end] == "\\" else 1
            if end >= len(src):
                self.pos = len(src)
                return
            end += 3
            for _ in range(2):
                end += src.startswith(quote, end)
            self.pos = end
        elif char in ('"', "'"):
            self.string()
        elif match := self._SCALAR.match(src, start):
            self.pos = match.end()
            if self._DATE.fullmatch(match.group()) and self._SPACE_TIME.match(src, self.pos):
                time_match = self._SCALAR.match(src, self.pos + 1)
                self.pos = time_match.end() if time_match else self.pos

    def brackets(self, path: KeyPath, depth: int, is_array: bool) -> None:
        self.pos += 1
        index = 0
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.src):
                return
            char = self.src[self.pos]
            if char == ("]" if is_array else "}"):
                self.pos += 1
                return
            if not is_array:
                if char in self._KEY_START:
                    self.keyval(path, depth + 1)
                else:
                    self.pos += 1
            elif char == ",":
                self.pos += 1
            else:
                if char in "{[":
                    self.record(path + (index,), self.pos)
                before = self.pos
                self.value(path + (index,), depth + 1)
                self.pos += self.pos == before
                index += 1

    def string(self) -> str:
        src, quote = self.src, self.src[self.pos]
        start = end = self.pos + 1
        while end < len(src) and src[end] not in (quote, "\n"):
            escaped = quote == '"' and src[end] == "\\" and src[end + 1 : end + 2] not in ("", "\n")
            end += 2 if escaped else 1
        self.pos = end + 1 if src[end : end + 1] == quote else end
        return src[start:end]

    def skip(self, newlines: bool = False) -> None:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif newlines and char == "#":
                end = src.find("\n", self.pos)
                self.pos = len(src) if end < 0 else end
            else:
                return


def absent_near(paths: Iterable[KeyPath]) -> list[KeyPath]:
    """Paths next to these that a document may well not have: a lookup of one reads it all."""
    near: list[KeyPath] = [("absent",)]
    for path in paths:
        last = path[-1]
        near += [path + ("absent",), path + (0,), path[:-1] + (f"{last}x" if isinstance(last, str) else last + 1,)]
    return near


def assert_same_as_reference(text: str) -> None:
    """Every path the reference records is where it says, and no other path near them is
    found, whatever the order of the lookups (the index reads only as far as each needs)."""
    expected = _ReferenceScanner(text).run()
    asked = [*expected, *absent_near(expected)]
    for order in (asked, asked[::-1]):
        idx = SourceIndex.from_text(text)
        assert {path: idx.position(path) for path in order} == {path: expected.get(path) for path in order}, text


_PIECES = [
    "a", "b", "k1", "-", "0", "1979-05-27", "1979-05-27 07:32:00", "1979-05-27 \u0661\u0662:00", "1e-4", "+inf",
    '"q"', '"a.b"', '"e\\u00e9"', '"\\""', '"\\', "'lit'", "'a.b'", "''", '""', "'", '"', '"]"', "']'",
    '"""', "'''", '""""', "''''", '"""x"""', '""""""', "'''y'''''", '"""a\\"""', '"""\\\\"""', "\\", "\\\n",
    "=", " = ", ".", " . ", ",", "[", "]", "[[", "]]", "{", "}", "#", "# ]", "# c\n", "\n", "\r\n", "\r", " ", "\t",
    "\u00e9", "\U0001f600", "\ufeff", "+", ":",
]
_LINES = [
    "[t]", "[[aot]]", "[aot]", "[aot.sub]", "[[aot.x]]", '["q.t"]', "[ 'l' . b ]", "[a.", "[]", "k = 1", "a.b = 2",
    "x = { y = 1, z = [ {w = 2} ] }", "arr = [1, # ]\n {x = 1}]", 'arr = [""""]"', "arr = ['''']'",
    "s = '''\n[fake]\n'''", 's = """\n[fake]\n\\"""\n"""', "n = [[1], [2, {a = 1}]]", '"k\\n" = 1',
    "'k' = { 'q' = 1 }", "w = [{}, {a=1}, [{}]]", "t = { a = 1 = 2, . = 3, {x = 1}, \"q\" = {r = 1} }",
    "'q'.b.\"c\" = { d = 1 }", "a . b = [ {c = 1} ]", "arr = [1979-05-27 07:32:00, 1 2 = 3, {x=1}]",
]


def _soup(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 10)):
        if rng.random() < 0.5:
            parts.append(rng.choice(_LINES) + rng.choice(["\n", "\r\n", " # c\n", " x\n", ""]))
        else:
            parts.append("".join(rng.choice(_PIECES) for _ in range(rng.randrange(1, 8))))
    return "".join(parts)


def test_same_reading_as_a_per_character_scanner() -> None:
    rng = random.Random(2024)
    docs = [*AWKWARD_DOCS, *GARBAGE]
    for doc in AWKWARD_DOCS:  # every one-character deletion, and some insertions
        docs += [doc[:i] + doc[i + 1 :] for i in range(len(doc))]
        docs += [doc[:i] + rng.choice(_PIECES) + doc[i:] for i in rng.sample(range(len(doc)), 40)]
    docs += [_soup(rng) for _ in range(3000)]
    for depth in (99, 100, 101, 102):  # around the nesting limit
        for inner in ("1", '"s,]"', "{x = 1}", "[1, {y = 2}]", "'k' = 2", ""):
            docs.append("a = " + "[" * depth + inner + "]" * depth + "\nz = 1\n")
            docs.append("a = " + "{b = " * depth + inner + "}" * depth + "\nz = 1\n")
            docs.append("a = " + "[{b = " * (depth // 2) + inner + "}]" * (depth // 2) + "\nz = 1\n")
    for doc in docs:
        assert_same_as_reference(doc)
