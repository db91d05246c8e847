"""Shop platforms' exports read as they are: each documented layout recognised, every product
loaded with its photo, its price, its attributes and its colourways."""

import json
from pathlib import Path

import pytest
from shop_exports import (
    write_hm,
    write_magento,
    write_merchant_tsv,
    write_merchant_xml,
    write_shopify,
    write_woocommerce,
)

from retrieval.catalogues import CatalogueRef, FolderCatalogue
from retrieval.catalogues.layouts import read_products, recognise
from retrieval.catalogues.metadata import read_metadata
from retrieval.catalogues.split import split


def _by_id(catalogue):
    return {item.id: item for item in catalogue.items}


def _photo(item):
    return item.source.rsplit("/", 1)[-1]


def test_shopify_export_one_item_per_colourway(tmp_path):
    metadata = write_shopify(tmp_path)
    catalogue = FolderCatalogue(tmp_path, metadata)
    assert catalogue.layout.name == "shopify"
    items = _by_id(catalogue)
    assert sorted(items) == ["HD-BLK-S", "HD-GRY-S", "LS-1", "SD-XS"]
    black, grey = items["HD-BLK-S"], items["HD-GRY-S"]
    assert (_photo(black), _photo(grey)) == ("hoodie-black.jpg", "hoodie-grey.jpg")
    assert black.group == grey.group == "classic-hoodie"
    assert black.title == "Classic Hoodie"
    assert black.description == "Soft brushed cotton hoodie & kangaroo pocket."  # no HTML
    assert black.tags == grey.tags == "cotton, winter"  # the product's tags, for each variant
    assert black.to_json()["tags"] == "cotton, winter"
    assert black.attributes["color"] == "Black" and black.attributes["size"] == "S|M|L"
    assert grey.attributes["size"] == "S|M"
    assert black.attributes["price"] == "49"  # the lowest of its sizes
    assert black.attributes["category"] == "Hoodies"
    assert (
        black.attributes["category_1"] == "Activewear"
    )  # 'Apparel & Accessories > Clothing' shared
    assert black.attributes["vendor"] == "Northwind" and black.attributes["gender"] == "Unisex"
    assert "color" not in items["LS-1"].attributes  # 'Title: Default Title' is no option
    assert items["SD-XS"].attributes["size"] == "XS|S|M"
    assert items["SD-XS"].attributes["price"] == "60"
    assert catalogue.schema.attributes["price"].kind == "numeric"
    assert catalogue.schema.title_column == "title"
    offered = set(catalogue.schema.attributes)
    assert not offered & {"Variant Inventory Qty", "Published", "Status", "Tags", "Variant Grams"}
    assert catalogue.products == {
        "products": 3,
        "colourways": 4,
        "variants collapsed": 5,
        "currency": None,
    }
    skipped = catalogue.problems.found
    assert "rows without an image skipped" not in skipped
    assert "images without a metadata row skipped" not in skipped  # the back view is the hoodie's


def test_woocommerce_variations_inherit_their_parent(tmp_path):
    catalogue = FolderCatalogue(tmp_path, write_woocommerce(tmp_path))
    assert catalogue.layout.name == "woocommerce"
    items = _by_id(catalogue)
    assert sorted(items) == ["101", "103", "110"]  # blue S and M: one photo, one item
    blue, green, beanie = items["101"], items["103"], items["110"]
    assert blue.group == green.group == "100" and beanie.group == ""
    assert blue.title == "Logo Hoodie"
    assert blue.attributes["size"] == "S|M" and blue.attributes["color"] == "Blue"
    assert green.attributes["price"] == "35"  # the sale price
    assert blue.attributes["category"] == "Hoodies" and blue.attributes["category_1"] == "Clothing"
    assert beanie.attributes["category"] == "Hats" and beanie.attributes["color"] == "Red"
    assert _photo(green) == "hoodie-green.jpg"
    assert blue.tags == green.tags == "warm"  # the variable product's tags, inherited
    assert not set(catalogue.schema.attributes) & {"In stock?", "Stock", "Published", "Position"}


