"""A problem's reference proof built and timed as s2n-bignum-bench's own harness does, in a native checker image.

The benchmark's harness (run-answers.sh) writes a whole program per answer: the proof file up to the
theorem, then ``prove`` under a timer; expands its includes with HOL Light's ``inline_load.ml``, compiles
it with ``ocamlopt`` and pa_j against HOL Light core, runs it, and reports the time of the ``prove`` call
alone. Built here from the text a provebench checker loads for the problem (includes expanded, earlier
proofs admitted), in the same image and on the same machine, it is the baseline a native checker's time
for the proof is measured against: the machine the benchmark's own reference times came from is not this
one.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import dataclass

from provebench.boards.exports import benchmark_query
from provebench.containers import ImageInfo, SandboxLimits
from provebench.containers.engine import DockerEngine
from provebench.core.model import Problem
from provebench.systems.hol_light.template_text import TemplateText

_MARK = "PB_BENCHMARK_BUILD"
# Run in the checker's sandbox (no network, read-only root, /tmp executable in native images); the program's
# text comes on stdin. Its includes and file reads are relative to the suite's working folder.
_SCRIPT = f"""set -eu
w=$(mktemp -d)
cat > "$w/problem.ml"
hol=/usr/share/hol-light
native=/opt/provebench/native
cd "$1"
start=$(date +%s)
HOLLIGHT_DIR=$hol ocaml $hol/inline_load.ml "$w/problem.ml" "$w/inlined.ml" > "$w/inline.log" 2>&1 \\
    || {{ tail -20 "$w/inline.log"; exit 1; }}
(cd "$w" && OCAMLRUNPARAM=l=2000000000 ocamlfind ocamlopt -package zarith,unix -linkpkg -w -a \\
    -pp "camlp5r pa_lexer.cmo pa_extend.cmo q_MLast.cmo -I $hol pa_j.cmo" -I $native hol_lib.cmxa \\
    inlined.ml -o problem.exe) > "$w/compile.log" 2>&1 || {{ tail -20 "$w/compile.log"; exit 1; }}
echo "{_MARK}_COMPILE $(( $(date +%s) - start ))"
for _ in $(seq "$2"); do "$w/problem.exe"; done
"""


@dataclass(frozen=True)
class BenchmarkBuild:
    """The times of one problem's program built the benchmark's way."""

    proof_cpu_s: float  # CPU time of the prove call (the median of the repeats): what the benchmark's times measure
    compile_s: float  # expanding and compiling the whole program (the benchmark does not count it)


def program(problem: Problem) -> str:
    """The problem's context as a checker loads it, then its reference proof proved under a CPU timer."""
    if problem.template is None or problem.template_line is None or not problem.reference_proof:
        raise ValueError(f"{problem.id}: a template problem with a reference proof is needed")
    text = TemplateText.of(problem)
    context = text.lines[: text.position(problem.template_line) - 1]
    return "\n".join(
        [
            *context,
            f"let pb_goal = {benchmark_query(problem)};;",
            "let pb_c0 = Sys.time ();;",
            f"let pb_th = prove(pb_goal, (\n{problem.reference_proof}\n));;",
            f'Printf.printf "\\n{_MARK} %.6f\\n%!" (Sys.time () -. pb_c0);;',
            "",
        ]
    )


def build_and_time(
    engine: DockerEngine, image: ImageInfo, problem: Problem, workdir: str, repeat: int = 1
) -> BenchmarkBuild:
    """Compile ``problem``'s program in a sandboxed container of ``image``, and run it ``repeat`` times."""
    limits = SandboxLimits(memory_mb=12288, pids=256, tmpfs_mb=4096)
    cid = engine.create_checker(image, ["sh", "-c", _SCRIPT, "sh", workdir, str(repeat)], "/tmp", limits)
    try:
        done = subprocess.run(
            engine.attach_argv(cid), input=program(problem).encode(), capture_output=True, timeout=3 * 3600
        )
    finally:
        engine.remove(cid)
    out = done.stdout.decode("utf-8", "replace")
    compiled = re.search(rf"^{_MARK}_COMPILE ([0-9.]+)$", out, re.M)
    proved = [float(t) for t in re.findall(rf"^{_MARK} ([0-9.]+)$", out, re.M)]
    if done.returncode != 0 or compiled is None or len(proved) != repeat:
        raise RuntimeError(f"{problem.id}: the benchmark's build failed ({done.returncode}): {out[-2000:]}")
    return BenchmarkBuild(proof_cpu_s=statistics.median(proved), compile_s=float(compiled.group(1)))
