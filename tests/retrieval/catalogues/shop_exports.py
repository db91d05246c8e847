"""Small shop exports in the platforms' documented layouts, written by tests with tiny photos:
Shopify product CSV (help.shopify.com, 'Using CSV files to import and export products'),
WooCommerce product CSV (the WooCommerce wiki's 'Product CSV Import Schema'), Magento 2's
catalog product export, a Google Merchant Center feed (TSV, RSS 2.0 with the g: namespace)
and H&M's articles.csv. A few products each, with variants."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from PIL import Image


def photo(path: Path) -> None:
    """A tiny JPEG whose colour follows its name (so that every photo differs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shade = hashlib.sha1(path.name.encode()).digest()[:3]
    image = Image.new("RGB", (24, 24), (255, 255, 255))
    image.paste(tuple(shade), (6, 4, 18, 20))
    image.save(path, "JPEG")


def _write(path: Path, columns: list[str], rows: list[dict], delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns, delimiter=delimiter, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


SHOPIFY_COLUMNS = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags",
    "Published", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value",
    "Option3 Name", "Option3 Value", "Variant SKU", "Variant Grams",
    "Variant Inventory Tracker", "Variant Inventory Qty", "Variant Inventory Policy",
    "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src",
    "Image Position", "Image Alt Text", "Gift Card", "SEO Title", "SEO Description",
    "Google Shopping / Gender", "Google Shopping / Age Group", "Variant Image",
    "Variant Weight Unit", "Status",
]  # fmt: skip
CDN = "https://cdn.shopify.com/s/files/1/0533/2089/files/"


def _shopify_variant(sku, color, size, price, image="", **more) -> dict:
    """A variant row of the hoodie; option names only on the product's first row."""
    row = {
        "Handle": "classic-hoodie", "Option1 Value": color, "Option2 Value": size, "Variant SKU": sku,
        "Variant Grams": "450", "Variant Inventory Tracker": "shopify",
        "Variant Inventory Qty": "12", "Variant Inventory Policy": "deny",
        "Variant Fulfillment Service": "manual", "Variant Price": price,
        "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE",
        "Variant Image": image, "Variant Weight Unit": "kg",
    }  # fmt: skip
    row.update(more)
    return row


def write_shopify(folder: Path) -> Path:
    """3 products: a hoodie in 2 colours x sizes (variant images), a shirt with no options,
    a dress in 3 sizes sharing one photo. Photos are CDN URLs; files by their names."""
    hoodie = {
        "Title": "Classic Hoodie",
        "Body (HTML)": "<p>Soft <strong>brushed</strong> cotton hoodie &amp; kangaroo pocket.</p>",
        "Vendor": "Northwind",
        "Product Category": "Apparel & Accessories > Clothing > Activewear > Hoodies",
        "Type": "Hoodie",
        "Tags": "cotton, winter",
        "Published": "TRUE",
        "Google Shopping / Gender": "Unisex",
        "Status": "active",
        "Option1 Name": "Color",
        "Option2 Name": "Size",
    }
    black, grey = f"{CDN}hoodie-black.jpg?v=1650000000", f"{CDN}hoodie-grey.jpg?v=1650000001"
    rows = [
        _shopify_variant("HD-BLK-S", "Black", "S", "49.00", black, **hoodie,
                         **{"Image Src": black, "Image Position": "1"}),
        _shopify_variant("HD-BLK-M", "Black", "M", "49.00", black,
                         **{"Image Src": grey, "Image Position": "2"}),
        _shopify_variant("HD-BLK-L", "Black", "L", "52.00", black),
        _shopify_variant("HD-GRY-S", "Grey", "S", "49.00", grey),
        _shopify_variant("HD-GRY-M", "Grey", "M", "49.00", grey),
        {"Handle": "classic-hoodie", "Image Src": f"{CDN}hoodie-back.jpg", "Image Position": "3"},
        {
            "Handle": "linen-shirt", "Title": "Linen Shirt", "Body (HTML)": "Breezy linen.",
            "Vendor": "Northwind", "Product Category": "Apparel & Accessories > Clothing > Shirts & Tops",
            "Type": "Shirt", "Published": "TRUE", "Option1 Name": "Title",
            "Option1 Value": "Default Title", "Variant SKU": "LS-1", "Variant Price": "45.00",
            "Image Src": f"{CDN}linen-shirt.jpg", "Image Position": "1", "Status": "active",
        },
        {
            "Handle": "summer-dress", "Title": "Summer Dress", "Body (HTML)": "<ul><li>Red</li></ul>",
            "Vendor": "Sunny", "Product Category": "Apparel & Accessories > Clothing > Dresses",
            "Type": "Dress", "Published": "TRUE", "Option1 Name": "Size", "Option1 Value": "XS",
            "Variant SKU": "SD-XS", "Variant Price": "60.00",
            "Image Src": f"{CDN}dress-red.jpg", "Image Position": "1", "Status": "active",
        },
        {"Handle": "summer-dress", "Option1 Value": "S", "Variant SKU": "SD-S", "Variant Price": "60.00"},
        {"Handle": "summer-dress", "Option1 Value": "M", "Variant SKU": "SD-M", "Variant Price": "65.00"},
    ]  # fmt: skip
    for name in ("hoodie-black", "hoodie-grey", "hoodie-back", "linen-shirt", "dress-red"):
        photo(folder / "images" / f"{name}.jpg")
    return _write(folder / "products_export.csv", SHOPIFY_COLUMNS, rows)


WOO_COLUMNS = [
    "ID", "Type", "SKU", "Name", "Published", "Is featured?", "Visibility in catalog",
    "Short description", "Description", "Date sale price starts", "Date sale price ends",
    "Tax status", "Tax class", "In stock?", "Stock", "Backorders allowed?",
    "Sold individually?", "Weight (kg)", "Length (cm)", "Width (cm)", "Height (cm)",
    "Allow customer reviews?", "Purchase note", "Sale price", "Regular price", "Categories",
    "Tags", "Shipping class", "Images", "Download limit", "Download expiry days", "Parent",
    "Grouped products", "Upsells", "Cross-sells", "External URL", "Button text", "Position",
    "Attribute 1 name", "Attribute 1 value(s)", "Attribute 1 visible", "Attribute 1 global",
    "Attribute 2 name", "Attribute 2 value(s)", "Attribute 2 visible", "Attribute 2 global",
]  # fmt: skip
UPLOADS = "https://shop.example/wp-content/uploads/2026/01/"


def _woo(id, type, sku, name, **more) -> dict:
    row = {
        "ID": id, "Type": type, "SKU": sku, "Name": name, "Published": "1",
        "Is featured?": "0", "Visibility in catalog": "visible", "Tax status": "taxable",
        "In stock?": "1", "Stock": "7", "Backorders allowed?": "0", "Sold individually?": "0",
        "Allow customer reviews?": "1", "Position": "0",
    }  # fmt: skip
    row.update(more)
    return row


def write_woocommerce(folder: Path) -> Path:
    """A variable hoodie (blue S and M share a photo, green S) and a simple beanie."""
    attrs = {"Attribute 1 name": "Color", "Attribute 2 name": "Size"}
    attrs.update({"Attribute 1 visible": "1", "Attribute 2 visible": "1"})
    blue, green = f"{UPLOADS}hoodie-blue.jpg", f"{UPLOADS}hoodie-green.jpg"
    rows = [
        _woo("100", "variable", "woo-hoodie", "Logo Hoodie",
             **{"Description": "<p>A <em>warm</em> hoodie with a logo.</p>",
                "Categories": "Clothing > Hoodies", "Tags": "warm", "Images": f"{blue}, {green}",
                "Attribute 1 value(s)": "Blue, Green", "Attribute 2 value(s)": "S, M"}, **attrs),
        _woo("101", "variation", "woo-hoodie-blue-s", "Logo Hoodie - Blue, S",
             **{"Regular price": "42", "Images": blue, "Parent": "id:100",
                "Attribute 1 value(s)": "Blue", "Attribute 2 value(s)": "S"}, **attrs),
        _woo("102", "variation", "woo-hoodie-blue-m", "Logo Hoodie - Blue, M",
             **{"Regular price": "42", "Images": blue, "Parent": "id:100",
                "Attribute 1 value(s)": "Blue", "Attribute 2 value(s)": "M"}, **attrs),
        _woo("103", "variation", "woo-hoodie-green-s", "Logo Hoodie - Green, S",
             **{"Regular price": "42", "Sale price": "35", "Images": green, "Parent": "woo-hoodie",
                "Attribute 1 value(s)": "Green", "Attribute 2 value(s)": "S"}, **attrs),
        _woo("110", "simple", "woo-beanie", "Beanie",
             **{"Short description": "Knitted beanie.", "Regular price": "18",
                "Categories": "Accessories > Hats, Sale", "Images": f"{UPLOADS}beanie.jpg",
                "Attribute 1 name": "Color", "Attribute 1 value(s)": "Red"}),
    ]  # fmt: skip
    for name in ("hoodie-blue", "hoodie-green", "beanie"):
        photo(folder / "uploads" / f"{name}.jpg")
    return _write(folder / "wc-product-export.csv", WOO_COLUMNS, rows)


MAGENTO_COLUMNS = [
    "sku", "store_view_code", "attribute_set_code", "product_type", "categories",
    "product_websites", "name", "description", "short_description", "weight",
    "product_online", "tax_class_name", "visibility", "price", "special_price", "url_key",
    "meta_title", "base_image", "base_image_label", "small_image", "thumbnail_image",
    "swatch_image", "created_at", "updated_at", "display_product_options_in",
    "gift_message_available", "msrp_display_actual_price_type", "additional_attributes",
    "qty", "out_of_stock_qty", "use_config_min_qty", "is_qty_decimal", "allow_backorders",
    "use_config_backorders", "min_cart_qty", "use_config_min_sale_qty", "max_cart_qty",
    "use_config_max_sale_qty", "is_in_stock", "notify_on_stock_below",
    "use_config_notify_stock_qty", "manage_stock", "use_config_manage_stock",
    "use_config_qty_increments", "qty_increments", "use_config_enable_qty_inc",
    "enable_qty_increments", "is_decimal_divided", "website_id", "additional_images",
    "additional_image_labels", "configurable_variations", "configurable_variation_labels",
]  # fmt: skip
MAGENTO_STOCK = {
    "qty": "100", "out_of_stock_qty": "0", "use_config_min_qty": "1", "is_qty_decimal": "0",
    "allow_backorders": "0", "use_config_backorders": "1", "min_cart_qty": "1",
    "use_config_min_sale_qty": "1", "max_cart_qty": "10000", "use_config_max_sale_qty": "1",
    "is_in_stock": "1", "notify_on_stock_below": "1", "use_config_notify_stock_qty": "1",
    "manage_stock": "1", "use_config_manage_stock": "1", "use_config_qty_increments": "1",
    "qty_increments": "1", "use_config_enable_qty_inc": "1", "enable_qty_increments": "0",
    "is_decimal_divided": "0", "website_id": "0", "product_websites": "base",
    "attribute_set_code": "Top", "tax_class_name": "Taxable Goods", "product_online": "1",
    "weight": "1", "created_at": "3/1/26, 10:00 AM", "updated_at": "3/1/26, 10:00 AM",
    "gift_message_available": "Use config", "display_product_options_in": "Block after Info Column",
    "msrp_display_actual_price_type": "Use config",
}  # fmt: skip
HOODIE_CATEGORIES = (
    "Default Category/Men/Tops/Hoodies & Sweatshirts,Default Category/Collections/Eco Friendly"
)


def _magento(sku, type, name, image, **more) -> dict:
    row = {"sku": sku, "product_type": type, "name": name, "base_image": image,
           "small_image": image, "thumbnail_image": image, "swatch_image": "no_selection",
           "url_key": sku.lower(), **MAGENTO_STOCK}  # fmt: skip
    row.update(more)
    return row


def write_magento(folder: Path) -> Path:
    """A configurable hoodie (black XS and S share a photo, gray XS), its French store-view
    row, and a simple top; photos under media/catalog/product/<a>/<b>/, the export apart."""
    variations = (
        "sku=MH01-XS-Black,color=Black,size=XS|sku=MH01-S-Black,color=Black,size=S|"
        "sku=MH01-XS-Gray,color=Gray,size=XS"
    )
    child = {"visibility": "Not Visible Individually", "categories": HOODIE_CATEGORIES}
    rows = [
        _magento("MH01", "configurable", "Chaz Kangeroo Hoodie", "/m/h/mh01-black_main.jpg",
                 categories=HOODIE_CATEGORIES, visibility="Catalog, Search", price="52.00",
                 description="<p>Ideal for <b>cold-weather</b> training.</p>",
                 additional_attributes="has_options=1,required_options=0,material=Fleece",
                 configurable_variations=variations,
                 configurable_variation_labels="color=Color,size=Size"),
        _magento("MH01", "configurable", "Sweat à capuche Chaz", "", store_view_code="fr"),
        _magento("MH01-XS-Black", "simple", "Chaz Kangeroo Hoodie-XS-Black",
                 "/m/h/mh01-black_main.jpg", price="52.00", **child,
                 additional_attributes="color=Black,size=XS,has_options=0,required_options=0"),
        _magento("MH01-S-Black", "simple", "Chaz Kangeroo Hoodie-S-Black",
                 "/m/h/mh01-black_main.jpg", price="52.00", **child,
                 additional_attributes="color=Black,size=S,has_options=0,required_options=0"),
        _magento("MH01-XS-Gray", "simple", "Chaz Kangeroo Hoodie-XS-Gray",
                 "/m/h/mh01-gray_main.jpg", price="54.00", **child,
                 additional_attributes="color=Gray,size=XS,has_options=0,required_options=0"),
        _magento("WS03", "simple", "Iris Workout Top", "/w/s/ws03-blue_main.jpg",
                 categories="Default Category/Women/Tops/Bras & Tanks",
                 visibility="Catalog, Search", price="29.00", special_price="24.00",
                 description="<p>A sleeveless top &ndash; light and quick-drying.</p>",
                 additional_images="/w/s/ws03-blue_back.jpg",
                 additional_attributes="color=Blue,material=Cotton|Polyester,pattern=Solid,"
                 "eco_collection=0,erin_recommends=0"),
    ]  # fmt: skip
    media = folder / "media" / "catalog" / "product"
    for rel in ("m/h/mh01-black_main.jpg", "m/h/mh01-gray_main.jpg", "w/s/ws03-blue_main.jpg",
                "w/s/ws03-blue_back.jpg"):  # fmt: skip
        photo(media / rel)
    return _write(folder / "export" / "catalog_product.csv", MAGENTO_COLUMNS, rows)


MERCHANT_COLUMNS = [
    "id", "title", "description", "link", "image_link", "additional_image_link", "price",
    "sale_price", "availability", "condition", "brand", "gtin", "color", "size", "gender",
    "age_group", "material", "pattern", "item_group_id", "product_type",
    "google_product_category",
]  # fmt: skip
MERCHANT_ITEMS = [
    {"id": "TS-RED-S", "title": "Crew T-shirt red S", "color": "Red", "size": "S",
     "image_link": "https://shop.example/img/tshirt-red.jpg", "item_group_id": "TS"},
    {"id": "TS-RED-M", "title": "Crew T-shirt red M", "color": "Red", "size": "M",
     "image_link": "https://shop.example/img/tshirt-red.jpg", "item_group_id": "TS"},
    {"id": "TS-BLU-S", "title": "Crew T-shirt blue S", "color": "Blue", "size": "S",
     "image_link": "https://shop.example/img/tshirt-blue.jpg", "item_group_id": "TS",
     "additional_image_link": "https://shop.example/img/tshirt-blue-back.jpg"},
]  # fmt: skip
MERCHANT_SKIRT = {
    "id": "SK-1", "title": "Pleated skirt", "color": "Navy", "size": "M",
    "description": "Pleated midi skirt.", "price": "39.90 USD", "sale_price": "29.90 USD",
    "image_link": "https://shop.example/img/skirt.jpg", "gender": "female",
    "age_group": "adult", "material": "wool", "pattern": "plain",
    "product_type": "Apparel > Bottoms > Skirts",
    "google_product_category": "Apparel & Accessories > Clothing > Skirts",
    "availability": "in_stock", "condition": "new", "brand": "Acme", "gtin": "4006381333931",
    "link": "https://shop.example/p/sk-1",
}  # fmt: skip
T_SHIRT = {
    "description": "Cotton crew-neck T-shirt.", "price": "15.00 USD", "availability": "in_stock",
    "condition": "new", "brand": "Acme", "gender": "unisex", "age_group": "adult",
    "material": "cotton", "pattern": "plain", "product_type": "Apparel > Tops > T-Shirts",
    "google_product_category": "Apparel & Accessories > Clothing > Shirts & Tops",
    "link": "https://shop.example/p/ts",
}  # fmt: skip


def merchant_rows() -> list[dict]:
    return [{**T_SHIRT, **item} for item in MERCHANT_ITEMS] + [MERCHANT_SKIRT]


def _merchant_photos(folder: Path) -> None:
    for name in ("tshirt-red", "tshirt-blue", "tshirt-blue-back", "skirt"):
        photo(folder / "img" / f"{name}.jpg")


def write_merchant_tsv(folder: Path) -> Path:
    """A T-shirt in red (S, M: one photo) and blue (S), and a skirt, as a TSV feed."""
    _merchant_photos(folder)
    return _write(folder / "feed.tsv", MERCHANT_COLUMNS, merchant_rows(), delimiter="\t")


def write_merchant_xml(folder: Path, atom: bool = False) -> Path:
    """The same feed as RSS 2.0 (title, link, description plain; the rest in g:), or as
    Atom 1.0 (entries; link as an href)."""
    from xml.sax.saxutils import escape, quoteattr

    _merchant_photos(folder)
    items = []
    for row in merchant_rows():
        fields = []
        for column in MERCHANT_COLUMNS:
            for value in row.get(column, "").split(",") if row.get(column) else []:
                tag = column if column in ("title", "link", "description") else f"g:{column}"
                if atom and column == "link":
                    fields.append(f"<link href={quoteattr(value)}/>")
                else:
                    fields.append(f"<{tag}>{escape(value)}</{tag}>")
        fields.append("<g:shipping><g:country>US</g:country><g:price>5 USD</g:price></g:shipping>")
        items.append("".join(fields))
    g = 'xmlns:g="http://base.google.com/ns/1.0"'
    if atom:
        entries = "".join(f"<entry>{fields}</entry>" for fields in items)
        text = f'<feed xmlns="http://www.w3.org/2005/Atom" {g}><title>Acme</title>{entries}</feed>'
    else:
        entries = "".join(f"<item>{fields}</item>" for fields in items)
        text = (
            f'<rss {g} version="2.0"><channel><title>Acme</title><link>https://shop.example'
            f"</link><description>Acme feed</description>{entries}</channel></rss>"
        )
    (folder / "feed.xml").write_text(f'<?xml version="1.0"?>\n{text}\n', encoding="utf-8")
    return folder / "feed.xml"


HM_COLUMNS = [
    "article_id", "product_code", "prod_name", "product_type_no", "product_type_name",
    "product_group_name", "graphical_appearance_no", "graphical_appearance_name",
    "colour_group_code", "colour_group_name", "perceived_colour_value_id",
    "perceived_colour_value_name", "perceived_colour_master_id",
    "perceived_colour_master_name", "department_no", "department_name", "index_code",
    "index_name", "index_group_no", "index_group_name", "section_no", "section_name",
    "garment_group_no", "garment_group_name", "detail_desc",
]  # fmt: skip
HM_ROWS = [
    ["0108775015", "0108775", "Strap top", "253", "Vest top", "Garment Upper body", "1010016",
     "Solid", "09", "Black", "4", "Dark", "5", "Black", "1676", "Jersey Basic", "A",
     "Ladieswear", "1", "Ladieswear", "16", "Womens Everyday Basics", "1002", "Jersey Basic",
     "Jersey top with narrow shoulder straps."],
    ["0108775044", "0108775", "Strap top", "253", "Vest top", "Garment Upper body", "1010016",
     "Solid", "10", "White", "3", "Light", "9", "White", "1676", "Jersey Basic", "A",
     "Ladieswear", "1", "Ladieswear", "16", "Womens Everyday Basics", "1002", "Jersey Basic",
     "Jersey top with narrow shoulder straps."],
    ["0110065001", "0110065", "OP T-shirt (Idro)", "306", "Bra", "Underwear", "1010016",
     "Solid", "09", "Black", "4", "Dark", "5", "Black", "1339", "Clean Lingerie", "B",
     "Lingeries/Tights", "1", "Ladieswear", "61", "Womens Lingerie", "1017",
     "Under-, Nightwear", "Microfibre T-shirt bra with underwired, moulded cups."],
    ["0179123001", "0179123", "Crew neck tee", "255", "T-shirt", "Garment Upper body",
     "1010016", "Solid", "73", "Dark Blue", "4", "Dark", "2", "Blue", "5851", "Jersey", "F",
     "Menswear", "3", "Menswear", "21", "Contemporary Casual", "1005", "Jersey Fancy",
     "Crew-neck T-shirt in cotton jersey."],
]  # fmt: skip


def write_hm(folder: Path, zero_padded: bool = True) -> Path:
    """Two colourways of a strap top, a bra and a men's T-shirt; photos at images/0XX/0XXXXXXXXX.jpg. The ids
    as the CSV has them (`zero_padded`) or as a spreadsheet saves them (leading zero lost)."""
    rows = []
    for values in HM_ROWS:
        row = dict(zip(HM_COLUMNS, values))
        photo(folder / "images" / row["article_id"][:3] / f"{row['article_id']}.jpg")
        if not zero_padded:
            row["article_id"] = row["article_id"].lstrip("0")
        rows.append(row)
    return _write(folder / "articles.csv", HM_COLUMNS, rows)
