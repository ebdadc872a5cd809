"""Academemes over HTTP, on one server started on an empty data folder (it seeds itself first):
the home page and a meme page as memo hits and misses, an image, votes at 1 and at 64
connections (the group-commit goal), the RSS through seeding and these runs, and the bytes a
home-page view fetches."""

from __future__ import annotations

import re

from paths import LUA
from procfs import RssSampler
from scenarios.throughput import Hooks, Scenario, run_group
from servers import log, request

HOME_HIT = "academemes home / (memo hit)"
HOME_MISS = "academemes home / (memo miss)"
VOTE_1 = "academemes vote, 1 connection"
VOTE_64 = "academemes vote, 64 connections"

SCENARIOS = [
    Scenario(HOME_HIT, "GET", "/"),
    Scenario(HOME_MISS, "GET", "/", LUA / "nonce.lua"),
    Scenario("academemes meme page (memo hit)", "GET", "/memes/{id}"),
    Scenario("academemes meme page (memo miss)", "GET", "/memes/{id}", LUA / "nonce.lua"),
    Scenario("academemes image", "GET", "/memes/{id}/image"),
    Scenario(VOTE_1, "POST", "/api/memes/{id}/vote", LUA / "post.lua", connections=1),
    Scenario(VOTE_64, "POST", "/api/memes/{id}/vote", LUA / "post.lua", connections=64),
]


class Memory(Hooks):
    def __init__(self, h):
        self.h = h
        self.sampler: RssSampler | None = None

    def started(self, server) -> None:
        self.sampler = RssSampler(server.pid).start()

    def ready(self, server) -> None:
        self.sampler.mark("seeding")
        self.h.meme_id = self.h.meme_id or self.h.first_meme(server.port)
        self.h.results["home_bytes"] = home_page_bytes(server.port)

    def done(self, server) -> None:
        self.sampler.mark("throughput")
        self.sampler.stop()
        self.h.results["academemes_rss"].update(self.sampler.marks)


def home_page_bytes(port: int) -> dict:
    """The bytes one view of `/` fetches: the HTML, and each image it shows (`src`, what a
    browser without `srcset` support fetches; and with `srcset`, its smallest candidate)."""
    status, _, html = request(port, "GET", "/", timeout=30)
    text = html.decode(errors="replace")
    images = re.findall(r"<img\b[^>]*>", text)
    src_bytes, chosen_bytes, with_srcset = 0, 0, 0
    for tag in images:
        m = re.search(r'\bsrc="([^"]+)"', tag)
        if not m or not m.group(1).startswith("/"):
            continue
        size = len(request(port, "GET", m.group(1).replace("&amp;", "&"), timeout=30)[2])
        src_bytes += size
        srcset = re.search(r'\bsrcset="([^"]+)"', tag)
        if srcset:
            with_srcset += 1
            urls = [c.strip().split()[0] for c in srcset.group(1).split(",") if c.strip()]
            sizes = [len(request(port, "GET", u.replace("&amp;", "&"), timeout=30)[2]) for u in urls if u.startswith("/")]
            chosen_bytes += min(sizes + [size])
        else:
            chosen_bytes += size
    row = {
        "status": status,
        "html_bytes": len(html),
        "images": len(images),
        "images_with_srcset": with_srcset,
        "bytes_src": len(html) + src_bytes,
        "bytes_smallest": len(html) + chosen_bytes,
    }
    log(f"  home page view: {row}")
    return row


def run(h) -> None:
    if not h.academemes_ready():
        return
    run_group(h, "academemes", SCENARIOS, ready_path="/", ready_timeout=300, hooks=Memory(h))
