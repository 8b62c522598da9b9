"""Draw services/web/static/share-card.png, the picture a link to the site shows in a messenger's
preview (Open Graph's og:image): the site's sun on its red, 1200×630, no words (so it fits every
language) and no metadata. Run once; the PNG is kept with the code:

    .venv/bin/python scripts/make_share_card.py
"""
from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "services" / "web" / "static" / "share-card.png"
RED, SUN = (122, 12, 31), (247, 181, 0)
WIDTH, HEIGHT, SCALE = 1200, 630, 4  # drawn 4× larger, then reduced: smooth edges


def draw() -> Image.Image:
    big = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), RED)
    pen = ImageDraw.Draw(big)
    cx, cy, unit = WIDTH * SCALE / 2, HEIGHT * SCALE / 2, 13 * SCALE  # the logo's 32-unit box, 13 px a unit
    pen.ellipse((cx - 7 * unit, cy - 7 * unit, cx + 7 * unit, cy + 7 * unit), fill=SUN)
    for ray in range(8):
        angle = ray * math.pi / 4
        inner, outer = 10 * unit, 14 * unit
        start = (cx + inner * math.cos(angle), cy + inner * math.sin(angle))
        end = (cx + outer * math.cos(angle), cy + outer * math.sin(angle))
        pen.line((start, end), fill=SUN, width=int(2.5 * unit))
        for point in (start, end):  # round caps, as the logo's stroke-linecap
            r = 1.25 * unit
            pen.ellipse((point[0] - r, point[1] - r, point[0] + r, point[1] + r), fill=SUN)
    return big.resize((WIDTH, HEIGHT), Image.LANCZOS)


if __name__ == "__main__":
    draw().save(OUT, optimize=True)  # Pillow writes no metadata unless asked
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
