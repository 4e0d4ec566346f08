"""The opt-in tile background: warped onto the Gauss-Krüger frame when the server answers,
left out (vector context only, and the footer says so) when it does not."""

from __future__ import annotations

import http.server
import io
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from reports import build
from reports.content import Settings
from reports.document import to_pdf
from reports.tiles import background

TILE_RGB = (120, 200, 140)
# 盖州市 at 1:750,000 in EPSG:4550 (x0, y0, x1, y1), 177 × 121 mm on paper.
EXTENT = (480_000.0, 4_420_000.0, 612_750.0, 4_510_750.0)
SIZE_MM = (177.0, 121.0)


@pytest.fixture(scope="module")
def tile_server() -> Iterator[tuple[str, list[str]]]:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), TILE_RGB).save(buf, "PNG")
    tile = buf.getvalue()
    asked: list[str] = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png", asked
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


def test_tiles_are_warped_onto_the_frame(tile_server) -> None:
    url, asked = tile_server
    asked.clear()
    image = background(url, 4550, EXTENT, SIZE_MM, 750_000)
    assert image is not None
    assert image.shape == (605, 885, 4)  # 5 px per mm
    assert (image[..., :3] == np.array(TILE_RGB)).all()
    zooms = {path.split("/")[1] for path in asked}
    # 0.2 mm at 1:750,000 is 150 m: zoom 10 (117 m per pixel at 40°N) is the coarsest finer one
    assert zooms == {"10"}
    assert 2 <= len(asked) <= 48


def test_an_unreachable_server_falls_back_at_once() -> None:
    start = time.monotonic()
    url = f"http://127.0.0.1:{closed_port()}/{{z}}/{{x}}/{{y}}.png"
    assert background(url, 4550, EXTENT, SIZE_MM, 750_000, timeout=0.5) is None
    assert time.monotonic() - start < 3


def test_a_report_names_its_basemap_or_says_it_had_none(store, tile_server) -> None:
    url, _asked = tile_server
    with_tiles = build(
        store, "county", "210881", 2025, Settings(tile_url=url, tile_attribution="测试底图")
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(with_tiles))).pages)
    assert "底图：测试底图" in text and "未响应" not in text
    dead = f"http://127.0.0.1:{closed_port()}/{{z}}/{{x}}/{{y}}.png"
    without = build(store, "county", "210881", 2025, Settings(tile_url=dead, tile_attribution="X"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(without))).pages)
    assert "底图服务未响应" in text and "底图：X" not in text
