"""Kernel launcher written by jupyter_envmod into each kernelspec directory.

Jupyter runs it with the environment's own Python (``kernel.json`` argv is
``[<env>/bin/python, <this file>, "-f", "{connection_file}"]``). At every kernel
start it:

1. sets each thread variable (OMP_NUM_THREADS, MKL_NUM_THREADS, ...) that is not
   already set to the number of CPUs this job may use: SLURM_CPUS_PER_TASK when it
   is a positive integer, else the CPU affinity mask, capped by the cgroup CPU
   quota (v1 or v2) of the process;
2. loads the module dependencies recorded for the environment through the module
   system's Python interface (Lmod or Environment Modules), so the kernel sees the
   same compiler/MPI libraries as ``module load`` in a terminal; a module that
   cannot be loaded stops the kernel start with a message naming it;
3. drops PYTHONPATH (unless configured to keep it), sets PYTHONNOUSERSITE=1 and
   applies the site's extra kernel variables, which win over everything above;
4. replaces itself with ``python -m ipykernel_launcher <arguments>``, so the
   kernel keeps this process id and Jupyter's interrupt and restart reach it.

Its settings come from ``launcher.json`` next to it. It uses the standard library
only and runs on Python 3.8 and later; without module dependencies it starts no
subprocess.
"""

from __future__ import annotations

import json
import os
import sys

SETTINGS_FILE = "launcher.json"
PROG = "jupyter_envmod kernel launcher"
PROC_CGROUP = "/proc/self/cgroup"
CGROUP_ROOT = "/sys/fs/cgroup"


class LaunchError(Exception):
    """Stops the kernel start; the message is printed to stderr."""


