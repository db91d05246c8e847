"""A made-up shop in H&M's articles.csv layout (the Kaggle "H&M Personalized Fashion
Recommendations" data card): numeric codes beside every named column, a department in
`index_group_name`, a pattern in `graphical_appearance_name`, three colour columns."""

from __future__ import annotations

ARTICLES_COLUMNS = [
    "article_id", "product_code", "prod_name", "product_type_no", "product_type_name",
    "product_group_name", "graphical_appearance_no", "graphical_appearance_name",
    "colour_group_code", "colour_group_name", "perceived_colour_value_id",
    "perceived_colour_value_name", "perceived_colour_master_id", "perceived_colour_master_name",
    "department_no", "department_name", "index_code", "index_name", "index_group_no",
    "index_group_name", "section_no", "section_name", "garment_group_no", "garment_group_name",
    "detail_desc",
]  # fmt: skip
# (product type, product group, appearance, index, index group, section, garment group, dept)
PRODUCTS = [
    ("Trousers", "Garment Lower body", "Solid", "Ladieswear", "Ladieswear", "Womens Everyday Collection", "Trousers", "Trousers"),
    ("Trousers", "Garment Lower body", "Denim", "Menswear", "Menswear", "Mens Denim", "Trousers Denim", "Denim Men"),
    ("Sweater", "Garment Upper body", "Melange", "Menswear", "Menswear", "Mens Knitwear", "Knitwear", "Knitwear"),
    ("Sweater", "Garment Upper body", "Stripe", "Ladieswear", "Ladieswear", "Womens Tailoring", "Knitwear", "Knitwear"),
    ("T-shirt", "Garment Upper body", "Solid", "Divided", "Divided", "Divided Basics", "Jersey Basic", "Jersey Basic"),
    ("T-shirt", "Garment Upper body", "Front print", "Children Sizes 92-140", "Baby/Children", "Kids Boy", "Jersey Fancy", "Kids Boy"),
    ("Dress", "Garment Full body", "All over pattern", "Ladieswear", "Ladieswear", "Womens Everyday Collection", "Dresses Ladies", "Dresses"),
    ("Dress", "Garment Full body", "Dot", "Children Sizes 92-140", "Baby/Children", "Kids Girl", "Dresses/Skirts girls", "Kids Girl"),
    ("Shirt", "Garment Upper body", "Check", "Menswear", "Menswear", "Mens Shirts", "Shirts", "Shirt"),
    ("Shirt", "Garment Upper body", "Stripe", "Menswear", "Menswear", "Mens Shirts", "Shirts", "Shirt"),
    ("Jacket", "Garment Upper body", "Denim", "Divided", "Divided", "Divided Collection", "Outdoor", "Outdoor"),
    ("Hoodie", "Garment Upper body", "Solid", "Sport", "Sport", "Ladies H&M Sport", "Jersey Fancy", "Sport"),
    ("Leggings/Tights", "Garment Lower body", "Solid", "Sport", "Sport", "Mens H&M Sport", "Jersey Fancy", "Sport"),
    ("Sneakers", "Shoes", "Solid", "Menswear", "Menswear", "Men Shoes", "Shoes", "Men Shoes"),
    ("Bag", "Accessories", "Other pattern", "Ladies Accessories", "Ladieswear", "Womens Big accessories", "Accessories", "Bags"),
    ("Skirt", "Garment Lower body", "Check", "Ladieswear", "Ladieswear", "Womens Tailoring", "Skirts", "Dresses"),
    ("Bodysuit", "Garment Full body", "Stripe", "Baby Sizes 50-98", "Baby/Children", "Baby Essentials & Complements", "Jersey Basic", "Jersey Basic"),
    ("Blouse", "Garment Upper body", "Embroidery", "Ladieswear", "Ladieswear", "Womens Casual", "Blouses", "Blouses"),
]  # fmt: skip
# (colour group, perceived value, perceived master): the colourways each product comes in
COLOURWAYS = [
    ("Black", "Dark", "Black"),
    ("Dark Blue", "Dark", "Blue"),
    ("Light Blue", "Light", "Blue"),
    ("White", "Light", "White"),
    ("Off White", "Dusty Light", "White"),
    ("Light Pink", "Dusty Light", "Pink"),
    ("Dark Green", "Medium Dusty", "Green"),
    ("Red", "Bright", "Red"),
    ("Dark Grey", "Medium Dusty", "Grey"),
    ("Beige", "Dusty Light", "Beige"),
    ("Other", "Undefined", "Unknown"),
]


def article_rows(colourways_per_product: int = 4) -> list[dict[str, str]]:
    """Rows of every product in a few colourways each, with H&M's codes for every value."""
    rows = []
    for p, product in enumerate(PRODUCTS):
        ptype, group, look, index, index_group, section, garment_group, dept = product
        for c in range(colourways_per_product):
            colour, value, master = COLOURWAYS[(p * 3 + c * 5) % len(COLOURWAYS)]
            product_code = 108775 + p * 1731
            code = lambda name, table: str(1 + sorted(set(table)).index(name))  # noqa: E731
            rows.append(
                {
                    "article_id": f"0{product_code}{c + 1:03d}",
                    "product_code": f"0{product_code}",
                    "prod_name": f"{look} {ptype} {p}",
                    "product_type_no": str(250 + [t[0] for t in PRODUCTS].index(ptype)),
                    "product_type_name": ptype,
                    "product_group_name": group,
                    "graphical_appearance_no": str(1010000 + [t[2] for t in PRODUCTS].index(look)),
                    "graphical_appearance_name": look,
                    "colour_group_code": code(colour, [w[0] for w in COLOURWAYS]),
                    "colour_group_name": colour,
                    "perceived_colour_value_id": code(value, [w[1] for w in COLOURWAYS]),
                    "perceived_colour_value_name": value,
                    "perceived_colour_master_id": code(master, [w[2] for w in COLOURWAYS]),
                    "perceived_colour_master_name": master,
                    "department_no": str(1000 + 17 * [t[7] for t in PRODUCTS].index(dept)),
                    "department_name": dept,
                    "index_code": "ABCDEFGHIJ"[[t[3] for t in PRODUCTS].index(index) % 10],
                    "index_name": index,
                    "index_group_no": code(index_group, [t[4] for t in PRODUCTS]),
                    "index_group_name": index_group,
                    "section_no": str(10 + [t[5] for t in PRODUCTS].index(section)),
                    "section_name": section,
                    "garment_group_no": str(1001 + [t[6] for t in PRODUCTS].index(garment_group)),
                    "garment_group_name": garment_group,
                    "detail_desc": f"{look} {ptype.lower()} in {colour.lower()} woven fabric "
                    f"with a regular fit, number {p}-{c}.",
                }
            )
    return rows


def renamed(rows: list[dict[str, str]]) -> tuple[list[str], list[dict[str, str]]]:
    """The same rows under opaque column names (col_a, attr1, ...): only values tell."""
    names = {
        c: (f"attr{i}" if i % 2 else f"col_{chr(97 + i // 2)}")
        for i, c in enumerate(ARTICLES_COLUMNS)
    }
    names["article_id"] = "article_id"  # the id column still names itself
    return list(names.values()), [{names[k]: v for k, v in r.items()} for r in rows]