def test_magento_export_with_its_media_folder_apart(tmp_path):
    metadata = write_magento(tmp_path)
    media = tmp_path / "media" / "catalog" / "product"
    catalogue = FolderCatalogue(metadata.parent, metadata, images=media)
    assert catalogue.layout.name == "magento"
    items = _by_id(catalogue)
    assert sorted(items) == ["MH01-XS-Black", "MH01-XS-Gray", "WS03"]
    black, gray, top = items["MH01-XS-Black"], items["MH01-XS-Gray"], items["WS03"]
    assert _photo(black) == "mh01-black_main.jpg" and _photo(top) == "ws03-blue_main.jpg"
    assert black.group == gray.group == "MH01" and top.group == ""
    assert black.title == "Chaz Kangeroo Hoodie"  # the product's name, not the variant's
    assert black.description == "Ideal for cold-weather training."  # the product's
    assert top.description == "A sleeveless top – light and quick-drying."
    assert black.attributes["size"] == "XS|S" and gray.attributes["size"] == "XS"
    assert black.attributes["material"] == "Fleece"  # from the configurable product
    assert top.attributes["material"] == "Cotton|Polyester"
    assert top.attributes["price"] == "24"  # the special price
    assert black.attributes["category"] == "Hoodies & Sweatshirts"
    assert black.attributes["category_1"] == "Men"  # 'Default Category' left out
    assert top.attributes["category_1"] == "Women"
    schema = catalogue.schema
    for unoffered in ("has_options", "required_options", "eco_collection", "qty", "is_in_stock"):
        assert unoffered not in schema.attributes
    assert "ws03-blue_back.jpg" not in str(catalogue.problems.found)  # WS03's second photo
    assert any("store-view rows" in note for note in catalogue.problems.notes)
    assert catalogue.products["variants collapsed"] == 1


def test_magento_export_without_its_photos_says_what_to_do(tmp_path):
    metadata = write_magento(tmp_path)
    with pytest.raises(ValueError, match=r"none of its 4 products names a photo"):
        FolderCatalogue(metadata.parent, metadata)  # no photo at all beside the export
    (tmp_path / "export" / "stray.jpg").write_bytes(
        (tmp_path / "media/catalog/product/m/h/mh01-gray_main.jpg").read_bytes()
    )
    with pytest.raises(ValueError, match=r"Magento 2.*--images DIR"):
        FolderCatalogue(metadata.parent, metadata)


def write_merchant_atom(folder):
    return write_merchant_xml(folder, atom=True)


@pytest.mark.parametrize("write", [write_merchant_tsv, write_merchant_xml, write_merchant_atom])
def test_merchant_center_feed_tsv_and_xml(tmp_path, write):
    catalogue = FolderCatalogue(tmp_path, write(tmp_path))
    assert catalogue.layout.name == "merchant"
    items = _by_id(catalogue)
    assert sorted(items) == ["SK-1", "TS-BLU-S", "TS-RED-S"]
    red = items["TS-RED-S"]
    assert red.group == "TS" and red.attributes["size"] == "S|M"
    assert red.attributes["price"] == "15" and items["SK-1"].attributes["price"] == "29.9"
    assert catalogue.schema.attributes["price"].label == "Price (USD)"
    assert items["SK-1"].attributes["category"] == "Skirts"
    assert items["SK-1"].attributes["gender"] == "female"
    assert items["SK-1"].attributes["google product category"] == "Skirts"  # the path's leaf
    assert not set(catalogue.schema.attributes) & {"link", "gtin", "availability", "shipping"}
    assert catalogue.problems.found == {}  # the blue back view is TS-BLU-S's