def warn(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")


# -- settings -----------------------------------------------------------------------------


def read_settings(directory: str) -> dict:
    path = os.path.join(directory, SETTINGS_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.load(f)
    except (OSError, ValueError) as err:
        raise LaunchError(
            f"cannot read the kernel settings {path} ({err}); recreate this environment's kernel with jupyter_envmod"
        ) from err
    if not isinstance(settings, dict):
        raise LaunchError(f"{path} does not hold a JSON object; recreate this environment's kernel with jupyter_envmod")
    return settings


def environment_label(settings: dict) -> str:
    env = settings.get("environment") or {}
    return f"{env.get('name') or '?'!r} ({env.get('path') or '?'})"


# -- CPUs of this job ----------------------------------------------------------------------


def slurm_cpus(environ) -> int | None:
    """SLURM_CPUS_PER_TASK when it is a positive integer."""
    raw = environ.get("SLURM_CPUS_PER_TASK", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        warn(f"ignoring SLURM_CPUS_PER_TASK={raw!r} (not a positive integer)")
        return None
    return value


def affinity_cpus() -> int:
    """CPUs in this process's affinity mask (all CPUs where there is no mask)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def parse_proc_cgroup(text: str) -> list:
    """``hierarchy-id:controllers:path`` lines as (hierarchy id, [controllers], path)."""
    entries = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            entries.append((parts[0], [c for c in parts[1].split(",") if c], parts[2]))
    return entries


def quota_v2(directory: str) -> int | None:
    """CPUs allowed by ``cpu.max`` ("max 100000" or "<quota> <period>")."""
    text = read_text(os.path.join(directory, "cpu.max"))
    if text is None:
        return None
    fields = text.split()
    if len(fields) < 1 or fields[0] == "max":
        return None
    try:
        quota = int(fields[0])
        period = int(fields[1]) if len(fields) > 1 else 100000
    except ValueError:
        return None
    return ceil_ratio(quota, period)


def quota_v1(directory: str) -> int | None:
    """CPUs allowed by ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: no quota)."""
    quota_text = read_text(os.path.join(directory, "cpu.cfs_quota_us"))
    period_text = read_text(os.path.join(directory, "cpu.cfs_period_us"))
    if quota_text is None or period_text is None:
        return None
    try:
        quota = int(quota_text.strip())
        period = int(period_text.strip())
    except ValueError:
        return None
    return ceil_ratio(quota, period)


def ceil_ratio(quota: int, period: int) -> int | None:
    if quota <= 0 or period <= 0:
        return None
    return max(1, -(-quota // period))


def tightest_quota(mount: str, cgroup_path: str, reader) -> int | None:
    """The smallest quota from the process's cgroup up to the mount root: a parent's
    quota limits its children too. In a container the recorded path may not exist
    under the mount; its ancestors (at least the mount root) are still read."""
    relative = cgroup_path.strip("/")
    parts = relative.split("/") if relative else []
    found = None
    for depth in range(len(parts), -1, -1):
        limit = reader(os.path.join(mount, *parts[:depth]))
        if limit is not None and (found is None or limit < found):
            found = limit
    return found


def cgroup_cpu_limit(proc_cgroup: str = PROC_CGROUP, cgroup_root: str = CGROUP_ROOT) -> int | None:
    """CPUs allowed by the CPU quota of this process's cgroup; None when unlimited
    or unknown. cgroup v1 (a ``cpu`` controller hierarchy) is read when mounted,
    else cgroup v2 (the ``0::`` line, at the root or at ``unified``)."""
    text = read_text(proc_cgroup)
    if text is None:
        return None
    entries = parse_proc_cgroup(text)
    for _, controllers, path in entries:
        if "cpu" in controllers:
            names = [",".join(controllers), "cpu", "cpu,cpuacct", "cpuacct,cpu"]
            for name in names:
                mount = os.path.join(cgroup_root, name)
                if os.path.isdir(mount):
                    return tightest_quota(mount, path, quota_v1)
    for hierarchy, controllers, path in entries:
        if hierarchy == "0" and not controllers:
            for mount in (cgroup_root, os.path.join(cgroup_root, "unified")):
                if os.path.exists(os.path.join(mount, "cgroup.controllers")):
                    return tightest_quota(mount, path, quota_v2)
    return None


def job_cpus(environ, proc_cgroup: str = PROC_CGROUP, cgroup_root: str = CGROUP_ROOT) -> int:
    """CPUs this job may use: Slurm's count, else the affinity mask, capped by the
    cgroup CPU quota; at least 1."""
    count = slurm_cpus(environ)
    if count is None:
        count = affinity_cpus()
    limit = cgroup_cpu_limit(proc_cgroup, cgroup_root)
    if limit is not None:
        count = min(count, limit)
    return max(1, count)


def set_thread_variables(settings: dict, environ) -> None:
    names = [n for n in settings.get("thread_variables") or [] if not environ.get(n)]
    if names:
        count = str(job_cpus(environ))
        for name in names:
            environ[name] = count


# -- module dependencies ------------------------------------------------------------------


def module_command(settings: dict, environ) -> list:
    """argv prefix of the module system's command: the one of the running session
    ($LMOD_CMD / $MODULES_CMD) first, else the one recorded when the kernel was made."""
    recorded = settings.get("module_system") or {}
    kind = recorded.get("kind")
    command = recorded.get("command")
    candidates = []
    if kind == "environment-modules":
        candidates.append(("environment-modules", environ.get("MODULES_CMD")))
    else:
        candidates.append(("lmod", environ.get("LMOD_CMD")))
    if kind and command:
        candidates.append((kind, command))
    candidates.append(("environment-modules", environ.get("MODULES_CMD")))
    candidates.append(("lmod", environ.get("LMOD_CMD")))
    for found_kind, path in candidates:
        if path and os.path.isfile(path):
            if found_kind == "environment-modules" and path.endswith(".tcl"):
                import shutil

                return [shutil.which("tclsh", path=environ.get("PATH")) or "tclsh", path]
            return [path]
    recorded_text = f" (recorded: {kind} at {command})" if kind else ""
    raise LaunchError(f"no module system found{recorded_text}; LMOD_CMD and MODULES_CMD are not set")


def extend_modulepath(settings: dict, environ) -> None:
    current = [p for p in environ.get("MODULEPATH", "").split(":") if p]
    missing = [p for p in settings.get("modulepath") or [] if p and p not in current]
    if missing:
        environ["MODULEPATH"] = ":".join(current + missing)


def run_module_command(argv: list, timeout: float) -> tuple:
    """(exit status, stdout, stderr); the whole process group is killed on timeout."""
    import contextlib
    import signal
    import subprocess

    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def load_modules(settings: dict) -> None:
    """Apply the environment of the recorded module dependencies to ``os.environ``:
    the module system prints Python code that assigns to os.environ."""
    modules = [str(m) for m in settings.get("modules") or []]
    if not modules:
        return
    names = ", ".join(modules)
    label = environment_label(settings)
    hint = (
        "Check that the module(s) exist on this machine ('module avail') and that MODULEPATH "
        "holds their directory, or recreate the kernel without them."
    )
    try:
        extend_modulepath(settings, os.environ)
        command = module_command(settings, os.environ)
    except LaunchError as err:
        raise LaunchError(f"cannot load the module(s) {names} of environment {label}: {err}") from None
    tool = " ".join(command)

    import subprocess

    timeout = float(settings.get("module_timeout") or 30)
    try:
        status, code, messages = run_module_command([*command, "python", "load", *modules], timeout)
    except subprocess.TimeoutExpired:
        raise LaunchError(
            f"loading the module(s) {names} of environment {label} with {tool} "
            f"did not finish within {timeout:g} seconds. {hint}"
        ) from None
    except OSError as err:
        raise LaunchError(f"cannot run {tool} to load the module(s) {names} of environment {label}: {err}") from None
    namespace = {"os": os}
    failure = ""
    try:
        # the module system's own Python interface: code assigning to os.environ
        exec(compile(code, f"<{tool} python load>", "exec"), namespace)  # noqa: S102
    except Exception as err:
        failure = f"its output could not be run ({type(err).__name__}: {err})"
    if not failure and (status != 0 or namespace.get("_mlstatus", True) is False):
        failure = f"{tool} reported a failure"
    details = messages.strip()
    if failure:
        message = f"cannot load the module(s) {names} of environment {label}: {failure}. {hint}"
        raise LaunchError(message + (f"\n{details}" if details else ""))
    if details:
        sys.stderr.write(messages)


# -- the kernel ----------------------------------------------------------------------------


def apply_kernel_env(settings: dict, environ) -> None:
    if not settings.get("keep_pythonpath"):
        environ.pop("PYTHONPATH", None)
    environ["PYTHONNOUSERSITE"] = "1"
    for key, value in (settings.get("kernel_env") or {}).items():
        environ[str(key)] = str(value)


def prepare(settings: dict) -> None:
    """Everything before the exec, applied to this process's environment."""
    set_thread_variables(settings, os.environ)
    load_modules(settings)
    apply_kernel_env(settings, os.environ)


def kernel_argv(arguments: list, settings: dict) -> list:
    python = sys.executable or os.path.join((settings.get("environment") or {}).get("path") or "", "bin", "python")
    return [python, "-m", "ipykernel_launcher", *arguments]


def main(arguments=None) -> int:
    arguments = sys.argv[1:] if arguments is None else list(arguments)
    try:
        settings = read_settings(os.path.dirname(os.path.abspath(__file__)))
        prepare(settings)
    except LaunchError as err:
        warn(str(err))
        warn("the kernel was not started")
        return 3
    argv = kernel_argv(arguments, settings)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # noqa: S606 - replaces this process with the kernel (same pid for signals)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
