"""The Docker engine: building checker images and running sandboxed checker containers.

When no registry is reachable, the Debian base image is made with ``debootstrap`` and imported.

A checker's identity (``CheckerInfo``) is what any machine rebuilds from the same
sources: the recipe hash, the proof-system version read back from the image, and a
hash of the image's installed package list, recorded as labels when it is built.
The image digest is not part of it: Debian's packages do not build bit for bit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import docker
import docker.errors

from provebench.containers.build_context import ContextText, assemble_build_context
from provebench.containers.recipes import (
    CONTEXTS_INDEX,
    DEBOOTSTRAP_BASE_TAG,
    LABEL_PREFIX,
    PACKAGE_LIST_SCRIPT,
    RECIPES,
    ImageInfo,
    ImageRecipe,
    Progress,
    SandboxLimits,
    package_list_hash,
    recipe,
    recipe_id,
    resource_root,
)
from provebench.containers.sources import SourceTree
from provebench.core.errors import UserError, VerifierUnavailable
from provebench.core.settings import Settings


def build_failure(tag: str, error: str, output: Iterable[str], settings: Settings) -> str:
    """One line saying why a build failed: the step's own error lines rather than its whole command."""
    # Docker's error repeats the step's full RUN command; the apt or shell error above it says more.
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in output]  # apt colours its errors
    errors = [ln for ln in plain if re.match(r"(E:|ERROR|error:)", ln)]
    code = re.search(r"returned a non-zero code: (\d+)", error)
    why = "; ".join(errors[-2:]) if errors else " ".join(error.split())
    if code and errors:
        why += f" (exit {code.group(1)})"
    if any("Release file" in ln and "expired" in ln for ln in errors) and not settings.apt_ignore_valid_until:
        why += (
            "; the mirror is a frozen snapshot whose Release file has expired: "
            "set PROVEBENCH_APT_IGNORE_VALID_UNTIL=1 to accept it"
        )
    return f"building {tag} failed: {why}"


