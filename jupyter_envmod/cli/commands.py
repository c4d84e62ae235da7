"""The ``jupyter envmod`` commands: each loads the configuration, calls the core and
prints. Work that changes disk runs as a core task followed by :class:`TaskProgress`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..tasks import CANCELLED, SUCCEEDED, Task
from .progress import TaskProgress

if TYPE_CHECKING:  # without importing the core at parser-build time
    from ..operations import Environments


def _environments() -> Environments:
    from ..config import load_envmod
    from ..operations import Environments

    return Environments(load_envmod())


def _find(envs: Environments, args: argparse.Namespace) -> Any:
    return envs.find(name=args.name, path=args.path)


def confirm(question: str, args: argparse.Namespace, *, needs_terminal: bool = False) -> bool:
    """True to go ahead. -y always does; on a terminal the user is asked; without a
    terminal the answer is yes — except for ``needs_terminal`` operations (delete),
    which then refuse and say to pass -y."""
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        if needs_terminal:
            raise InvalidInput(f"{question.rstrip('?')}: refusing without confirmation; pass -y to confirm.")
        return True
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def run_task(start: Callable[[Environments], Task], *, verbose: bool = False) -> Task:
    """Start a task on a fresh event loop and follow it until it ends. Ctrl-C cancels
    it (and waits for it to put things back) before the command exits."""

    async def go() -> Task:
        task = start(_environments())
        with TaskProgress(task, verbose=verbose):
            try:
                await task.wait()
            except asyncio.CancelledError:
                task.cancel()
                await task.wait()
                raise
        return task

    return asyncio.run(go())


def finish(task: Task) -> int:
    """Print a finished task's outcome; the exit status."""
    if task.state == SUCCEEDED:
        result = task.result or {}
        summary = result.get("summary")
        for change in (result.get("plan") or {}).get("changes", []):
            old, new = change["old"] or "", change["new"] or ""
            arrow = f"{old} -> {new}" if old and new else (new or f"{old} (removed)")
            print(f"  {change['kind']:>6}  {change['name']} ({change['source']}) {arrow}")
        if result.get("dry_run"):
            print(f"Dry run: {summary}. Nothing was changed.")
        elif summary:
            print(f"{task.kind}: done ({summary}).")
        else:
            print(f"{task.kind}: done.")
        print_outputs(result)
        return 0
    error = task.error or {}
    print(f"jupyter envmod: {error.get('message', task.state)}", file=sys.stderr)
    details = error.get("details") or {}
    if details.get("argv"):
        print("  command: " + " ".join(details["argv"]), file=sys.stderr)
    for line in details.get("output_tail", [])[-15:]:
        print("  | " + line, file=sys.stderr)
    if task.state == CANCELLED:
        return 1
    return 2 if error.get("reason") == "invalid-input" else 1


def print_outputs(result: dict[str, Any]) -> None:
    """How to use what was generated: the kernel's name, the module lines."""
    kernel = result.get("kernel")
    if kernel:
        print(f"Jupyter kernel: {kernel['display_name']!r} ({kernel['name']}) in {kernel['dir']}")
    module = result.get("module")
    if module:
        print("To use it in a terminal or batch job:")
        for line in module["usage"]:
            print(f"  {line}")


def print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Columns padded to the widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(col.ljust(w) for col, w in zip(row, widths, strict=True)).rstrip())


def _output_options(args: argparse.Namespace, **extra: Any) -> Any:
    from ..outputs import OutputOptions

    return OutputOptions(
        display_name=getattr(args, "display_name", None),
        formats=getattr(args, "formats", None),
        module_dir=getattr(args, "module_dir", None),
        module_app=getattr(args, "module_app", None),
        module_deps=list(getattr(args, "module_deps", [])),
        capture_loaded=bool(getattr(args, "capture_loaded", False)),
        **extra,
    )


# -- commands ------------------------------------------------------------------------


