"""A small evaluator for the expressions the Argo subset needs.

- expression tags `{{=...}}` and `valueFrom.expression` use expr-lang
  (docs/variables.md, "Expression"; https://expr-lang.org/docs/language-definition): literals,
  member access `a.b` and `a['b']`, `== != < <= > >=`, `&& || !` (and `and or not`), `+ - * /`,
  `cond ? a : b`, `??`, and Argo's functions `asInt`, `asFloat`, `string`, `toJson`.
  A missing member is nil (docs/variables.md: "An expression tag sees the value as nil").
- `when` uses govaluate after simple-tag substitution (docs/walk-through/conditionals.md): the same
  operators over literals; a bare word is a variable, which Argo does not provide, so an error.
"""
from __future__ import annotations

import json
import re

_TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>\?\?|==|!=|<=|>=|&&|\|\||=~|[-+*/%<>!?:.,()\[\]])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
)""", re.X)


class ExprError(ValueError):
    pass


def tokenize(text: str):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot read expression at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = bytes(value[1:-1], "utf-8").decode("unicode_escape")
        elif kind == "num":
            value = float(value) if "." in value else int(value)
        out.append((kind, value))
    out.append(("end", None))
    return out


_BINARY = {"??": 1, "||": 2, "or": 2, "&&": 3, "and": 3, "==": 4, "!=": 4, "<": 5, "<=": 5, ">": 5,
           ">=": 5, "=~": 4, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7}


def _func(name, args):
    if name == "asInt":
        return int(str(args[0]).strip())
    if name == "asFloat":
        return float(str(args[0]).strip())
    if name == "string":
        return str(args[0])
    if name in ("toJson", "toJSON"):
        return json.dumps(args[0], separators=(",", ":"))
    raise ExprError(f"unknown function {name}")


class _Parser:
    def __init__(self, text, env, govaluate):
        self.toks = tokenize(text)
        self.i = 0
        self.env = env
        self.govaluate = govaluate

    def peek(self):
        return self.toks[self.i]

    def take(self, value=None):
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise ExprError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        value = self.ternary()
        if self.peek()[0] != "end":
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return value

    def ternary(self):
        cond = self.binary(0)
        if self.peek() == ("op", "?"):
            self.take()
            # both branches are parsed; only the chosen one's value is used (lazy enough for nil refs)
            a = self.ternary()
            self.take(":")
            b = self.ternary()
            return a if cond else b
        return cond

    def binary(self, min_prec):
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind not in ("op", "name") or op not in _BINARY or _BINARY[op] <= min_prec:
                return left
            self.take()
            right = self.binary(_BINARY[op])
            left = self.apply(op, left, right)

    def apply(self, op, a, b):
        if op == "??":
            return b if a is None else a
        if op in ("||", "or"):
            return bool(a) or bool(b)
        if op in ("&&", "and"):
            return bool(a) and bool(b)
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op == "=~":
            return re.search(str(b), str(a)) is not None
        if a is None or b is None:
            raise ExprError(f"operation {op} on nil")
        if op == "+" and (isinstance(a, str) or isinstance(b, str)):
            if not (isinstance(a, str) and isinstance(b, str)):
                raise ExprError("+ of a string and a number")
            return a + b
        return {"<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b, ">=": lambda: a >= b,
                "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
                "%": lambda: a % b}[op]()

    def unary(self):
        kind, value = self.peek()
        if (kind, value) in (("op", "!"), ("name", "not")):
            self.take()
            return not self.unary()
        if (kind, value) == ("op", "-"):
            self.take()
            return -self.unary()
        return self.postfix(self.primary())

    def primary(self):
        kind, value = self.take()
        if kind in ("num", "str"):
            return value
        if (kind, value) == ("op", "("):
            v = self.ternary()
            self.take(")")
            return v
        if kind == "name":
            if value in ("true", "false"):
                return value == "true"
            if value in ("nil", "null"):
                return None
            if self.peek() == ("op", "("):
                self.take()
                args = []
                while self.peek() != ("op", ")"):
                    args.append(self.ternary())
                    if self.peek() == ("op", ","):
                        self.take()
                self.take(")")
                return _func(value, args)
            if self.govaluate:
                raise ExprError(f"no parameter {value!r} in a when expression")
            return self.env.get(value)
        raise ExprError(f"unexpected {value!r}")

    def postfix(self, value):
        while True:
            tok = self.peek()
            if tok == ("op", ".") and not self.govaluate:
                self.take()
                value = _member(value, self.take()[1])
            elif tok == ("op", "[") and not self.govaluate:
                self.take()
                key = self.ternary()
                self.take("]")
                value = _member(value, key)
            else:
                return value


def _member(value, key):
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list) and isinstance(key, int):
        return value[key] if -len(value) <= key < len(value) else None
    return None


def evaluate(text: str, env: dict):
    """expr-lang subset."""
    return _Parser(text, env, govaluate=False).parse()


def evaluate_when(text: str) -> bool:
    """govaluate subset, after simple tags were substituted."""
    result = _Parser(text, {}, govaluate=True).parse()
    if not isinstance(result, bool):
        raise ExprError(f"when {text!r} is not a boolean")
    return result
