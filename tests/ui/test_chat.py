"""`circhat chat --json` driven as a script would: one JSON object per line in and out."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from catalogue_fixtures import write_styles_shop

from ui.chat import ChatInputError, parse_line

ROOT = Path(__file__).resolve().parents[2]


def test_lines_parse_into_turns():
    assert parse_line(":pick 2 in red").pick == 2 and parse_line(":pick 2 in red").text == "in red"
    assert parse_line(":pick sku-9").pick == "sku-9"
    assert parse_line('{"text": "blue", "pick": 1}').pick == 1
    assert parse_line(":none").none_of_these and parse_line(":undo").undo
    assert parse_line(":chip 2").chip == 2 and parse_line('{"chip": 1}').chip == 1
    assert parse_line(":colours 3").colours == 3 and parse_line('{"colours": "sku-1"}').colours
    for bad in (":dance", '{"txt": "x"}', "{oops", ":pick", ":chip two", ":colours"):
        with pytest.raises(ChatInputError):
            parse_line(bad)


def _chat(folder: Path, tiny_weights: Path, lines: list[str], home: Path) -> list[dict]:
    command = [sys.executable, "-m", "ui.cli", "-q", "chat", "--json", "--catalogue", str(folder)]
    command += ["--metadata", str(folder / "styles.csv"), "--model", f"fashion-mini:{tiny_weights}"]
    command += ["--composer", "sum"]
    env = {"CIRCHAT_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        command,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.slow
def test_scripted_dialogues_through_chat_json(tmp_path, tiny_weights):
    folder = write_styles_shop(tmp_path / "shop")
    lines = [
        "a navy formal shirt for men",
        '{"text": "in black"}',
        ":pick 1 for women",
        '{"bogus": true}',
        "now show me watches",
        ":undo",
        '{"none_of_these": true}',
        "start over",
        "something casual",
        ":chip 1",
        ":chip 9",
        ":colours 2",
        ":colours 99",
    ]
    out = _chat(folder, tiny_weights, lines, tmp_path / "home")
    assert len(out) == len(lines)
    first, black, picked, bad, watches, undone, rejected, over, casual, chip, no_chip = out[:11]
    colours, no_colours = out[11:]
    assert first["error"] is None and first["new_search"] and first["results"]
    wanted = {
        ("baseColour", "Navy Blue"),
        ("usage", "Formal"),
        ("articleType", "Shirts"),
        ("gender", "Men"),
    }
    assert {(c["attribute"], c["value"]) for c in first["constraints"]} == wanted
    assert all(r["attributes"]["articleType"] == "Shirts" for r in first["results"])
    assert all(r["title"] for r in first["results"])
    assert not black["new_search"] and all(
        r["attributes"]["baseColour"] == "Black" for r in black["results"]
    )
    assert ("gender", "Women") in {(c["attribute"], c["value"]) for c in picked["constraints"]}
    assert bad["error"] and "unknown keys" in bad["error"] and bad["results"] == picked["results"]
    assert watches["new_search"] and "A new search: I let go of" in watches["reply"]
    assert "=" not in " ".join(a["reply"] for a in (first, black, picked, watches))
    assert all(r["attributes"]["articleType"] == "Watches" for r in watches["results"])
    assert undone["constraints"] == picked["constraints"]
    assert rejected["error"] is None and not {r["id"] for r in rejected["results"]} & {
        r["id"] for r in undone["results"]
    }
    assert over["results"] == [] and over["constraints"] == []
    offered = casual["offer"]["chips"]
    assert casual["offer"]["kind"] == "suggestion" and 2 <= len(offered) <= 6
    taken = (offered[0]["attribute"], offered[0]["value"])
    assert taken in {(c["attribute"], c["value"]) for c in chip["constraints"]}
    assert chip["results"] and all(r["attributes"][taken[0]] == taken[1] for r in chip["results"])
    assert chip["reply"].startswith("Narrowed to")
    assert no_chip["error"] and "there is no suggestion 9" in no_chip["error"]
    assert colours["error"] is None and colours["reply"].startswith("Here is the same style")
    source = chip["results"][1]
    assert colours["results"] and source["id"] not in {r["id"] for r in colours["results"]}
    kinds = [r["attributes"]["articleType"] for r in colours["results"]]
    assert kinds[0] == source["attributes"]["articleType"]  # its kind first
    assert no_colours["error"] and "there is no result 99" in no_colours["error"]
