"""Issue 11, item 15: `make test` never touches the user's var/ (the suite itself also checks var/ is
unchanged at the end, in conftest.pytest_sessionfinish)."""
import subprocess
import sys

from conftest import USER_VAR
from crash import ROOT


def test_default_paths_point_outside_the_users_var_in_tests_and_their_children():
    from pipelines import settings

    for path in (settings.default_landing(), settings.default_warehouse(), settings.default_reports()):
        assert USER_VAR not in path.parents
    out = subprocess.run([sys.executable, "-c", "from pipelines import settings; print(settings.default_reports())"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()
    assert not out.startswith(str(USER_VAR))
