"""How a HOL Light toplevel is started: in its own sandboxed container, or from the host (development only)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from provebench import containers
from provebench.containers.engine import DockerEngine
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.systems.hol_light.session import LaunchedToplevel

_HARNESS_IN_IMAGE = "/opt/provebench/harness/hol_light"


class DockerLauncher:
    """Starts each toplevel in its own sandboxed container of the HOL Light image."""

    harness_dir = _HARNESS_IN_IMAGE

    def __init__(self, engine: DockerEngine, image: containers.ImageInfo, limits: containers.SandboxLimits) -> None:
        self._engine = engine
        self._image = image
        self._limits = limits

    def launch(self) -> LaunchedToplevel:
        """Create a container whose main process is the toplevel; attach to it."""
        toplevel = list(containers.recipe(self._image.name).toplevel)
        cid = self._engine.create_checker(self._image, toplevel, containers.HOL_LIGHT_DIR, self._limits)
        return LaunchedToplevel(
            argv=self._engine.attach_argv(cid),
            cwd=None,
            cleanup=lambda: self._engine.remove(cid),
            name=cid,
            out_of_memory_since=lambda since: self._engine.out_of_memory_since(cid, since),
            cpu_seconds=lambda: self._engine.cpu_seconds(cid),
        )


class LocalLauncher:
    """Starts toplevels from the host's HOL Light. Not a sandbox: development only."""

    def __init__(self, hol_dir: Path, cache_dir: Path) -> None:
        self._hol_dir = hol_dir
        self.harness_dir = str(self._compile_harness(cache_dir))

    @staticmethod
    def _compile_harness(cache_dir: Path) -> Path:
        """Compile the process supervisor with the host's OCaml, as the image build does."""
        if shutil.which("ocamlfind") is None:
            raise UserError("--backend local needs the host's HOL Light and ocamlfind (apt-get install hol-light)")
        src = containers.resource_root() / "harness" / "hol_light"
        out = cache_dir / "harness" / containers.recipe_hash(containers.recipe("hol-light"))
        if (out / "pb_proc.cma").exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=out.parent))
        for f in src.iterdir():
            shutil.copy2(f, work / f.name)
        steps = [
            ["ocamlfind", "ocamlc", "-package", "unix", "-c", "pb_proc.ml", "pb_trial.ml"],
            ["ocamlc", "-c", "pb_limits.c"],
            ["ocamlmklib", "-o", "pb_proc", "pb_limits.o", "pb_proc.cmo", "pb_trial.cmo"],
        ]
        for step in steps:
            done = subprocess.run(step, cwd=work, capture_output=True, text=True)
            if done.returncode != 0:
                raise VerifierUnavailable(f"compiling the harness failed: {' '.join(step)}: {done.stderr.strip()}")
        work.rename(out)
        return out

    def launch(self) -> LaunchedToplevel:
        """Run ``ocaml-hol -init hol.ml`` in the host's HOL Light folder."""
        exe = self._hol_dir / "ocaml-hol"
        if not exe.exists():
            raise VerifierUnavailable(f"no HOL Light toplevel at {exe}")
        return LaunchedToplevel(argv=[str(exe), "-init", "hol.ml"], cwd=str(self._hol_dir), cleanup=lambda: None)
