"""The environment variables advisor/settings.py reads, found in its source: the variables an API key
variable may never name (advisor/trials/runners/endpoint_rules.py), and the list the README's
configuration table must cover (tests/test_docs.py)."""

import ast
import functools
from pathlib import Path

SETTINGS_PATH = Path(__file__).with_name("settings.py")


def _environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"


def _read_name(node: ast.AST) -> str | None:
    """The variable a node reads: os.environ.get("X"), os.getenv("X"), os.environ["X"], "X" in os.environ,
    a helper of settings.py named env_* called with "X" first (env_bool, env_list), or dj_database_url.config()."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        func = node.func
        if isinstance(func, ast.Attribute) and ((func.attr == "get" and _environ(func.value)) or
                                                 (func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os")):
            return node.args[0].value
        if isinstance(func, ast.Name) and func.id.startswith("env_"):
            return node.args[0].value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "config" \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "dj_database_url":
        given = [kw.value.value for kw in node.keywords if kw.arg == "env" and isinstance(kw.value, ast.Constant)]
        return given[0] if given else "DATABASE_URL"  # dj_database_url's own default
    if isinstance(node, ast.Subscript) and _environ(node.value) and isinstance(node.slice, ast.Constant):
        return node.slice.value
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and _environ(node.comparators[0]) and isinstance(node.left, ast.Constant)):
        return node.left.value
    return None


@functools.cache
def settings_env_names(path: Path = SETTINGS_PATH) -> frozenset[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return frozenset(name for node in ast.walk(tree) if (name := _read_name(node)))
