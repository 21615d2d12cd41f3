"""The web server starts without scikit-learn and SciPy: they load where a model is trained or
used, not when the admin and the URLs are imported (a loaded box spent a minute on SciPy alone,
and `make run` gave up waiting)."""

import os
import subprocess
import sys

CHECK = """
import sys, django
django.setup()
from django.urls import resolve
resolve("/admin/")
print(",".join(m for m in ("sklearn", "scipy") if m in sys.modules) or "none")
"""


def test_the_admin_and_urls_load_without_scikit_learn():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "expensico_sync.settings", "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "none"
