"""A small evaluator for the expressions the Argo subset needs.

- expression tags `{{=...}}`, `valueFrom.expression` and DAG `depends` use expr-lang
  (github.com/expr-lang/expr v1.17.5 in Argo v3.5.15, v1.17.8 in v4.1.2). The lexer
  (parser/lexer/state.go, `identifier`) makes the words `not in or and matches contains startsWith
  endsWith let if else` operators, and the parser (parser/parser.go, `parseSecondary`) reads
  `true false nil` as literals: a task or variable of one of these names cannot be written.
  Precedence follows parser/operator/operator.go (`or ||` 10, `and &&` 15, comparisons and `in
  matches contains startsWith endsWith` 20, `+ -` 30, `* / %` 60, `??` 500; unary `not ! -` 50).
  Member access `a.b` / `a['b']` on a map gives nil for a missing key; on nil or a non-map it is an
  error (vm/runtime `Fetch`: "cannot fetch b from <nil>"). `let x = e; body` binds a name.
  Functions: `asInt`, `asFloat`, `string`, `toJson`, and callables found in the environment (Argo
  puts sprig's generic functions, minus `env` and `expandenv`, under `sprig`: util/expr/env/env.go).
- `when` uses govaluate after simple-tag substitution (docs/walk-through/conditionals.md): the same
  operators over literals; a bare word is a variable, which Argo does not provide, so an error.
"""
from __future__ import annotations

import json
import re

_KEYWORDS = ("not", "in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if", "else")
LITERALS = ("true", "false", "nil")
# words no identifier can be (what a task name must avoid in `depends`)
RESERVED = frozenset(_KEYWORDS + LITERALS)

_TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>\?\?|==|!=|<=|>=|&&|\|\||=~|[-+*/%<>!?:.,;=()\[\]])
  | (?P<name>[A-Za-z_$][A-Za-z0-9_]*)
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
        elif kind == "name" and value in _KEYWORDS:
            kind = "op"
        out.append((kind, value))
    out.append(("end", None))
    return out


_BINARY = {"??": 500, "||": 10, "or": 10, "&&": 15, "and": 15, "==": 20, "!=": 20, "<": 20, "<=": 20,
           ">": 20, ">=": 20, "=~": 20, "in": 20, "matches": 20, "contains": 20, "startsWith": 20,
           "endsWith": 20, "+": 30, "-": 30, "*": 60, "/": 60, "%": 60}


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
        self.env = dict(env)
        self.govaluate = govaluate
        self.dead = 0

    def peek(self):
        return self.toks[self.i]

    def take(self, value=None):
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise ExprError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        value = self.statement()
        if self.peek()[0] != "end":
            raise ExprError(f"unexpected {self.peek()[1]!r}")
        return value

    def statement(self):
        if self.peek() == ("op", "let") and not self.govaluate:
            self.take()
            kind, name = self.take()
            if kind != "name" or name in LITERALS:
                raise ExprError(f"let needs a name, got {name!r}")
            self.take("=")
            self.env[name] = self.ternary()
            self.take(";")
            return self.statement()
        return self.ternary()

    def ternary(self):
        cond = self.binary(0)
        if self.peek() == ("op", "?"):
            self.take()
            # both branches are parsed; only the chosen one's value is used (lazy, as expr's vm)
            a = self._lazy(bool(cond))
            self.take(":")
            b = self._lazy(not cond)
            return a if cond else b
        return cond

    def _lazy(self, wanted):
        if wanted:
            return self.ternary()
        self.dead += 1               # parse the branch not taken without evaluating it
        try:
            self.ternary()
        finally:
            self.dead -= 1
        return None

    def binary(self, min_prec):
        left = self.unary()
        while True:
            kind, op = self.peek()
            if kind != "op" or op not in _BINARY or _BINARY[op] <= min_prec:
                return left
            self.take()
            if op in ("||", "or") and left is True or op in ("&&", "and") and left is False:
                self.dead += 1                    # short-circuit: parsed, not evaluated
                try:
                    self.binary(_BINARY[op])
                finally:
                    self.dead -= 1
                continue
            right = self.binary(_BINARY[op])
            left = None if self.dead else self.apply(op, left, right)

    def apply(self, op, a, b):
        if op == "??":
            return b if a is None else a
        if op in ("||", "or", "&&", "and"):
            if not isinstance(a, bool) or not isinstance(b, bool):
                raise ExprError(f"invalid operation: {op} on {type(a).__name__} and {type(b).__name__}")
            return (a or b) if op in ("||", "or") else (a and b)
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op in ("=~", "matches"):
            return re.search(str(b), str(a)) is not None
        if op == "in":
            if isinstance(b, dict) or isinstance(b, list):
                return a in b
            raise ExprError(f"invalid operation: in {type(b).__name__}")
        if op in ("contains", "startsWith", "endsWith"):
            if not isinstance(a, str) or not isinstance(b, str):
                raise ExprError(f"invalid operation: {op} on non-strings")
            return {"contains": b in a, "startsWith": a.startswith(b), "endsWith": a.endswith(b)}[op]
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
        if (kind, value) in (("op", "!"), ("op", "not")):
            self.take()
            v = self.binary(50)
            if self.dead:
                return None
            if not isinstance(v, bool):
                raise ExprError(f"invalid operation: not {type(v).__name__}")
            return not v
        if (kind, value) == ("op", "-"):
            self.take()
            return -self.binary(50)
        return self.postfix(self.primary())

    def _args(self):
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.ternary())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return args

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
            if value == "nil" or (self.govaluate and value == "null"):
                return None
            if self.peek() == ("op", "("):
                fn = self.env.get(value)
                args = self._args()
                if self.dead:
                    return None
                return fn(*args) if callable(fn) else _func(value, args)
            if self.govaluate:
                raise ExprError(f"no parameter {value!r} in a when expression")
            return self.env.get(value)
        raise ExprError(f"unexpected {value!r}")

    def postfix(self, value):
        while True:
            tok = self.peek()
            if tok == ("op", ".") and not self.govaluate:
                self.take()
                kind, key = self.take()
                if kind != "name":
                    raise ExprError(f"expected a member name after '.', got {key!r}")
                value = None if self.dead else _member(value, key)
            elif tok == ("op", "[") and not self.govaluate:
                self.take()
                key = self.ternary()
                self.take("]")
                value = None if self.dead else _member(value, key)
            elif tok == ("op", "(") and self.dead:
                self._args()
                value = None
            elif tok == ("op", "(") and callable(value):
                try:
                    value = value(*self._args())
                except (TypeError, ValueError) as e:
                    raise ExprError(str(e)) from None
            else:
                return value


def _member(value, key):
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list) and isinstance(key, int):
        return value[key] if -len(value) <= key < len(value) else None
    # vm/runtime Fetch: "cannot fetch KEY from TYPE"
    raise ExprError(f"cannot fetch {key} from {'<nil>' if value is None else type(value).__name__}")


def evaluate(text: str, env: dict):
    """expr-lang subset."""
    return _Parser(text, env, govaluate=False).parse()


def evaluate_bool(text: str, env: dict) -> bool:
    """util/expr/argoexpr EvalBool: compile, run, and the result must be a bool."""
    result = evaluate(text, env)
    if not isinstance(result, bool):
        raise ExprError(f"unable to cast expression result '{result}' to bool")
    return result


def evaluate_when(text: str) -> bool:
    """govaluate subset, after simple tags were substituted."""
    result = _Parser(text, {}, govaluate=True).parse()
    if not isinstance(result, bool):
        raise ExprError(f"when {text!r} is not a boolean")
    return result