def test_hm_articles_find_their_photos_by_padded_id(tmp_path):
    for padded in (True, False):
        folder = tmp_path / str(padded)
        catalogue = FolderCatalogue(folder, write_hm(folder, zero_padded=padded))
        assert catalogue.layout.name == "hm"
        items = _by_id(catalogue)
        assert sorted(items) == ["0108775015", "0108775044", "0110065001", "0179123001"]
        black = items["0108775015"]
        assert black.source.endswith("images/010/0108775015.jpg")
        assert black.group == items["0108775044"].group != items["0110065001"].group
        assert black.title == "Strap top"
        assert black.attributes["index_group_name"] == "Ladieswear"
        assert black.attributes["colour_group_name"] == "Black"
        assert not {"product_type_no", "department_no", "detail_desc"} & set(black.attributes)


def test_the_split_keeps_a_products_colourways_together(tmp_path):
    catalogue = FolderCatalogue(tmp_path, write_shopify(tmp_path))
    sides = [{i.id for i in split(catalogue, part).items} for part in ("train", "test")]
    for side in sides:
        hoodies = {"HD-BLK-S", "HD-GRY-S"} & side
        assert hoodies in (set(), {"HD-BLK-S", "HD-GRY-S"})
    assert sides[0] | sides[1] == set(_by_id(catalogue))


def test_recognise_names_each_layout(tmp_path):
    writers = {
        "shopify": write_shopify,
        "woocommerce": write_woocommerce,
        "magento": write_magento,
        "merchant": write_merchant_tsv,
        "hm": write_hm,
    }
    for name, write in writers.items():
        table = read_metadata(write(tmp_path / name))
        assert recognise(table.columns).name == name
        assert read_products(table, recognise(table.columns)).rows
    assert recognise(["id", "gender", "articleType", "productDisplayName"]).name == "kaggle-styles"
    assert recognise(["file", "color"]).name == "plain"


def test_group_kept_in_the_item_json_and_the_ref_with_images(tmp_path):
    metadata = write_magento(tmp_path)
    media = tmp_path / "media" / "catalog" / "product"
    ref = CatalogueRef.parse(metadata.parent, metadata, images=media)
    catalogue = ref.open()
    item = catalogue.items[0]
    assert json.loads(json.dumps(item.to_json()))["group"] == "MH01"
    assert CatalogueRef.of(catalogue).images == str(media.resolve())
    assert CatalogueRef.from_name(catalogue.name).images == str(media.resolve())
    assert f"--images {media.resolve()}" in CatalogueRef.of(catalogue).command_line()
    assert "group" not in FolderCatalogue(tmp_path / "media").items[0].to_json()


