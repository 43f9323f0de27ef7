"""Build hook: the wheel carries the presets.

The scenarios, policies and experiments live once, in the repository's top-level
``configs/`` and ``experiments/`` folders. When the package is built, ``build_py``
copies both into the built package as ``abm/presets/configs`` and
``abm/presets/experiments`` (same layout, so experiment files' relative paths such as
``../configs/district.toml`` still hold). ``abm.presets`` finds them there in an
installed package and at the top level in a source checkout. Everything else about
the build is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PRESET_FOLDERS = ("configs", "experiments")


class build_py_with_presets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the top-level folders directly
            return
        target = Path(self.build_lib) / "abm" / "presets"
        for name in PRESET_FOLDERS:
            source = HERE / name
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} not found: the presets cannot be packaged")
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            # A calibration's resume database and lock stay out: the posterior and its manifest suffice.
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "history.db", ".*.lock"))


setup(cmdclass={"build_py": build_py_with_presets})
