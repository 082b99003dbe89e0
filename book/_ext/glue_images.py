"""Write the images that myst-nb glues across documents.

myst-nb 1.x resolves ``{glue}`` references to another notebook (``:doc:``) into an image
node whose URI points at ``_images/<sha256>.png``, but it never writes that file, so the
page shows a broken image. This extension writes every image found in the glue caches
(``<nb_output_folder>/**/*.glue.json``) to the builder's image folder when the build ends,
under exactly the name myst-nb computes.
"""

from __future__ import annotations

import hashlib
import json
from binascii import a2b_base64
from mimetypes import guess_extension
from pathlib import Path

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def _write_glued_images(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    cache = Path(app.env.mystnb_config.output_folder)
    imgdir = Path(app.builder.outdir) / app.builder.imagedir
    for glue_file in cache.rglob("*.glue.json"):
        for output in json.loads(glue_file.read_text()).values():
            data = output.get("data", {})
            for mime in IMAGE_TYPES:
                if mime in data and mime != "image/svg+xml":
                    raw = a2b_base64(data[mime])
                    ext = guess_extension(mime) or "." + mime.rsplit("/")[-1]
                    ext = ".jpeg" if ext == ".jpe" else ext
                    target = imgdir / f"{hashlib.sha256(raw).hexdigest()}{ext}"
                    if not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(raw)
                    break


def setup(app):
    app.connect("build-finished", _write_glued_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
