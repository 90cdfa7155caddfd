"""Argo's `{{...}}` substitution, pass by pass, as the controller runs it (Argo v3.5.15 and v4.1.2,
github.com/argoproj/argo-workflows; the two agree on everything modelled here).

- `replace` is util/template/replace.go `Replace` over util/template/template.go (fasttemplate with
  `{{`/`}}`): the text is JSON; a tag runs from `{{` to the next `}}` and a `{{` with no `}}` after it
  is an error (valyala/fasttemplate `NewTemplate`: "Cannot find end tag"). A simple tag is looked up
  in the map (simple_template.go `simpleReplace`) and its value written JSON-escaped
  (strconv.Quote); `{{=expr}}` is evaluated as expr-lang over `Expand(map)` plus sprig
  (expression_template.go `expressionReplace`, util/expr/env/env.go `GetFuncMap`, util/expand).
  With allowUnresolved (every pass below), an unknown simple tag, an expression that fails or
  yields nil is written back unchanged. The result must be valid JSON.
- `substitute_params` is workflow/common/util.go `SubstituteParams`: pass 1 replaces globals and
  locals over the whole template JSON -- which already holds the input parameter values (ProcessArgs
  writes the arguments into `inputs.parameters[].value` first), so tags inside values are resolved
  here; pass 2 adds `inputs.parameters.NAME` (from pass 1's result) and runs `Replace` again over
  pass 1's output. A value inserted in pass 1 is scanned again in pass 2.
- `substitute_pod_params` is workflow/controller/workflowpod.go `substitutePodParams`: the pod spec
  (built from pass 2's template, with ARGO_TEMPLATE = that template's JSON in the env) is scanned
  once more with the globals, `inputs.parameters.NAME` and `pod.name`. A value inserted in pass 2 is
  scanned here.

So a value's `{{workflow.name}}` reaches the container as the workflow's name and `{{=1+1}}` as
`2`: user values must reach a template in a form with no `{{` (flowc passes them as
`{{=sprig.b64enc(workflow.parameters['NAME'])}}`, evaluated once in pass 1 to base64).
"""
from __future__ import annotations

import base64
import json
from typing import Any

from .expr import ExprError, evaluate


class SubstitutionError(Exception):
    """Replace failed (no end tag, invalid JSON): the node errors."""


def _sprig() -> dict[str, Any]:
    """The few sprig generic functions (Masterminds/sprig v3) flowc and the tests use; `env` and
    `expandenv` are deleted by util/expr/env/env.go."""
    def b64dec(s):
        return base64.b64decode(str(s)).decode("utf-8", "replace")
    return {"b64enc": lambda s: base64.b64encode(str(s).encode("utf-8")).decode("ascii"),
            "b64dec": b64dec, "trim": lambda s: str(s).strip(), "upper": lambda s: str(s).upper(),
            "lower": lambda s: str(s).lower(), "quote": lambda s: '"%s"' % s,
            "int": lambda s: int(str(s)), "toString": str}


def expand(flat: dict[str, Any]) -> dict[str, Any]:
    """util/expand Expand: drop a key that is the parent of another ("a" beside "a.b"), then nest by
    dots (bellows.Expand)."""
    keys = sorted(flat)
    keep = {k: flat[k] for k in keys}
    for a, b in zip(keys, keys[1:]):
        if b.startswith(a + "."):
            keep.pop(a, None)
    out: dict[str, Any] = {}
    for key, value in keep.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        node[parts[-1]] = value
    return out


def expr_env(flat: dict[str, Any]) -> dict[str, Any]:
    env = expand(flat)
    env["sprig"] = _sprig()
    env["asInt"] = lambda s: int(str(s).strip())
    env["asFloat"] = lambda s: float(str(s).strip())
    env["toJson"] = lambda v: json.dumps(v, separators=(",", ":"))
    return env


