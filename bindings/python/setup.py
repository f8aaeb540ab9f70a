"""Build hooks for the wskit wheel (the metadata is in pyproject.toml).

The binding is pure Python over ctypes, but the wheel carries ``libwskit.so``, a Linux shared
library: so the wheel is a platform wheel, tagged ``py3-none-<platform>`` (any Python 3, no
Python ABI used since ctypes loads a plain C library, this machine's platform), not
``py3-none-any``.

Where the library comes from (``build_py``, into the wheel's ``wskit/`` beside the modules):

1. ``$WSKIT_LIBRARY``: a path to a built ``libwskit.so`` (e.g. CI's artifact); copied as is.
2. Else, in a wskit checkout (``../../Cargo.toml``): ``cargo build --release --lib`` (a no-op when
   ``target/release`` is up to date), then ``target/release/libwskit.so``.
3. Else the build fails, saying so (an sdist has no Rust sources: set ``$WSKIT_LIBRARY``).

The copy is stripped of debug information when ``strip`` is on the PATH (the release profile keeps
symbols for profiling: 18 MB against ~2 MB).

Offline: ``pip wheel --no-build-isolation --no-deps ./bindings/python`` uses the setuptools (and,
before setuptools 70.1, ``wheel``) of the current environment and downloads nothing; with build
isolation pip fetches them from the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 has it built in
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools: the `wheel` package's
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
LIB_NAME = "libwskit.so"


def find_library() -> str:
    """The libwskit.so to bundle (see the module docstring)."""
    explicit = os.environ.get("WSKIT_LIBRARY")
    if explicit:
        if not os.path.isfile(explicit):
            raise SystemExit(f"wskit build: $WSKIT_LIBRARY={explicit} is not a file")
        return explicit
    if not os.path.isfile(os.path.join(REPO, "Cargo.toml")):
        raise SystemExit("wskit build: not inside a wskit checkout and $WSKIT_LIBRARY is not set: "
                         "set it to the path of a built libwskit.so")
    cargo = shutil.which("cargo")
    built = os.path.join(REPO, "target", "release", LIB_NAME)
    if cargo is not None:
        subprocess.run([cargo, "build", "--release", "--lib", "--quiet"], cwd=REPO, check=True)
    elif not os.path.isfile(built):
        raise SystemExit(f"wskit build: no cargo to build {built}; install Rust or set $WSKIT_LIBRARY")
    return built


class BuildPyWithLibrary(build_py):
    """build_py, plus libwskit.so copied into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install loads the checkout's target/release (see _native.py)
        source = find_library()
        target = os.path.join(self.build_lib, "wskit", LIB_NAME)
        self.mkpath(os.path.dirname(target))
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
        strip = shutil.which("strip")
        if strip is not None:
            subprocess.run([strip, "--strip-debug", target], check=True)
        self.announce(f"wskit: bundled {source} as {target}", level=2)


class PlatformDistribution(Distribution):
    """Says it has compiled code (it ships libwskit.so): the modules are built into the platform
    library directory, so the wheel holds them at its root (not under .data/purelib)."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """A platform wheel (it ships a shared library) for any Python 3: py3-none-<platform>."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> tuple:
        _, _, plat = super().get_tag()
        if plat == "any":  # not expected once root_is_pure is False; be explicit anyway
            plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        return "py3", "none", plat


setup(distclass=PlatformDistribution, cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel})
