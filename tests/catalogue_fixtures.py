"""Small catalogues that tests write for themselves: a shop in the fashion-products layout
(images/<id>.jpg and a Kaggle-style styles.csv) with made-up rows of its own; photos stored
turned, with the EXIF orientation that shows them upright."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

STYLES_COLUMNS = [
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
]
# (gender, master, sub, article, colour, season, usage): the made-up shop's products
PRODUCTS = [
    ("Men", "Apparel", "Topwear", "Tshirts", "Navy Blue", "Summer", "Casual"),
    ("Men", "Apparel", "Topwear", "Shirts", "Navy Blue", "Fall", "Formal"),
    ("Men", "Apparel", "Topwear", "Shirts", "Black", "Fall", "Formal"),
    ("Women", "Apparel", "Topwear", "Tshirts", "Black", "Summer", "Casual"),
    ("Women", "Apparel", "Topwear", "Kurtas", "Maroon", "Fall", "Ethnic"),
    ("Women", "Footwear", "Shoes", "Casual Shoes", "White", "Summer", "Casual"),
    ("Men", "Footwear", "Shoes", "Sports Shoes", "Grey", "Winter", "Sports"),
    ("Men", "Footwear", "Flip Flops", "Flip Flops", "Blue", "Summer", "Casual"),
    ("Unisex", "Accessories", "Watches", "Watches", "Black", "Winter", "Casual"),
    ("Women", "Accessories", "Bags", "Handbags", "Brown", "Fall", "Casual"),
]
COPIES = 3  # rows per product, so that every column repeats like a real catalogue's


def product_photo(colour: tuple[int, int, int], path: Path) -> None:
    """A small photo-like JPEG: a coloured shape on a white background."""
    image = Image.new("RGB", (32, 32), (255, 255, 255))
    for x in range(8, 24):
        for y in range(6, 28):
            image.putpixel((x, y), colour)
    image.save(path, "JPEG")


# orientation -> how the stored pixels were turned from the upright picture (a camera held
# sideways stores them so, and says in EXIF how to turn them back)
STORED = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # shown turned 90 degrees clockwise
    8: Image.Transpose.ROTATE_270,  # shown turned 90 degrees anticlockwise
}


def upright_picture() -> np.ndarray:
    """(64, 96, 3): a red block top left and a blue band at the bottom, on white."""
    pixels = np.full((64, 96, 3), 255, np.uint8)
    pixels[4:28, 6:40] = (200, 30, 30)
    pixels[48:60, :] = (30, 60, 200)
    return pixels


def photo_bytes(pixels: np.ndarray, kind: str = "JPEG", orientation: int = 1, mode: str = "RGB"):
    """The picture's file, its pixels turned as `orientation` says they are stored."""
    image = Image.fromarray(pixels)
    if orientation != 1:
        image = image.transpose(STORED[orientation])
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    options = {"quality": 95} if kind == "JPEG" else {}
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, kind, exif=exif.tobytes(), **options)
    return buffer.getvalue()