def go_value(v: Any) -> str:
    """fmt.Sprintf("%v", result) for the values expr yields."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v == int(v) and abs(v) < 1e21 else repr(v)
    if isinstance(v, list):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_value(x)}" for k, x in sorted(v.items())) + "]"
    return str(v)


def bad_rune(value: str) -> str | None:
    """The first character strconv.Quote escapes in a way JSON cannot read (\\a \\v \\xNN \\UXXXXXXXX)."""
    for ch in value:
        if ch.isprintable() or ch in "\b\f\n\r\t":
            continue
        o = ord(ch)
        if o < 0x20 or o == 0x7F or 0xD800 <= o <= 0xDFFF or o > 0xFFFF:
            return ch
    return None


def _quote(value: str) -> str:
    if bad_rune(value) is not None:
        # Replace then fails its json.Valid check
        raise SubstitutionError("cannot finish template replacement because the result was invalid JSON")
    return json.dumps(value, ensure_ascii=False)[1:-1]


def replace(text: str, values: dict[str, str], *, allow_unresolved: bool = True) -> str:
    out, pos = [], 0
    env = None
    while True:
        start = text.find("{{", pos)
        if start < 0:
            out.append(text[pos:])
            break
        end = text.find("}}", start + 2)
        if end < 0:
            raise SubstitutionError("Cannot find end tag=\"}}\" in the template starting from %r" % text[start:start + 60])
        out.append(text[pos:start])
        tag = text[start + 2:end]
        pos = end + 2
        if tag.startswith("="):
            if env is None:
                env = expr_env(values)
            out.append(_expression(tag, env, allow_unresolved))
        elif tag.strip() in values:
            out.append(_quote(values[tag.strip()]))
        elif tag.rfind("{{") > 0 and tag[tag.rfind("{{") + 2:] in values:
            # simpleReplace: "Attempt to resolve nested tags": `{{a{{b}}` -> "{{a" + value of b
            i = tag.rfind("{{")
            out.append("{{" + tag[:i] + _quote(values[tag[i + 2:]]))
        elif allow_unresolved:
            out.append("{{" + tag + "}}")
        else:
            raise SubstitutionError("failed to resolve {{%s}}" % tag)
    result = "".join(out)
    try:
        json.loads(result)
    except ValueError:
        raise SubstitutionError("cannot finish template replacement because the result was invalid JSON") from None
    return result


def _expression(tag: str, env: dict, allow_unresolved: bool) -> str:
    source = tag[1:].replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")  # jsonutil.Fix
    keep = "{{" + tag + "}}"
    try:
        expression = json.loads('"%s"' % source)      # undo the template JSON's escapes
        result = evaluate(expression, env)
    except (ValueError, ExprError):
        if allow_unresolved:
            return keep
        raise SubstitutionError("failed to evaluate expression %r" % source) from None
    if result is None:
        if allow_unresolved:
            return keep
        raise SubstitutionError("failed to evaluate expression %r" % source)
    return json.dumps(go_value(result), ensure_ascii=False)[1:-1]


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def substitute_params(template: dict, global_params: dict[str, str], local_params: dict[str, str]) -> dict:
    """workflow/common/util.go SubstituteParams (two Replace passes)."""
    values = {**global_params, **local_params}
    pass1 = replace(dumps(template), values)
    t1 = json.loads(pass1)
    for p in (t1.get("inputs") or {}).get("parameters", []):
        if "value" not in p:
            raise SubstitutionError("inputs.parameters.%s had no value" % p["name"])
        values["inputs.parameters." + p["name"]] = p["value"]
    values["inputs.parameters"] = dumps((t1.get("inputs") or {}).get("parameters", []))
    for p in (t1.get("outputs") or {}).get("parameters", []):
        path = (p.get("valueFrom") or {}).get("path")
        if path:
            values["outputs.parameters.%s.path" % p["name"]] = path
    return json.loads(replace(pass1, values))


def substitute_pod_params(pod: dict, global_params: dict[str, str], template: dict, pod_name: str) -> dict:
    """workflow/controller/workflowpod.go substitutePodParams (one more Replace pass)."""
    values = dict(global_params)
    for p in (template.get("inputs") or {}).get("parameters", []):
        values["inputs.parameters." + p["name"]] = p.get("value", "")
    values["pod.name"] = pod_name
    return json.loads(replace(dumps(pod), values))
