"""Build step: unpack pure-Python wheels into the interpreter's site dir and add a pytest launcher."""

import sys
import sysconfig
import zipfile
from pathlib import Path

site = Path(sysconfig.get_paths()["purelib"])
site.mkdir(parents=True, exist_ok=True)
for wheel in sorted(Path(sys.argv[1]).glob("*.whl")):
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
launcher = Path("/usr/local/bin/pytest")
launcher.write_text(f"#!{sys.executable}\nimport sys\nimport pytest\nsys.exit(pytest.console_main())\n")
launcher.chmod(0o755)
print(f"installed {len(list(Path(sys.argv[1]).glob('*.whl')))} wheels into {site}")
