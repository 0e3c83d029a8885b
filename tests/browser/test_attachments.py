"""Attachments in two real browsers: Ada attaches an image (watching its upload progress) and drops a
file on the message list; Bo sees the message, first with the image "processing", then its thumbnail
appearing live when a real Celery worker has made it, and the file as a download card."""
import io
import os
import random

import pytest
from PIL import Image
from playwright.sync_api import expect

from apps.chat.models import Attachment
from tests import servers
from tests.browser.test_chat import in_worker_thread, lab, message, open_channel  # noqa: F401 (lab: fixture)

pytestmark = [pytest.mark.browser]


def noisy_png(path, size=(480, 360)):
    """A PNG that does not compress (about half a megabyte), so its upload takes visible time."""
    rng = random.Random(7)
    Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3))).save(path, "PNG")
    return path


def test_attach_image_and_drop_file_then_thumbnail_appears_live(live_url, new_page, lab, tmp_path):  # noqa: F811
    ada, bo = new_page(), new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    bo_errors = open_channel(bo, live_url, lab["bo"], lab["general"])

    # A slow uplink (about 128 KB/s), so the progress bar has something to show.
    cdp = ada.context.new_cdp_session(ada)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": 128 * 1024})
    ada.locator("#attach-input").set_input_files(str(noisy_png(tmp_path / "noise.png")))
    item = ada.locator("#attach-tray .attach-item", has_text="noise.png")
    expect(item).to_have_class("attach-item uploading")
    progress = item.locator(".attach-progress")
    ada.wait_for_function(
        "() => { const p = document.querySelector('#attach-tray .attach-progress');"
        " return p && p.value > 0 && p.value < 100; }")
    # Sending while a file is still on its way waits for it.
    ada.locator("#composer-input").fill("The noise I promised")
    ada.locator("#composer-input").press("Enter")
    expect(ada.locator("#composer-error")).to_contain_text("Wait for your files")
    expect(item).to_have_class("attach-item done", timeout=30_000)
    expect(progress).to_be_hidden()
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})

    # A file dropped on the message list joins the tray.
    ada.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["line one\\nline two\\n"], "notes.txt", {type: "text/plain"}));
        const zone = document.getElementById("messages");
        zone.dispatchEvent(new DragEvent("dragenter", {dataTransfer: dt, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""")
    expect(ada.locator("#attach-tray .attach-item", has_text="notes.txt")).to_have_class("attach-item done")
    ada.locator("#composer-input").press("Enter")
    expect(ada.locator("#attach-tray")).to_be_hidden()

    # Bo sees the message with both files; no worker runs yet, so the image is still processing.
    sent = message(bo, "The noise I promised")
    expect(sent.locator(".attach-image .attach-processing")).to_have_text("Processing…")
    card = sent.locator(".attach-card")
    expect(card.locator(".attach-card-name")).to_have_text("notes.txt")
    att = in_worker_thread(lambda: Attachment.objects.get(filename="notes.txt"))
    expect(card).to_have_attribute("href", f"/attachments/{att.id}/notes.txt")

    # The worker makes the thumbnail; Bo's page swaps it in without a reload.
    with servers.celery_worker(queues="media"):
        thumb = sent.locator(".attach-image img.attach-thumb")
        expect(thumb).to_be_visible(timeout=30_000)
    image = in_worker_thread(lambda: Attachment.objects.get(filename="noise.png"))
    expect(thumb).to_have_attribute("src", f"/attachments/{image.id}/thumbnail.webp")
    expect(sent.locator(".attach-image")).to_have_attribute("href", f"/attachments/{image.id}/noise.png")
    assert bo.evaluate("() => document.querySelector('.attach-thumb').naturalWidth") == 400  # 480×360 → 400×300
    # The original opens from the thumbnail, and the text file downloads.
    response = bo.request.get(f"{live_url}/attachments/{image.id}/noise.png")
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.body())) as img:
        assert img.size == (480, 360)
    with bo.expect_download() as download:
        card.click()
    assert download.value.suggested_filename == "notes.txt"
    assert os.path.getsize(download.value.path()) == len("line one\nline two\n")
    assert errors == [] and bo_errors == []
