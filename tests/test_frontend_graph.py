from pathlib import Path

from compiler.frontend.api import analyze_file

HERE = Path(__file__).parent / "flows"


def g(name, where="valid_own"):
    a = analyze_file(HERE / where / name)
    assert a.ok, a.diagnostics
    return a.graph.nodes


def test_linear():
    n = g("linear.py")
    assert [x.kind for x in n.values()] == ["start", "linear", "linear", "end"]


def test_branch_and_nested_branches():
    n = g("nested_branches.py")
    assert n["start"].kind == "split" and n["start"].matching_join == "j"
    assert n["a"].matching_join == "ja" and n["ja"].join_of == "a" and n["j"].join_of == "start"
    assert n["a1"].split_parents == ["start", "a"] and n["a1"].foreach_depth == 0


def test_foreach_depths_three_deep():
    n = g("nested_foreach3.py")
    assert [n[x].foreach_depth for x in ("start", "l1", "l2", "l3", "j3", "j2", "j1", "end")] == \
        [0, 1, 2, 3, 2, 1, 0, 0]
    assert n["l2"].matching_join == "j3" and n["j3"].join_of == "l2"
    assert n["start"].foreach_var == "xs"


def test_parallel():
    n = g("parallel_flow.py")
    assert n["start"].kind == "parallel" and n["start"].num_parallel == 3
    assert n["gather"].join_of == "start" and n["train"].foreach_depth == 1


def test_switch_shapes():
    n = g("switch_basic.py")
    assert n["start"].kind == "switch" and n["start"].cases == {"a": "a", "b": "b"}
    assert n["end"].in_ == ["a", "b"] and not n["start"].recursive
    n = g("nested_switch.py")
    assert n["x"].kind == "switch" and n["after"].kind == "linear"
    n = g("switch_in_foreach.py")
    assert n["pick"].kind == "switch" and n["pick"].foreach_depth == 1 and n["j"].join_of == "start"
    n = g("foreach_in_switch.py")
    assert n["many"].matching_join == "fj" and n["each"].foreach_depth == 1
    n = g("branch_in_switch.py")
    assert n["wide"].matching_join == "wj"
    n = g("switch_in_split_branch.py")
    assert n["a"].split_parents == ["start"] and n["j"].join_of == "start"


def test_recursive_switch():
    n = g("recursive_switch.py")
    assert n["loop"].recursive and n["loop"].kind == "switch"
    assert list(n)[-1] == "end"
    n = g("recursive_switch_foreach.py")
    assert n["loop"].recursive and n["loop"].foreach_depth == 1


def test_custom_start_end():
    a = analyze_file(HERE / "valid_own" / "custom_start_end.py")
    assert a.graph.start == "begin" and a.graph.end == "finish"
    assert a.graph.nodes["begin"].kind == "start"


def test_broken_graphs_do_not_crash():
    for p in sorted((HERE / "invalid_own").glob("*.py")) + sorted((HERE / "shared" / "invalid").glob("*.py")):
        analyze_file(p)