@pytest.mark.usefixtures("restore_logging")
def test_catalogue_inspect_names_the_layout_and_the_colourways(tmp_path, capsys):
    from ui.cli import main

    metadata = write_magento(tmp_path)
    media = tmp_path / "media" / "catalog" / "product"
    args = ["catalogue", "inspect", str(metadata.parent), "--metadata", str(metadata)]
    assert main([*args, "--images", str(media), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["layout"] == "Magento 2 catalog product import/export CSV"
    assert (report["products"], report["colourways"], report["variants collapsed"]) == (2, 3, 1)
    assert report["items"] == 3 and report["images"] == str(media)
    assert report["attributes"]["price"]["kind"] == "numeric"
    assert main([*args, "--images", str(media)]) == 0
    text = capsys.readouterr().out
    assert "layout: Magento 2 catalog product import/export CSV" in text
    assert "2 products in 3 colourways (1 variant rows" in text
    assert main([*args, "--images", str(tmp_path / "nowhere")]) == 2
    assert "image folder" in capsys.readouterr().err


@pytest.mark.usefixtures("restore_logging")
def test_catalogue_inspect_names_the_styles_layout(tmp_path, capsys):
    from catalogue_fixtures import write_styles_shop

    from ui.cli import main

    folder = write_styles_shop(tmp_path)
    assert main(["catalogue", "inspect", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["layout"] == "Kaggle fashion-products styles.csv"
    assert "colourways" not in report and report["items"] == 30


def test_results_show_a_product_colour_once():
    from agent.search import one_per_colourway
    from retrieval.catalogues import Item
    from retrieval.index import Hit

    items = [
        Item("a1", {"color": "Black", "size": "S"}, group="A"),
        Item("a2", {"color": "Black", "size": "M"}, group="A"),  # another photo, same colour
        Item("a3", {"color": "Grey"}, group="A"),
        Item("b1", {"color": "Black"}),
        Item("b2", {"color": "Black"}),
    ]
    hits = [Hit(item, 1.0 - i / 10, i) for i, item in enumerate(items)]
    kept = [h.item.id for h in one_per_colourway(hits, ["color"])]
    assert kept == ["a1", "a3", "b1", "b2"]
    assert [h.item.id for h in one_per_colourway(hits, [])] == ["a1", "a2", "a3", "b1", "b2"]


SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "fashion-products"


@pytest.mark.skipif(not (SHARED / "styles.csv").is_file(), reason="fashion-products absent")
def test_fashion_products_still_read_as_their_styles_csv():
    catalogue = FolderCatalogue(SHARED)
    assert catalogue.layout.name == "kaggle-styles"
    assert len(catalogue) == 8383 and catalogue.schema.kind == "articleType"
    assert catalogue.schema.title_column == "productDisplayName"
    assert not any(item.group for item in catalogue.items)
    assert "group" not in catalogue.items[0].to_json()  # fingerprints as before


def test_an_exports_index_keeps_groups_and_prices(tmp_path, tiny_encoder):
    from retrieval.index import SearchIndex
    from retrieval.indexing.local import build_index

    catalogue = FolderCatalogue(tmp_path, write_shopify(tmp_path))
    index = build_index(catalogue, tiny_encoder, progress=False)
    index.save(tmp_path / "idx")
    loaded = SearchIndex.load(tmp_path / "idx", tiny_encoder)
    groups = {item.id: item.group for item in loaded.items}
    assert groups == {"HD-BLK-S": "classic-hoodie", "HD-GRY-S": "classic-hoodie",
                      "LS-1": "linen-shirt", "SD-XS": "summer-dress"}  # fmt: skip
    assert {i.id: i.attributes["price"] for i in loaded.items}["LS-1"] == "45"
    assert {i.id: i.description for i in loaded.items}["LS-1"] == "Breezy linen."
    assert loaded.manifest.catalogue_fingerprint == catalogue.fingerprint()


NEW_SHOPIFY_NAMES = {  # the column names of Shopify's newer product CSV
    "Handle": "URL handle",
    "Body (HTML)": "Description",
    "Option1 Name": "Option1 name",
    "Option1 Value": "Option1 value",
    "Option2 Name": "Option2 name",
    "Option2 Value": "Option2 value",
    "Variant SKU": "SKU",
    "Variant Price": "Price",
    "Image Src": "Product image URL",
    "Image Position": "Image position",
    "Variant Image": "Variant image URL",
}


def test_shopify_newer_column_names_read_alike(tmp_path):
    old = FolderCatalogue(tmp_path / "old", write_shopify(tmp_path / "old"))
    metadata = write_shopify(tmp_path / "new")
    header, _, rest = metadata.read_text(encoding="utf-8").partition("\n")
    renamed = [NEW_SHOPIFY_NAMES.get(c, c) for c in header.split(",")]
    metadata.write_text(",".join(f'"{c}"' for c in renamed) + "\n" + rest, encoding="utf-8")
    new = FolderCatalogue(tmp_path / "new", metadata)
    assert new.layout.name == "shopify"
    assert [(i.id, i.group, i.attributes) for i in new.items] == [
        (i.id, i.group, i.attributes) for i in old.items
    ]


def test_a_plain_files_prices_become_numbers(tmp_path):
    from shop_exports import photo

    for name in ("a", "b", "c"):
        photo(tmp_path / f"{name}.jpg")
    (tmp_path / "metadata.csv").write_text(
        'id,color,price\na,red,"$1,299.00"\nb,blue,$15.50\nc,red,\n', encoding="utf-8"
    )
    catalogue = FolderCatalogue(tmp_path)
    assert catalogue.layout.name == "plain"
    assert [i.attributes.get("price") for i in catalogue.items] == ["1299", "15.5", None]
    assert catalogue.schema.attributes["price"].kind == "numeric"
    assert catalogue.schema.attributes["price"].label == "Price (USD)"
    (tmp_path / "metadata.csv").write_text("id,price\na,cheap\nb,12\nc,\n", encoding="utf-8")
    assert FolderCatalogue(tmp_path).items[0].attributes["price"] == "cheap"  # left as written


def test_a_broken_feed_is_one_line(tmp_path):
    (tmp_path / "feed.xml").write_text("<rss><channel><item><g:id>1</g:id>", encoding="utf-8")
    with pytest.raises(ValueError, match=r"feed.xml is not well-formed XML .*export the feed"):
        FolderCatalogue(tmp_path)


def test_other_colours_are_the_shops_own_colourways_first(tmp_path, tiny_encoder):
    from agent.agent import Agent, AgentConfig, TurnError
    from retrieval.indexing.gallery import Gallery
    from retrieval.indexing.local import build_index

    catalogue = FolderCatalogue(tmp_path, write_shopify(tmp_path))
    index = build_index(catalogue, tiny_encoder, progress=False)
    agent = Agent(Gallery.in_memory(tiny_encoder, index), composer="sum", config=AgentConfig(k=10))
    state, results = agent.other_colours(agent.new_state(), "HD-BLK-S")
    assert [r.id for r in results] == ["HD-GRY-S"]  # no instance index needed
    assert state.reference.item_id == "HD-BLK-S"
    with pytest.raises(TurnError, match="instance index"):
        agent.other_colours(agent.new_state(), "LS-1")  # a product in one colour only


def test_a_plain_file_finds_photos_by_url_and_leading_slash(tmp_path):
    from shop_exports import photo

    for rel in ("photos/a.jpg", "photos/b.jpg", "c.jpg"):
        photo(tmp_path / rel)
    (tmp_path / "metadata.csv").write_text(
        "sku,image_url,color\n"
        "A1,https://cdn.example/files/a.jpg?v=2,red\n"
        "B1,/photos/b.jpg,blue\n"
        "C1,,green\n"
        "D1,https://cdn.example/files/d.jpg,red\n",
        encoding="utf-8",
    )
    catalogue = FolderCatalogue(tmp_path)
    assert catalogue.layout.name == "plain" and catalogue.schema.file_column == "image_url"
    assert {i.id: _photo(i) for i in catalogue.items} == {"A1": "a.jpg", "B1": "b.jpg"}
    assert catalogue.problems.count("rows without an image skipped") == 2
    assert "image_url" not in catalogue.schema.attributes


def test_an_exports_price_is_kept_when_every_item_costs_the_same(tmp_path):
    metadata = write_woocommerce(tmp_path)
    metadata.write_text(metadata.read_text().replace(",18,", ",42,"), encoding="utf-8")
    catalogue = FolderCatalogue(tmp_path, metadata)
    assert {i.attributes["price"] for i in catalogue.items} == {"35", "42"}
    metadata.write_text(metadata.read_text().replace(",35,", ",,"), encoding="utf-8")
    catalogue = FolderCatalogue(tmp_path, metadata)
    assert {i.attributes["price"] for i in catalogue.items} == {"42"}
    assert catalogue.schema.attributes["price"].kind == "numeric"


def test_a_magento_export_of_one_store_view_reads_whole(tmp_path):
    metadata = write_magento(tmp_path)
    lines = metadata.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [line for line in lines[1:] if ",fr," not in line]  # the French row out
    at = header.index("store_view_code")
    views = [",".join([*r.split(",")[:at], "default", *r.split(",")[at + 1 :]]) for r in rows]
    metadata.write_text("\n".join([lines[0], *views]) + "\n", encoding="utf-8")
    media = tmp_path / "media" / "catalog" / "product"
    catalogue = FolderCatalogue(metadata.parent, metadata, images=media)
    assert sorted(_by_id(catalogue)) == ["MH01-XS-Black", "MH01-XS-Gray", "WS03"]