def write_turned_photos(folder: Path) -> Path:
    """A folder of one picture stored upright (upright.jpg) and turned (turned-<n>.jpg for
    EXIF orientations 3, 6 and 8), without metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "upright.jpg").write_bytes(photo_bytes(upright_picture()))
    for orientation in STORED:
        turned = photo_bytes(upright_picture(), orientation=orientation)
        (folder / f"turned-{orientation}.jpg").write_bytes(turned)
    return folder


def write_styles_shop(folder: Path, extra_lines: list[str] = ()) -> Path:
    """images/<id>.jpg and styles.csv; `extra_lines` are appended verbatim (bad rows)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with open(folder / "styles.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(STYLES_COLUMNS)
        for copy in range(COPIES):
            for i, (gender, master, sub, article, colour, season, usage) in enumerate(PRODUCTS):
                product_id = str(1000 + copy * 100 + i)
                title = f"Brand{copy} {gender} {colour} {article} {i}"
                row = [product_id, gender, master, sub, article, colour, season, 2010 + i, usage]
                writer.writerow([*row, title])
                shade = (40 * i % 255, 90 + 10 * copy, 160)
                product_photo(shade, folder / "images" / f"{product_id}.jpg")
    if extra_lines:
        with open(folder / "styles.csv", "a", encoding="utf-8") as f:
            f.write("\n".join(extra_lines) + "\n")
    return folder


SHAPES = {"Tshirts": "rectangle", "Watches": "circle", "Handbags": "triangle"}
PAINT = {"Red": (200, 30, 30), "Blue": (30, 60, 200), "Green": (40, 150, 60)}


def shape_photo(kind: str, colour: str, shift: int, path: Path, shapes: dict = SHAPES) -> None:
    """A photo-like product shot: one coloured shape on white, the kind of item its shape."""
    from PIL import ImageDraw

    image = Image.new("RGB", (96, 96), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    box = (18 + shift, 20, 74 + shift, 78)
    shade = tuple(min(255, c + 4 * shift) for c in PAINT[colour])
    if shapes[kind] == "rectangle":
        draw.rectangle(box, fill=shade)
    elif shapes[kind] == "circle":
        draw.ellipse(box, fill=shade)
    else:
        draw.polygon(
            [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) // 2, box[1])], fill=shade
        )
    image.save(path, "JPEG", quality=92)


def write_shape_shop(folder: Path, copies: int = 4) -> Path:
    """A tiny photo catalogue with two attributes (kind by shape, colour by paint): every
    combination `copies` times, as images/<id>.jpg and metadata.csv with a product name."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "articleType", "baseColour", "productDisplayName"])
        n = 0
        for copy in range(copies):
            for kind in SHAPES:
                for colour in PAINT:
                    item_id = f"p{n:03d}"
                    shape_photo(kind, colour, copy * 3 - 4, folder / "images" / f"{item_id}.jpg")
                    writer.writerow([item_id, kind, colour, f"Shop {colour} {kind} no. {n}"])
                    n += 1
    return folder


SHOE_SHAPES = {"Casual Shoes": "rectangle", "Sports Shoes": "circle", "Handbags": "triangle"}


def write_shoe_shop(folder: Path, copies: int = 2) -> Path:
    """A tiny photo shop whose words need asking about: 'sneakers' fits its Casual Shoes and
    its Sports Shoes; with a gender, so that suggestions have something to split."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "gender", "articleType", "baseColour", "productDisplayName"])
        n = 0
        for copy in range(copies):
            for gender in ("Men", "Women"):
                for kind in SHOE_SHAPES:
                    for colour in PAINT:
                        item_id = f"s{n:03d}"
                        photo = folder / "images" / f"{item_id}.jpg"
                        shape_photo(kind, colour, copy * 3 - 4 + n % 3, photo, SHOE_SHAPES)
                        title = f"Shop {gender} {colour} {kind} no. {n}"
                        writer.writerow([item_id, gender, kind, colour, title])
                        n += 1
    return folder


SIZES = ("S", "M", "L", "30", "32", "34")  # letters and waist sizes, as a shop writes them


def price_of(row: int) -> float:
    """A made-up price for fixture row `row`: 4.99 to 123.99, spread over the rows."""
    return 4.99 + (row * 37) % 120


def write_priced_shop(folder: Path) -> Path:
    """The styles shop (write_styles_shop) with a numeric `price` column and a `size` column
    whose values include numbers ("30", "32": never read from "under 30" or "3 socks")."""
    write_styles_shop(folder)
    with open(folder / "styles.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    with open(folder / "styles.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*rows[0], "price", "size"])
        for n, row in enumerate(rows[1:]):
            writer.writerow([*row, f"{price_of(n):.2f}", SIZES[n % len(SIZES)]])
    return folder