class DockerEngine:
    """A connection to the Docker engine; construction does no I/O."""

    def __init__(self, settings: Settings, context_text: ContextText | None = None) -> None:
        self.settings = settings
        self.context_text = context_text  # for images that compile contexts (native s2n-bignum): see build_context
        self._client: docker.DockerClient | None = None

    @property
    def root(self) -> Path:
        """The folder whose ``containers/`` and ``harness/`` images are built from."""
        return self.settings.recipe_root or resource_root()

    def tag_for(self, r: ImageRecipe, revision: str | None = None) -> str:
        """The tag of the image ``r`` builds now (from this revision of its outside source) in this namespace."""
        return f"{self.settings.image_namespace}/{recipe_id(r, revision, self.root)}"

    def is_current(self, info: ImageInfo) -> bool:
        """Whether ``info`` is what its recipe builds now (from any revision of an outside source)."""
        return info.recipe.startswith(recipe_id(recipe(info.name), None, self.root))

    @property
    def client(self) -> docker.DockerClient:
        """The SDK client, connected on first use."""
        if self._client is None:
            try:
                client = docker.from_env(timeout=300)
                client.ping()
            except Exception as exc:  # the SDK raises many kinds here
                raise VerifierUnavailable(
                    "the Docker engine is not reachable; start it (for example "
                    "`dockerd --bridge=none --iptables=false &`) or use --backend local: "
                    f"{type(exc).__name__}"
                ) from None
            self._client = client
        return self._client

    # ----- images -------------------------------------------------------

    def _info(self, r: ImageRecipe, image: Any) -> ImageInfo:
        labels = image.labels or {}
        recipe_hash_label = labels.get(f"{LABEL_PREFIX}.recipe-hash", "")
        return ImageInfo(
            name=r.name,
            tag=image.tags[0] if image.tags else image.id,
            digest=image.id,
            system=labels.get(f"{LABEL_PREFIX}.system", r.system.value),
            version=labels.get(f"{LABEL_PREFIX}.version", "unknown"),
            size_bytes=int(image.attrs.get("Size", 0)),
            source=labels.get(f"{LABEL_PREFIX}.source", ""),
            recipe=f"{r.name}:{recipe_hash_label}" if recipe_hash_label else "",
            packages=labels.get(f"{LABEL_PREFIX}.packages", ""),
            contexts=labels.get(f"{LABEL_PREFIX}.contexts", ""),
        )

    def find_image(self, r: ImageRecipe, revision: str | None = None) -> ImageInfo | None:
        """The current image of ``r`` (from ``revision`` of its outside source) if it is built."""
        tag = self.tag_for(r, revision)
        try:
            image = self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            return None
        info = self._info(r, image)
        if not info.packages or info.version == "unknown":
            # Built before images recorded their package list: record it now, as a build would have.
            self._label_identity(tag, r)
            info = self._info(r, self.client.images.get(tag))
        return info

    def ensure_image(self, r: ImageRecipe, progress: Progress, revision: str | None = None) -> ImageInfo:
        """The current image of ``r``, built first if missing (an outside source must be built explicitly)."""
        found = self.find_image(r, revision)
        if found is not None:
            return found
        if r.source is not None:
            wanted = (revision or "")[:12]
            commits = {i.source.partition("@")[2][:12] for i in self.list_images() if i.name == r.name} - {""}
            others = sorted(commits - {wanted})
            built = f"; built for other commits: {', '.join(others)} (--image-revision uses one)" if others else ""
            if wanted in commits:  # an image of an earlier recipe: provebench's checker changed since
                built += f"; the one for {wanted} is of an earlier provebench"
            raise UserError(
                f"no {r.name} image for {r.source} {(revision or '?')[:12]}{built}; build it with: provebench "
                f"images build {r.name} --{r.source} URL@{revision or 'COMMIT'} (or --{r.source}-src CHECKOUT)"
            )
        return self.build_image(r, progress)

    def image_for_revision(self, r: ImageRecipe, prefix: str) -> ImageInfo:
        """The current image of ``r`` built from the outside source's revision starting with ``prefix``."""
        found = [
            i
            for i in self.list_images()
            if i.name == r.name
            and i.source.partition("@")[2].startswith(prefix.lower())
            and i.tag == self.tag_for(r, i.source.partition("@")[2])
        ]
        if len(found) != 1:
            what = "no current image" if not found else "more than one image"
            raise UserError(f"--image-revision {prefix}: {what} of {r.name} for that {r.source} commit")
        return found[0]

    def list_images(self) -> list[ImageInfo]:
        """Every provebench checker image on this engine, current or not."""
        out = []
        for image in self.client.images.list(filters={"label": f"{LABEL_PREFIX}.recipe"}):
            r = RECIPES.get((image.labels or {}).get(f"{LABEL_PREFIX}.recipe", ""))
            if r is not None:
                out.append(self._info(r, image))
        return sorted(out, key=lambda i: (i.name, i.tag))

    def remove_image(self, info: ImageInfo) -> str | None:
        """Remove a checker image: None once it is gone, else why the engine kept it (a container uses it)."""
        try:
            # By tag: layers that a current image was built on stay, only the tag goes.
            self.client.images.remove(info.tag)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise
            return " ".join(str(exc.explanation or exc).split())
        return None

    def layers_bytes(self) -> int:
        """The disk space of all image layers on this engine."""
        return int(self.client.df().get("LayersSize") or 0)

    def build_image(self, r: ImageRecipe, progress: Progress, source: SourceTree | None = None) -> ImageInfo:
        """Build the image of ``r`` (and its base images if needed)."""
        if (r.source is None) != (source is None) or (source is not None and source.name != r.source):
            raise UserError(f"{r.name} is built from {r.source or 'nothing outside provebench'}")
        base = self.ensure_base_image(progress)
        revision = source.revision if source is not None else None
        tag = self.tag_for(r, revision)
        args = dict(r.build_args)
        args["BASE_IMAGE"] = base
        args["APT_IGNORE_VALID_UNTIL"] = "1" if self.settings.apt_ignore_valid_until else "0"
        labels = {
            f"{LABEL_PREFIX}.recipe": r.name,
            f"{LABEL_PREFIX}.system": r.system.value,
            f"{LABEL_PREFIX}.recipe-hash": tag.rsplit(":", 1)[1],
        }
        if r.base is not None:
            args["HOL_LIGHT_IMAGE"] = self.ensure_image(recipe(r.base), progress).digest
        if source is not None:
            args["S2N_BIGNUM_REVISION"] = source.revision
            labels[f"{LABEL_PREFIX}.source"] = f"{source.name}@{source.revision}"
        with tempfile.TemporaryDirectory(prefix="provebench-build-") as ctx:
            assemble_build_context(r, self.root, source, Path(ctx), progress, self.context_text)
            progress(f"building {tag} from {base}")
            stream = self.client.api.build(
                path=ctx,
                tag=tag,
                buildargs=args,
                labels=labels,
                network_mode="host",  # builds reach the package mirror; checkers never do
                rm=True,
                forcerm=True,
                decode=True,
            )
            output: deque[str] = deque(maxlen=50)  # the last lines, for the message if the build fails
            for chunk in stream:
                if "error" in chunk:
                    raise UserError(build_failure(tag, str(chunk["error"]), output, self.settings))
                line = str(chunk.get("stream", "")).rstrip()
                if line:
                    progress(line)
                    output.append(line)
        self._label_identity(tag, r)
        return self._info(r, self.client.images.get(tag))

    def _run_in(self, tag: str, command: list[str]) -> str:
        out = self.client.containers.run(tag, command, remove=True, network_mode="none")
        return bytes(out).decode("utf-8", "replace")

    def _label_identity(self, tag: str, r: ImageRecipe) -> None:
        """Read the installed proof-system version and package list back from the image and label it with them.

        Both are read, not assumed: they are what makes a rebuild elsewhere the same checker or not.
        The labels go on by committing a no-op layer on top.
        """
        version = self._run_in(tag, ["cat", f"/opt/provebench/{r.system.value}-version"]).strip()
        if r.version_arg and not version.startswith(r.build_args[r.version_arg]):
            raise UserError(f"{tag} has {r.system.value} {version}, expected {r.build_args[r.version_arg]}")
        packages = package_list_hash(self._run_in(tag, ["sh", "-c", PACKAGE_LIST_SCRIPT]))
        index = self._run_in(tag, ["sh", "-c", f"cat {CONTEXTS_INDEX} 2>/dev/null || true"])
        contexts = ";".join(" ".join(line.split()) for line in index.splitlines() if line.strip())
        label = f'{LABEL_PREFIX}.version="{version}" {LABEL_PREFIX}.packages="{packages}"'
        label += f' {LABEL_PREFIX}.contexts="{contexts}"'
        container = self.client.containers.create(tag, ["true"], network_mode="none")
        try:
            repo, t = tag.rsplit(":", 1)
            container.commit(repository=repo, tag=t, changes=[f"LABEL {label}"])
        finally:
            container.remove(force=True)

    # ----- base image ---------------------------------------------------

    def ensure_base_image(self, progress: Progress) -> str:
        """A Debian sid image to build on: local, pulled, or made with debootstrap."""
        base = self.settings.base_image
        for ref in (base, DEBOOTSTRAP_BASE_TAG):
            try:
                self.client.images.get(ref)
                return ref
            except docker.errors.ImageNotFound:
                pass
        try:
            progress(f"pulling {base}")
            self.client.images.pull(base)
            return base
        except docker.errors.APIError as exc:
            progress(f"cannot pull {base} ({exc.explanation or exc}); building it with debootstrap")
        self._debootstrap_base(progress)
        return DEBOOTSTRAP_BASE_TAG

    def _debootstrap_base(self, progress: Progress) -> None:
        if shutil.which("debootstrap") is None:
            raise UserError(
                "no registry is reachable and debootstrap is not installed: "
                "install it (apt-get install debootstrap) or make a Debian sid image available"
            )
        with tempfile.TemporaryDirectory(prefix="provebench-rootfs-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            cmd = ["debootstrap", "--variant=minbase", "sid", str(rootfs), self.settings.debian_mirror]
            progress("$ " + " ".join(cmd))
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            tail: list[str] = []
            for line in proc.stdout:
                progress(line.rstrip())
                tail = (tail + [line.rstrip()])[-5:]
            if proc.wait() != 0:
                raise UserError(f"debootstrap failed (exit {proc.returncode}): {' | '.join(tail)}")
            tarball = Path(tmp) / "rootfs.tar"
            subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
            repo, tag = DEBOOTSTRAP_BASE_TAG.rsplit(":", 1)
            progress(f"importing the root filesystem as {DEBOOTSTRAP_BASE_TAG}")
            self.client.api.import_image_from_file(str(tarball), repository=repo, tag=tag)

    # ----- checker containers -------------------------------------------

    def create_checker(self, image: ImageInfo, command: list[str], workdir: str, limits: SandboxLimits) -> str:
        """Create (not start) a sandboxed checker container; returns its ID.

        No network, read-only root, no /dev/shm, all capabilities dropped, no new
        privileges, pid and memory limits, a small /tmp, an init process. Its stdin closes when
        the attached client goes away, which ends the toplevel and removes
        the container.
        """
        api = self.client.api
        # Docker mounts a tmpfs noexec unless told otherwise; a native toplevel loads what it compiles from /tmp.
        exec_tmp = "exec" if recipe(image.name).executable_tmp else "noexec"
        host_config = api.create_host_config(
            network_mode="none",
            read_only=True,
            ipc_mode="none",  # no /dev/shm: Docker's default one is writable by any user despite read_only
            tmpfs={"/tmp": f"rw,{exec_tmp},nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"},
            pids_limit=limits.pids,
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            auto_remove=True,
            init=True,  # docker-init reaps the orphans of ended walkers and holders
        )
        config = api.create_container_config(
            image=image.digest,
            command=command,
            working_dir=workdir,
            stdin_open=True,
            host_config=host_config,
            labels={
                f"{LABEL_PREFIX}.role": "checker",
                f"{LABEL_PREFIX}.recipe": image.name,
                # Which process made it: a container left by a killed process can be told from a running one's.
                f"{LABEL_PREFIX}.owner-pid": str(os.getpid()),
            },
            network_disabled=True,
        )
        config["AttachStdin"] = True
        config["AttachStdout"] = True
        config["AttachStderr"] = True
        config["StdinOnce"] = True
        return str(api.create_container_from_config(config)["Id"])  # type: ignore[no-untyped-call]

    @staticmethod
    def attach_argv(container_id: str) -> list[str]:
        """The command whose stdin/stdout are the container's (no TTY, byte-exact)."""
        docker_cli = shutil.which("docker")
        if docker_cli is None:
            raise VerifierUnavailable("the docker command-line client is not installed")
        return [docker_cli, "start", "--attach", "--interactive", container_id]

    def out_of_memory_since(self, container_id: str, since: float) -> bool:
        """Whether the container's memory limit killed any of its processes since ``since`` (Unix time).

        The engine reports each such kill as an ``oom`` event. Its filters take whole seconds, so events
        are asked for from the second before and kept by their nanosecond times; the search waits up to
        a second for an event still on its way.
        """
        try:
            events = self.client.events(
                since=int(since) - 1,
                until=int(time.time()) + 1,
                filters={"container": container_id, "event": "oom"},
                decode=True,
            )
            try:
                return any(e.get("timeNano", 0) >= since * 1e9 for e in events)
            finally:
                events.close()
        except Exception as exc:  # the SDK raises many kinds here; unknown is not the proof's FAIL either
            raise VerifierUnavailable(
                f"cannot ask the Docker engine whether a killed check ran out of memory: {type(exc).__name__}"
            ) from None

    def cpu_seconds(self, container_id: str) -> float | None:
        """CPU time the container's processes have used so far (its cgroup's); None if the engine cannot say."""
        try:
            stats = self.client.api.stats(container_id, stream=False, one_shot=True)
            return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
        except Exception:  # noqa: BLE001 - the SDK raises many kinds; unknown leaves the silence rule alone
            return None

    def remove(self, container_id: str) -> None:
        """Kill and remove a checker container; a missing one is fine."""
        try:
            self.client.api.remove_container(container_id, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: removal already in progress
                raise
