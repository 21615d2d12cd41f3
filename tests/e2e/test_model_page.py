"""In a real browser: the model page shows, per connection, the version in use with its account
and dimension-head figures, and the drift chart (weekly accuracy on reviewer corrections, axes
titled, legend shown) drawn by Unfold's bundled Chart.js. Screenshot in test-artifacts/."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from mappings.models import CategoriserModel, CodingCorrection
from tests.conftest import admin_login
from tests.core.factories import make_org
from tests.mappings.factories import make_connection

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_model_page_shows_versions_heads_and_the_drift_chart(page, live_server, artifacts_dir):
    org = make_org("model-e2e", mode="live")
    conn = make_connection(org)
    heads = {"cost_center": {"size": 300, "accuracy": 0.921, "coverage": 0.858, "precision": 0.919},
             "project": {"size": 100, "accuracy": 0.93, "coverage": 0.9, "precision": 0.99}}
    for n, status, accuracy in ((1, "retired", 0.91), (2, "promoted", 0.94)):
        CategoriserModel.objects.create(connection=conn, version=n, status=status, trained_at=timezone.now(),
                                        training_size=800 * n, heldout_size=200 * n, heldout_accuracy=accuracy,
                                        coverage=0.78, precision_at_threshold=0.97, sklearn_version="1.9.1",
                                        blob=b"", heads=heads if n == 2 else {})
    now = timezone.now()
    for week, right in enumerate((19, 18, 19, 17, 15, 12, 10)):       # accuracy falls: drift
        for i in range(20):
            c = CodingCorrection.objects.create(connection=conn, source_id=f"exp_{week}_{i}", account="6100",
                                                predicted_account="6100" if i < right else "6200", accepted=i < right)
            CodingCorrection.objects.filter(pk=c.pk).update(created_at=now - timedelta(weeks=7 - week))
    admin_login(page, live_server)

    page.goto(f"{live_server.url}/admin/mappings/categorisermodel/")
    summary = page.locator(f"#categoriser-summary-{conn.pk}")
    assert summary.locator("text=v2, trained").is_visible()
    assert summary.locator("text=94% on 400").is_visible()
    assert summary.locator("td", has_text="cost_center").is_visible() and summary.locator("text=92.1%").is_visible()
    assert "accuracy dropped" not in summary.inner_text()     # the alert sentence is the drift text below
    assert summary.locator("[role=alert]").is_visible()      # last full week 50% vs 94% held-out
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#categoriser-summary-"
                           f"{conn.pk} canvas.chart'))")
    chart = page.evaluate(f"""() => {{
        const c = Chart.getChart(document.querySelector('#categoriser-summary-{conn.pk} canvas.chart'));
        return {{legend: c.legend.legendItems.map(i => i.text), x: c.options.scales.x.title.text,
                 y: c.options.scales.y.title.text, points: c.data.datasets[0].data, shown: c.legend.options.display}};
    }}""")
    assert chart["shown"] and chart["x"] == "Week starting (Monday)" and chart["y"] == "Accuracy (%)"
    assert chart["legend"] == [f"{conn.name}: accuracy on answered suggestions", f"{conn.name}: v2 held-out accuracy"]
    assert chart["points"] == [95, 90, 95, 85, 75, 60, 50, None]      # oldest week first; this week: none yet
    assert page.locator("text=v1").first.is_visible()            # every version is still listed below
    page.screenshot(path=os.path.join(artifacts_dir, "categoriser-model-page-drift.png"), full_page=True)
