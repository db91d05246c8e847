"""Held-out shopper phrasings, written blind.

This list was written by a separate author who did not see the project's
retrieval or agent code, its other tests, or any existing phrasing lists.
It is meant as an independent held-out set: vague or unusual ways a real
shopper might ask for ONE change while chatting to refine search results,
each paired with the single intended (attribute, canonical value, polarity).

Catalogue values:
  color:    black, white, grey, red, pink, orange, yellow, green, blue,
            purple, brown, beige
  pattern:  plain, striped, dotted, checked
  category: t-shirt, trousers, pullover, dress, coat, sandal, shirt,
            sneaker, bag, ankle boot
Polarity is "require" or "avoid".
"""

HELD_OUT_BLIND: list[tuple[str, tuple[str, str, str]]] = [
    # --- colour requests (24) ---
    ("more like a fire truck", ("color", "red", "require")),
    ("Could it be the colour of a ripe tomato?", ("color", "red", "require")),
    ("something the colour of fresh snow", ("color", "white", "require")),
    ("like plain printer paper, that shade", ("color", "white", "require")),
    ("can i get it in charcoal?", ("color", "grey", "require")),
    ("elephant-coloured if you have it", ("color", "grey", "require")),
    ("jet, like a crow's feathers", ("color", "black", "require")),
    ("Goth vibes pls. dark as coal.", ("color", "black", "require")),
    ("the colour of a ripe bananna", ("color", "yellow", "require")),
    ("Lemony!!", ("color", "yellow", "require")),
    ("like grass after the rain", ("color", "green", "require")),
    ("emerald tones, please", ("color", "green", "require")),
    ("sky on a clear summer day", ("color", "blue", "require")),
    ("do you have this in navy?", ("color", "blue", "require")),
    ("something lavender-ish", ("color", "purple", "require")),
    ("EGGPLANT shade would be perfect", ("color", "purple", "require")),
    ("chocolate coloured one", ("color", "brown", "require")),
    ("the colour of tree bark", ("color", "brown", "require")),
    ("oatmeal tone, kind of neutral", ("color", "beige", "require")),
    ("sandy, like a beach", ("color", "beige", "require")),
    ("bubblegum shade?", ("color", "pink", "require")),
    ("somthing like a flamingo", ("color", "pink", "require")),
    ("pumkin colour pls", ("color", "orange", "require")),
    ("I'd love it in tangerine", ("color", "orange", "require")),
    # --- pattern requests (10) ---
    ("pinstripes, like a banker", ("pattern", "striped", "require")),
    ("sailor style, lines going across", ("pattern", "striped", "require")),
    ("candy-cane lines would be fun", ("pattern", "striped", "require")),
    ("Polka dots!", ("pattern", "dotted", "require")),
    ("a spotty one maybe", ("pattern", "dotted", "require")),
    ("tartan please, very Scottish", ("pattern", "checked", "require")),
    ("gingham, like a picnic blanket", ("pattern", "checked", "require")),
    ("got any plaid?", ("pattern", "checked", "require")),
    ("just one solid colour, no print on it", ("pattern", "plain", "require")),
    ("keep it simple - no busy patterns", ("pattern", "plain", "require")),
    # --- category requests (8) ---
    ("show me a jumper instead", ("category", "pullover", "require")),
    ("actually I need pants", ("category", "trousers", "require")),
    ("trainers for the gym", ("category", "sneaker", "require")),
    ("just a basic tee", ("category", "t-shirt", "require")),
    ("looking for a tote to carry my laptop", ("category", "bag", "require")),
    ("Chelsea boots?", ("category", "ankle boot", "require")),
    ("a nice frock for a wedding", ("category", "dress", "require")),
    ("I need a parka for winter", ("category", "coat", "require")),
    # --- negative requests (6) ---
    ("anything except green", ("color", "green", "avoid")),
    ("not in black, please", ("color", "black", "avoid")),
    ("lose the stripes", ("pattern", "striped", "avoid")),
    ("anything but tartan, I'm sick of it", ("pattern", "checked", "avoid")),
    ("skip the sandals", ("category", "sandal", "avoid")),
    ("no button-downs", ("category", "shirt", "avoid")),
]
