"""``python -m hermes_parse.xinference install|status|uninstall``.

``install`` writes two files into the site-packages of the Python that runs
it (the one that runs Xinference):

* ``_hermes_parse_xinference.py``: a copy of ``hermes_parse/xinference/_hook.py``,
  a start-up hook that imports nothing and waits for Xinference's tool-parser
  package to be imported;
* ``hermes_parse_xinference.pth``: one line that every Python of that
  environment runs at start-up::

      import _hermes_parse_xinference; _hermes_parse_xinference.start(False)

``start(True)`` with ``--replace-qwen``.  ``uninstall`` removes both.  The
command lives here, not in ``__init__.py``, so that ``python -m`` runs a
module that nothing has imported before (no runpy warning when the package
was already imported, e.g. by an older ``.pth`` line).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Optional

from . import HOOK_NAME, NAME, PTH_NAME, PYTHON_NAME, TOOL_PARSERS_MODULE

PROG = "python -m hermes_parse.xinference"
HOOK_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_hook.py")
# The .pth line of hermes-parse <= 0.1.0 (it imported hermes_parse at every start-up).
OLD_PTH_MARK = "import hermes_parse.xinference"


def pth_line(replace_qwen: bool) -> str:
    return f"import {HOOK_NAME}; {HOOK_NAME}.start({bool(replace_qwen)})\n"


def site_dir() -> str:
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def find_xinference(site: Optional[str]) -> Optional[str]:
    """The directory of the ``xinference`` package (in ``site`` when given,
    else where this Python imports it from), without importing it; None if absent."""
    if site:
        candidate = os.path.join(site, "xinference")
        return candidate if os.path.isdir(candidate) else None
    module = sys.modules.get("xinference")  # already imported (or a stand-in: tests)
    locations = getattr(module, "__path__", None)
    if not locations:
        try:
            spec = importlib.util.find_spec("xinference")
        except (ImportError, ValueError):
            return None
        locations = spec.submodule_search_locations if spec is not None else None
    return list(locations)[0] if locations else None


def _check_xinference(site: Optional[str]) -> Optional[str]:
    """An error message when Xinference (with its tool-parser package) is not there."""
    where = f"in {site}" if site else f"for this Python ({sys.executable})"
    root = find_xinference(site)
    if root is None:
        return (
            f"Xinference is not installed {where}.\n"
            "Run this command with the Python of the environment that runs Xinference "
            "(where `python -c 'import xinference'` works), or install Xinference first.\n"
            "--force writes the files anyway."
        )
    parsers = os.path.join(root, *TOOL_PARSERS_MODULE.split(".")[1:])
    if not os.path.isfile(os.path.join(parsers, "__init__.py")):
        return (
            f"this Xinference ({root}) has no tool-parser package ({TOOL_PARSERS_MODULE}, "
            "present in Xinference 4.1.0): it is too old for hermes-parse.\n"
            "--force writes the files anyway."
        )
    return None


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def install(site: str, replace_qwen: bool) -> None:
    pth = os.path.join(site, PTH_NAME)
    hook = os.path.join(site, HOOK_NAME + ".py")
    with open(HOOK_SOURCE, encoding="utf-8") as handle:
        source = handle.read()
    with open(hook, "w", encoding="utf-8") as handle:
        handle.write(source)
    line = pth_line(replace_qwen)
    with open(pth, "w", encoding="utf-8") as handle:  # replaces an older install's line
        handle.write(line)
    names = f"{NAME!r} and {PYTHON_NAME!r}" + (", and takes over 'qwen'" if replace_qwen else "")
    print(f"wrote {pth}, one line that every Python of this environment runs at start-up:")
    print(f"    {line.strip()}")
    print(f"wrote {hook}, the hook it imports (a copy of {HOOK_SOURCE}):")
    print("    it imports nothing at start-up; when Xinference imports its tool parsers")
    print(f"    ({TOOL_PARSERS_MODULE}), it imports hermes_parse.xinference and registers {names}.")
    print(f"Restart Xinference.  HERMES_PARSE_XINFERENCE=0 turns it off; `{PROG} uninstall` removes both files.")


def uninstall(site: str) -> int:
    removed = False
    for name in (PTH_NAME, HOOK_NAME + ".py"):
        path = os.path.join(site, name)
        if os.path.exists(path):
            os.remove(path)
            print(f"removed {path}")
            removed = True
    if not removed:
        print(f"not installed ({os.path.join(site, PTH_NAME)} does not exist)")
    return 0


def status(site: str) -> int:
    pth = os.path.join(site, PTH_NAME)
    hook = os.path.join(site, HOOK_NAME + ".py")
    line = _read(pth)
    if line is None:
        print(f"not installed ({pth} does not exist)")
        return 1
    print(f"installed: {pth}: {line.strip()}")
    if OLD_PTH_MARK in line:
        print(f"  written by an older hermes-parse: it imports hermes_parse at every start-up; `{PROG} install` replaces it")
        return 0
    hook_text = _read(hook)
    if hook_text is None:
        print(f"  broken: its hook {hook} is missing; `{PROG} install` writes it again")
        return 1
    if hook_text != _read(HOOK_SOURCE):
        print(f"  its hook {hook} differs from this hermes-parse's; `{PROG} install` updates it")
    else:
        print(f"  hook: {hook} (up to date)")
    if os.environ.get("HERMES_PARSE_XINFERENCE") == "0":
        print("  turned off in this shell: HERMES_PARSE_XINFERENCE=0")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Activate hermes-parse in every Xinference process of this Python environment.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help=f"write {PTH_NAME} and its hook {HOOK_NAME}.py into site-packages")
    p_install.add_argument("--replace-qwen", action="store_true", help="take over the 'qwen' tool parser too")
    p_install.add_argument("--site", help="the site-packages directory (default: this Python's)")
    p_install.add_argument("--force", action="store_true", help="write the files even where Xinference is not installed")
    p_uninstall = sub.add_parser("uninstall", help=f"remove {PTH_NAME} and {HOOK_NAME}.py")
    p_uninstall.add_argument("--site")
    p_status = sub.add_parser("status", help="say whether it is installed (exit 1 if not)")
    p_status.add_argument("--site")
    args = parser.parse_args(argv)
    site = args.site or site_dir()
    if args.command == "install":
        problem = None if args.force else _check_xinference(args.site)
        if problem is not None:
            print(f"{PROG} install: {problem}", file=sys.stderr)
            return 1
        install(site, args.replace_qwen)
        return 0
    if args.command == "uninstall":
        return uninstall(site)
    return status(site)


if __name__ == "__main__":
    sys.exit(main())