def cmd_site(args: argparse.Namespace) -> int:
    from ..config import load_envmod
    from ..manager import EnvModManager

    manager = EnvModManager(load_envmod())
    info = asyncio.run(manager.site_info())
    if args.json:
        print(json.dumps(info.to_json(), indent=2))
        return 0
    roots = info.config["env_dirs"]
    print(f"jupyter_envmod {info.version} for {info.user} on {info.arch}")
    print("\nEngines:")
    for name, engine in info.engines.items():
        mark = " (default)" if name == info.config["default_engine"] else ""
        state = "available" if engine.available else "unavailable"
        print(f"  {name}{mark}: {state} — {engine.detail}")
    print("\nWhere environments go:")
    for i, root in enumerate(roots):
        print(f"  {root}{'  (new environments)' if i == 0 else ''}")
    print(f"  kernels: {info.config['kernel_dir']}")
    print(f"  module files: {info.config['module_dir']}")
    print(f"\nModule system: {info.module_system.detail}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    envs = _environments().all()
    if args.json:
        print(json.dumps([e.to_json() for e in envs], indent=2))
        return 0
    if not envs:
        print("No environments found. Create one with: jupyter envmod create -n NAME [PKG ...]")
        return 0
    rows = [(e.name, e.engine, e.python_version or "-", e.state, e.path) for e in envs]
    print_table(("NAME", "ENGINE", "PYTHON", "STATE", "PATH"), rows)
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    envs = _environments()
    data = envs.describe(_find(envs, args))
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key in ("name", "path", "id", "type", "engine", "python_version", "state", "managed", "packages"):
        print(f"{key + ':':<16}{data[key]}")
    for source in ("conda", "pip"):
        if data["requested"][source]:
            print(f"{'requested ' + source + ':':<16}{' '.join(data['requested'][source])}")
    if data["channels"]:
        print(f"{'channels:':<16}{' '.join(data['channels'])}")
    if data["module_deps"]:
        print(f"{'module deps:':<16}{' '.join(data['module_deps'])}")
    if data["kernel"]:
        print(f"{'kernel:':<16}{data['kernel']}")
    if data["module"]:
        print(f"{'module:':<16}{data['module']}")
    for path in data["modules"]:
        print(f"{'module file:':<16}{path}")
    return 0


def cmd_packages(args: argparse.Namespace) -> int:
    envs = _environments()
    packages = envs.packages(_find(envs, args))
    if args.json:
        print(json.dumps([p.to_json() for p in packages], indent=2))
        return 0
    rows = [(p.name, p.version, p.build, p.channel, "*" if p.requested else "") for p in packages]
    header = ("NAME", "VERSION", "BUILD", "CHANNEL", "REQUESTED")
    print_table(header, rows)
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    from ..modsys import loaded_modules
    from ..operations import CreateOptions
    from ..specs import parse_spec_file

    spec = parse_spec_file(Path(args.spec_file).expanduser()) if args.spec_file else None
    opts = CreateOptions(
        name=args.name,
        path=args.path,
        engine=args.engine,
        python=args.python,
        packages=list(args.packages),
        pip_packages=list(args.pip_packages),
        channels=list(args.channels),
        spec=spec,
        dry_run=args.dry_run,
        outputs=_output_options(args, kernel=args.jupyter, module=args.module),
    )
    envs = _environments()
    plan = envs.validate_create(opts)  # every input checked before the question is asked
    if not args.dry_run:
        what = " ".join([*plan.packages, *plan.pip_packages]) or "(python only)"
        if plan.explicit:
            what = f"{len(plan.explicit)} packages from {spec.source if spec else 'the spec'}"
        print(f"Create {plan.engine} environment {plan.name} at {plan.prefix}: python {plan.python}, {what}")
        if plan.module_deps:
            print(f"Module dependencies: {' '.join(plan.module_deps)}")
        elif (loaded := loaded_modules()) and not args.capture_loaded:
            print(f"Modules loaded in this shell but not recorded: {' '.join(loaded)} (--loaded-modules records them)")
        if not confirm("Proceed?", args):
            print("Nothing was changed.")
            return 1
    return finish(run_task(lambda e: e.create(opts), verbose=args.verbose))


def cmd_change(args: argparse.Namespace) -> int:
    from ..models import ChangeRequest

    action = args.action
    if action == "update" and getattr(args, "all", False):
        if args.packages:
            raise InvalidInput("update --all takes no package names.", details={"field": "packages"})
        action = "update-all"
    elif not args.packages:
        raise InvalidInput("Name the packages to update, or pass --all.", details={"field": "packages"})
    request = ChangeRequest(action, list(args.packages), "pip" if args.pip else "conda", list(args.channels))
    envs = _environments()
    env = _find(envs, args)
    return preview_then_run(lambda e, dry_run: e.change(env, request, dry_run=dry_run), args)


def preview_then_run(start: Callable[[Environments, bool], Task], args: argparse.Namespace) -> int:
    """A change with ``--dry-run``/``-y``: on a terminal, show the dry run's plan and
    ask before the real run; otherwise run as asked."""
    if not args.dry_run and not args.yes and sys.stdin.isatty():
        if finish(run_task(lambda e: start(e, True), verbose=args.verbose)) != 0:
            return 1
        if not confirm("Proceed?", args):
            print("Nothing was changed.")
            return 1
    return finish(run_task(lambda e: start(e, args.dry_run), verbose=args.verbose))


def _time(seconds: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def cmd_history(args: argparse.Namespace) -> int:
    envs = _environments()
    revisions = envs.history(_find(envs, args))
    if args.json:
        print(json.dumps([r.to_json(packages=False) for r in revisions], indent=2))
        return 0
    if not revisions:
        print("No revisions yet: the first change records one.")
        return 0
    for rev in revisions:
        asked = rev.request.get("specs") or (
            [f"revision {rev.request['revision']}"] if "revision" in rev.request else []
        )
        what = f"{rev.action} {' '.join(asked)}".rstrip()
        print(f"rev {rev.rev}  {_time(rev.time)}  {rev.user}  {what}")
        for change in rev.diff.get("added", []):
            print(f"    + {change['name']} {change['new']} ({change['source']})")
        for change in rev.diff.get("removed", []):
            print(f"    - {change['name']} {change['old']} ({change['source']})")
        for change in rev.diff.get("changed", []):
            print(f"    ~ {change['name']} {change['old']} -> {change['new']} ({change['source']})")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..history import parse_rev

    rev = parse_rev(args.revision)
    envs = _environments()
    env = _find(envs, args)
    return preview_then_run(lambda e, dry_run: e.restore(env, rev, dry_run=dry_run), args)


def cmd_outdated(args: argparse.Namespace) -> int:
    envs = _environments()
    env = _find(envs, args)
    task = run_task(lambda e: e.outdated(env), verbose=args.verbose)
    if task.state != SUCCEEDED:
        return finish(task)
    result = task.result or {}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = result.get("outdated", [])
    if not rows:
        print(f"Every package of {env.name} is at the newest version the channels and index offer.")
        return 0
    table = [(r["name"], r["source"], r["installed"], r["latest"] or "", r["update"] or "held back") for r in rows]
    header = ("NAME", "SOURCE", "INSTALLED", "LATEST", "UPDATE --ALL")
    print_table(header, table)
    target = f"-p {env.path}"
    print(f"'jupyter envmod update --all {target}' makes the changes in the last column ({result.get('summary')}).")
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    envs = _environments()
    info = envs.share(_find(envs, args))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    spec = info["spec"]
    if args.out:
        Path(args.out).expanduser().write_text(spec["text"], encoding="utf-8")
        print(f"To recreate it, send {args.out} and run:")
        for line in info["recreate"]:
            print("  " + line.replace(spec["filename"], args.out))
    else:
        print(f"To recreate it, save this as {spec['filename']} and run:")
        for line in info["recreate"]:
            print(f"  {line}")
        print()
        sys.stdout.write(spec["text"])
    if info["use"]:
        print()
        print("To use it as it is (a kernel and module files of their own, the environment unchanged):")
        for line in info["use"]:
            print(f"  {line}")
    for note in info["notes"]:
        print()
        print(note)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from ..operations import generated_files

    envs = _environments()
    env = _find(envs, args)
    files = [str(p) for p in generated_files(env.state_record)]
    listing = "\n".join(f"  {p}" for p in [env.path, *files])
    print(f"Delete environment {env.name}; this removes:\n{listing}")
    if not confirm("Delete?", args, needs_terminal=True):
        print("Nothing was deleted.")
        return 1
    return finish(run_task(lambda e: e.delete(env)))


def cmd_export(args: argparse.Namespace) -> int:
    envs = _environments()
    _, text = envs.export(_find(envs, args), args.format)
    if args.out:
        Path(args.out).expanduser().write_text(text, encoding="utf-8")
        print(f"Wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_clone(args: argparse.Namespace) -> int:
    envs = _environments()
    source = _find(envs, args)
    target = args.to_name or args.to_path
    if not confirm(f"Copy {source.name} ({source.path}) to {target}?", args):
        print("Nothing was changed.")
        return 1
    return finish(run_task(lambda e: e.clone(source, to_name=args.to_name, to_path=args.to_path), verbose=args.verbose))


def cmd_retry(args: argparse.Namespace) -> int:
    envs = _environments()
    env = _find(envs, args)
    op = (env.state_record.operation or {}) if env.state_record else {}
    if not confirm(f"Run the interrupted {op.get('kind', 'operation')} of {env.path} again?", args):
        return 1
    return finish(run_task(lambda e: e.retry(e.find(path=env.path)), verbose=args.verbose))


def cmd_kernel(args: argparse.Namespace) -> int:
    envs = _environments()
    env = _find(envs, args)
    if args.remove:
        removed = envs.remove_kernel(env)
        print("\n".join(f"removed {p}" for p in removed) or f"{env.name} has no kernel written by jupyter envmod.")
        return 0
    opts = _output_options(args, kernel=True)
    return finish(run_task(lambda e: e.kernel(e.find(path=env.path), opts), verbose=args.verbose))


def _show_generated(
    args: argparse.Namespace,
    found: list[Any],
    remove: Callable[[list[Any]], object],
    empty: str,
    row: Callable[[Any], str],
) -> int:
    """What `kernels` and `modules` share: remove the orphans, or print JSON or rows."""
    if args.remove_orphans:
        orphans = [item for item in found if item.orphan]
        remove(orphans)
        for item in orphans:
            print(f"removed {getattr(item, 'dir', None) or item.path} ({item.orphan})")
        return 0
    if args.json:
        print(json.dumps([item.to_json() for item in found], indent=2))
        return 0
    if not found:
        print(empty)
    for item in found:
        print(row(item) + (f"  ORPHAN: {item.orphan}" if item.orphan else ""))
    return 0


def cmd_kernels(args: argparse.Namespace) -> int:
    from ..config import load_envmod
    from ..kernels import list_kernels, remove_kernel

    envmod = load_envmod()

    def remove(orphans: list[Any]) -> None:
        for info in orphans:
            remove_kernel(envmod, info.name)

    return _show_generated(
        args,
        list_kernels(envmod),
        remove,
        f"No kernels written by jupyter envmod in {envmod.expanded('kernel_dir')}.",
        lambda k: f"{k.name}  {k.display_name!r}  {k.env_path}",
    )


def cmd_module(args: argparse.Namespace) -> int:
    envs = _environments()
    env = _find(envs, args)
    if args.remove:
        removed = envs.remove_module(env)
        print(
            "\n".join(f"removed {p}" for p in removed) or f"{env.name} has no module files written by jupyter envmod."
        )
        return 0
    result = envs.module(env, _output_options(args, module=True))
    for path in result["files"].values():
        print(f"wrote {path}")
    print_outputs({"module": result})
    return 0


def cmd_modules(args: argparse.Namespace) -> int:
    from ..config import load_envmod
    from ..modulefiles import list_module_files, remove_module_files

    envmod = load_envmod()
    if args.available:
        from ..modsys import AVAILABLE

        names = AVAILABLE.get()
        if args.json:
            print(json.dumps(names, indent=2))
        else:
            print("\n".join(names) or "No module system found, or it offers no modules.")
        return 0
    return _show_generated(
        args,
        list_module_files(envmod, module_dir=args.module_dir, module_app=args.module_app),
        lambda orphans: remove_module_files([f.path for f in orphans]),
        "No module files written by jupyter envmod.",
        lambda f: f"{f.format:<4} {f.module}  {f.path}  ({f.env_path})",
    )
