"""Draw the Provenance Studio icon with Pillow and write every size the packages need.

The icon is a rounded tile with a violet-to-teal gradient, a white picture frame holding a
small landscape (the generated work), and a gold seal with a check mark (its signed provenance).
Run it again after changing the drawing: ``python packaging/make_icons.py`` rewrites
``assets/icons/`` (PNGs 16–512 px, ``provenance-studio.ico`` for Windows, ``.icns`` for macOS).
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ICONS_DIR = Path(__file__).resolve().parent.parent / "assets" / "icons"
NAME = "provenance-studio"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: Drawn large and scaled down, so every size gets smooth edges.
CANVAS = 1024


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A diagonal gradient from ``top`` (upper left) to ``bottom`` (lower right)."""
    small = Image.new("RGB", (2, 2))
    small.putpixel((0, 0), top)
    small.putpixel((1, 1), bottom)
    mid = tuple((a + b) // 2 for a, b in zip(top, bottom))
    small.putpixel((1, 0), mid)
    small.putpixel((0, 1), mid)
    return small.resize((size, size), Image.Resampling.BILINEAR)


def draw_icon(size: int = CANVAS) -> Image.Image:
    """The master icon, RGBA, ``size`` pixels square."""
    s = size / 1024
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))

    # the tile, with a soft shadow under it
    margin, radius = round(64 * s), round(200 * s)
    shadow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle((margin, margin + round(18 * s), size - margin, size - margin + round(18 * s)),
                                             radius, fill=(20, 10, 40, 110))
    icon.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(round(22 * s))))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle((margin, margin, size - margin, size - margin), radius, fill=255)
    tile = _gradient(size, (108, 64, 214), (22, 168, 170)).convert("RGBA")
    icon.paste(tile, (0, 0), mask)

    draw = ImageDraw.Draw(icon)
    # the picture frame and its landscape
    left, top, right, bottom = (round(v * s) for v in (220, 230, 760, 700))
    draw.rounded_rectangle((left, top, right, bottom), round(36 * s), fill=(255, 255, 255, 255))
    inset = round(38 * s)
    inner = (left + inset, top + inset, right - inset, bottom - inset)
    sky = _gradient(inner[2] - inner[0], (255, 214, 150), (255, 150, 170)).convert("RGBA")
    sky = sky.resize((inner[2] - inner[0], inner[3] - inner[1]))
    icon.paste(sky, inner[:2])
    draw.ellipse([round(v * s) for v in (540, 300, 640, 400)], fill=(255, 250, 225, 255))
    draw.polygon([(inner[0], inner[3]), (round(360 * s), round(420 * s)), (round(470 * s), round(530 * s)),
                  (round(560 * s), round(450 * s)), (inner[2], inner[3] - round(40 * s)), (inner[2], inner[3])],
                 fill=(70, 52, 150, 255))
    draw.polygon([(inner[0], inner[3]), (inner[0], inner[3] - round(70 * s)), (round(420 * s), round(560 * s)),
                  (round(620 * s), inner[3])], fill=(44, 120, 140, 255))

    # the seal: a gold disc with a white check, over the frame's lower right corner
    cx, cy, r = round(740 * s), round(720 * s), round(170 * s)
    draw.ellipse((cx - r - round(14 * s), cy - r - round(14 * s), cx + r + round(14 * s), cy + r + round(14 * s)),
                 fill=(255, 255, 255, 255))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(245, 184, 46, 255))
    draw.ellipse((cx - r + round(22 * s), cy - r + round(22 * s), cx + r - round(22 * s), cy + r - round(22 * s)),
                 outline=(255, 226, 140, 255), width=max(1, round(10 * s)))
    check = [(cx - round(78 * s), cy + round(4 * s)), (cx - round(20 * s), cy + round(62 * s)),
             (cx + round(86 * s), cy - round(62 * s))]
    draw.line(check, fill=(255, 255, 255, 255), width=max(2, round(44 * s)), joint="curve")
    return icon


def write_icons(folder: Path = ICONS_DIR) -> list[Path]:
    """Write the PNGs, the .ico and the .icns into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    master = draw_icon()
    written = []
    for size in PNG_SIZES:
        path = folder / f"{NAME}-{size}.png"
        master.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)
        written.append(path)
    ico = folder / f"{NAME}.ico"
    master.save(ico, sizes=[(n, n) for n in ICO_SIZES])
    icns = folder / f"{NAME}.icns"
    master.resize((512, 512), Image.Resampling.LANCZOS).save(icns)
    written += [ico, icns]
    return written


if __name__ == "__main__":
    for written_path in write_icons(Path(sys.argv[1]) if len(sys.argv) > 1 else ICONS_DIR):
        print(written_path)
