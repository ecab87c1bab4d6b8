"""The addon builds as an OCA-style wheel that installs onto a clean addons path.

The wheel is built as a user builds it (pip and the whool backend pinned in the
project's requirements.txt, without build isolation, so without the network),
then installed with --no-deps into a new virtualenv that has no pip and no Odoo of
its own, as the README says to install OCA wheels. Whool packs the files git
tracks: the test runs from a git checkout.
"""

import ast
import email.parser
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from unittest import TestCase

ADDON = Path(__file__).resolve().parent.parent
DIST_NAME = "odoo-addon-order_management"

# pip without the network, the user's settings or its upgrade check.
PIP = [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check"]
PIP_OFFLINE = ["--no-index", "--no-deps", "--quiet"]


def run(command, **kwargs):
    """Run a command; on failure, fail with what it printed."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def tracked_files():
    """The addon's files under git, as paths relative to the addon."""
    listed = run(["git", "ls-files", "-z"], cwd=ADDON).split("\0")
    return {name for name in listed if name}


class TestWheel(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
        cls.tmp = tempfile.TemporaryDirectory(prefix="om-wheel-")
        cls.addClassCleanup(cls.tmp.cleanup)
        tmp = Path(cls.tmp.name)

        dist = tmp / "dist"
        run(
            [*PIP, "wheel", *PIP_OFFLINE, "--no-build-isolation"]
            + ["--wheel-dir", dist, ADDON]
        )
        cls.wheels = sorted(dist.glob("*.whl"))

        # A virtualenv without pip: the outer pip installs into it.
        cls.venv = tmp / "venv"
        run([sys.executable, "-m", "venv", "--without-pip", cls.venv])
        cls.venv_python = cls.venv / "bin" / "python"
        run([*PIP, "--python", cls.venv_python, "install", *PIP_OFFLINE, *cls.wheels])

        # Where the venv's own interpreter finds odoo/addons: a namespace package
        # here, since the venv holds no Odoo.
        probe = (
            "import json, sys, odoo.addons;"
            "print(json.dumps([sys.prefix, list(odoo.addons.__path__)]))"
        )
        prefix, addons_paths = json.loads(
            run([cls.venv_python, "-I", "-c", probe], cwd=tmp)
        )
        cls.venv_prefix = Path(prefix)
        cls.addons_paths = [Path(path) for path in addons_paths]

    def test_01_wheel_is_named_and_versioned_as_oca_wheels(self):
        version = self.manifest["version"]
        self.assertRegex(version, r"^18\.0\.\d+\.\d+\.\d+$")
        self.assertEqual(
            [wheel.name for wheel in self.wheels],
            [f"odoo_addon_order_management-{version}-py3-none-any.whl"],
        )

        with zipfile.ZipFile(self.wheels[0]) as wheel:
            names = wheel.namelist()
            metadata_name = f"odoo_addon_order_management-{version}.dist-info/METADATA"
            metadata = email.parser.Parser().parsestr(
                wheel.read(metadata_name).decode()
            )
        self.assertEqual(metadata["Name"], DIST_NAME)
        self.assertEqual(metadata["Version"], version)
        self.assertEqual(metadata["License"], self.manifest["license"])
        # Odoo itself, and the manifest's Python libraries; the Odoo addons it
        # depends on all ship with Odoo.
        self.assertEqual(
            sorted(metadata.get_all("Requires-Dist")),
            ["odoo==18.0.*", "openpyxl", "xlsxwriter"],
        )
        # The long description is the generated README.
        self.assertEqual(metadata["Description-Content-Type"], "text/x-rst")
        self.assertIn(self.manifest["summary"][:40], metadata["Summary"])
        self.assertIn("Known issues / Roadmap", metadata.get_payload())

        dist_info = f"odoo_addon_order_management-{version}.dist-info/"
        outside = [
            name
            for name in names
            if not name.startswith(("odoo/addons/order_management/", dist_info))
        ]
        self.assertEqual(outside, [])

    def test_02_installs_the_addon_under_the_venvs_odoo_addons(self):
        self.assertNotEqual(self.venv_prefix, Path(sys.prefix))
        self.assertEqual(len(self.addons_paths), 1)
        addons_path = self.addons_paths[0]
        self.assertTrue(addons_path.is_relative_to(self.venv))
        self.assertEqual(addons_path.parts[-2:], ("odoo", "addons"))

        installed = addons_path / "order_management"
        shipped = {
            path.relative_to(installed).as_posix()
            for path in installed.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        # Every file git tracks, the build settings excepted.
        self.assertEqual(shipped, tracked_files() - {"pyproject.toml"})

        installed_manifest = ast.literal_eval(
            (installed / "__manifest__.py").read_text()
        )
        self.assertEqual(installed_manifest["version"], self.manifest["version"])
        for name in (
            "i18n/order_management.pot",
            "i18n/zh_CN.po",
            "i18n/zh_TW.po",
            "views/sale_order_views.xml",
            "static/tests/tours/order_review_tour.js",
            "security/ir.model.access.csv",
            "README.rst",
            "readme/DESCRIPTION.md",
            "readme/HISTORY.md",
        ):
            with self.subTest(name=name):
                self.assertEqual(
                    (installed / name).read_bytes(), (ADDON / name).read_bytes()
                )

    def test_03_odoo_finds_and_reads_it_without_an_addons_path(self):
        # This Odoo, run from its source tree with no configuration and the
        # venv's site-packages on its Python path: odoo.addons extends itself
        # over every odoo/addons folder of the path.
        site_packages = self.addons_paths[0].parent.parent
        probe = (
            "import json;"
            "from odoo.modules.module import get_module_path, load_manifest;"
            "path = get_module_path('order_management');"
            "print(json.dumps([path, load_manifest('order_management', path)]))"
        )
        path, manifest = json.loads(
            run(
                [sys.executable, "-c", probe],
                env={"PYTHONPATH": str(site_packages), "PATH": "/usr/bin:/bin"},
                cwd=self.tmp.name,
            )
        )
        installed = self.addons_paths[0] / "order_management"
        self.assertEqual(Path(path), installed)
        self.assertEqual(manifest["version"], self.manifest["version"])
        self.assertTrue(manifest["installable"])

        # Every file the manifest loads is in the wheel.
        listed = manifest["data"] + manifest["demo"]
        self.assertGreater(len(listed), 40)
        missing = [name for name in listed if not (installed / name).is_file()]
        self.assertEqual(missing, [])
