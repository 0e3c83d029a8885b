"""What `make run` serves (the dev settings, `runserver --insecure`): SmaRTC's own error pages,
never Django's debug pages, while static files and uploaded media are still served."""
import urllib.error
import urllib.request

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.servers import running_server


def fetch(url, **headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


@pytest.fixture
def dev_server(transactional_db, tmp_path):
    (tmp_path / "avatars").mkdir()
    (tmp_path / "avatars" / "a.txt").write_text("an upload")
    with running_server(env={"DJANGO_SETTINGS_MODULE": "smartc.settings.dev", "MEDIA_ROOT": str(tmp_path)}) as url:
        yield url


def test_an_unknown_address_gets_smartcs_404_page_not_the_url_list(dev_server):
    status, body = fetch(f"{dev_server}/no/such/page")
    assert status == 404
    assert "error-page" in body and "That page does not exist, or you cannot see it." in body
    assert "URLconf" not in body and "api/schema/" not in body  # Django's debug page lists every URL
    status, body = fetch(f"{dev_server}/no/such/page", **{"Accept-Language": "fr"})
    assert status == 404 and "Introuvable" in body


def test_static_files_and_media_are_still_served(dev_server):
    status, body = fetch(f"{dev_server}/static/css/app.css")
    assert status == 200 and "{" in body
    assert fetch(f"{dev_server}/media/avatars/a.txt") == (200, "an upload")
    assert fetch(f"{dev_server}/media/../smartc/urls.py")[0] in (400, 404)  # nothing outside media/


def test_a_server_error_gets_smartcs_500_page():
    body = server_error(RequestFactory().get("/")).content.decode()
    assert "error-page" in body and "Something went wrong" in body and "SmaRTC could not show this page" in body
    with translation.override("fr"):
        assert "Un problème est survenu" in server_error(RequestFactory().get("/")).content.decode()
