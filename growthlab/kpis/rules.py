"""The milestone rule language: parse text into a tree, with errors that point at a column.

    rule    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | atom
    atom    := "(" or ")" | reached "(" KEY ")" | (count|days) "(" EVENT ")" OP INTEGER
    OP      := >= | > | <= | < | ==
    EVENT   := [A-Za-z_][A-Za-z0-9_.:-]* | "double-quoted"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Union

from growthlab.errors import RuleError

Func = Literal["count", "days"]
OPS = (">=", "<=", "==", ">", "<")
MAX_VALUE = 10**12
MAX_DEPTH = 50
AT_LEAST_ONCE = ((">=", 1), (">", 0))


@dataclass(frozen=True)
class Compare:
    func: Func
    event: str
    op: str
    value: int


@dataclass(frozen=True)
class Reached:
    key: str


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Union[Compare, Reached, Not, And, Or]  # noqa: UP007

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op>>=|<=|==|!=|=|>|<)
  | (?P<paren>[()])
  | (?P<name>[A-Za-z_][A-Za-z0-9_.:-]*)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int


def tokenize(text: str, where: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            char = text[pos]
            hint = " (unclosed quote?)" if char == '"' else ""
            raise RuleError(f"{where}, column {pos + 1}: unexpected {char!r}{hint}")
        if m.lastgroup != "space":
            tokens.append(Token(m.lastgroup, m.group(), pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, where: str):
        self.where = where
        self.tokens = tokenize(text, where)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, expected: str, token: Token | None = None) -> RuleError:
        token = token or self.tok
        found = "the end of the rule" if token.kind == "end" else repr(token.text)
        return RuleError(f"{self.where}, column {token.column}: expected {expected}, "
                         f"found {found}")

    def take(self, kind: str, text: str | None = None, expected: str = "") -> Token:
        tok = self.tok
        if tok.kind != kind or (text is not None and tok.text.lower() != text):
            raise self.fail(expected or repr(text or kind))
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "name" and self.tok.text.lower() == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise RuleError(f"{self.where}: the rule is empty; write e.g. count(search) >= 1")
        node = self.or_()
        if self.tok.kind != "end":
            raise self.fail("'and', 'or' or the end of the rule")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.keyword("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.keyword("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_(self) -> Node:
        tok = self.tok
        if self.keyword("not"):
            return Not(self.nested(tok, self.not_))
        return self.atom()

    def nested(self, tok: Token, parse):
        """Parse one level deeper (after 'not' or '('), refusing rules nested too deep."""
        if self.depth == MAX_DEPTH:
            raise RuleError(f"{self.where}, column {tok.column}: nested more than {MAX_DEPTH} "
                            "deep ('not' and parentheses); write the rule more simply")
        self.depth += 1
        node = parse()
        self.depth -= 1
        return node

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "paren" and tok.text == "(":
            self.i += 1
            node = self.nested(tok, self.or_)
            self.take("paren", ")", "')' to close the parenthesis")
            return node
        if tok.kind != "name" or tok.text.lower() not in ("count", "days", "reached"):
            if tok.kind == "name" and self.tokens[self.i + 1].text == "(":
                raise RuleError(f"{self.where}, column {tok.column}: unknown function "
                                f"{tok.text!r}; use count(), days() or reached()")
            raise self.fail("count(EVENT), days(EVENT), reached(MILESTONE), 'not' or '('")
        func = tok.text.lower()
        self.i += 1
        self.take("paren", "(", f"'(' after {func}")
        arg = self.argument(func)
        what = "milestone key" if func == "reached" else "event"
        self.take("paren", ")", f"')' after the {what}")
        if func == "reached":
            return Reached(arg)
        op = self.tok
        if op.kind != "op" or op.text not in OPS:
            raise self.fail(f"a comparison (>=, >, <=, <, ==) after {func}({arg})")
        self.i += 1
        number = self.tok
        if number.kind != "number":
            raise self.fail(f'a number after "{op.text}"')
        if not re.fullmatch(r"\d+", number.text):
            raise self.fail(f'a whole number (0 or more) after "{op.text}"')
        if int(number.text) > MAX_VALUE:
            raise RuleError(f"{self.where}, column {number.column}: {number.text} is too large; "
                            f"use a number up to {MAX_VALUE:,}")
        self.i += 1
        return Compare(func, arg, op.text, int(number.text))  # type: ignore[arg-type]

    def argument(self, func: str) -> str:
        tok = self.tok
        if tok.kind == "string" and func != "reached":
            self.i += 1
            # Only \" and \\ are escapes: exports hold names such as export\csv.
            text = re.sub(r'\\(["\\])', r"\1", tok.text[1:-1])
            if not text:
                raise RuleError(f"{self.where}, column {tok.column}: the event name is empty")
            return text
        if tok.kind == "name":
            self.i += 1
            return tok.text
        raise self.fail("a milestone key" if func == "reached" else "an event name")


def parse_rule(text: str, key: str = "rule") -> Node:
    """Parse one rule; errors read `rule for "KEY", column N: expected ...`."""
    return _Parser(text, f'rule for "{key}"').parse()


def walk(node: Node):
    yield node
    if isinstance(node, Not):
        yield from walk(node.item)
    elif isinstance(node, And | Or):
        for item in node.items:
            yield from walk(item)


def events_in(node: Node) -> set[str]:
    return {n.event for n in walk(node) if isinstance(n, Compare)}


def compared(node: Node) -> list[tuple[str, str]]:
    """The (function, event) pairs a rule compares, in the order it names them."""
    return list(dict.fromkeys((n.func, n.event) for n in walk(node) if isinstance(n, Compare)))


def dependencies(node: Node) -> list[str]:
    return [n.key for n in walk(node) if isinstance(n, Reached)]


def at_least_once_groups(items: tuple[Node, ...]) -> tuple[dict[str, tuple[str, ...]], list[Node]]:
    """Split the items of an `or` into "at least once" tests per function, and the others.

    `count(a) >= 1 or count(b) >= 1` holds exactly when count(a or b) >= 1, so each group is
    one count over all its events: a rule may list thousands of events.
    """
    groups: dict[str, set[str]] = {}
    others = []
    for item in items:
        if isinstance(item, Compare) and (item.op, item.value) in AT_LEAST_ONCE:
            groups.setdefault(item.func, set()).add(item.event)
        else:
            others.append(item)
    return {func: tuple(sorted(events)) for func, events in groups.items()}, others


def measures(node: Node) -> set[tuple[str, tuple[str, ...]]]:
    """The counts a rule needs, as (function, events); see at_least_once_groups."""
    if isinstance(node, Compare):
        return {(node.func, (node.event,))}
    if isinstance(node, Not):
        return measures(node.item)
    if isinstance(node, Reached):
        return set()
    found: set[tuple[str, tuple[str, ...]]] = set()
    items = node.items
    if isinstance(node, Or):
        groups, items = at_least_once_groups(node.items)
        found.update(groups.items())
    for item in items:
        found |= measures(item)
    return found
