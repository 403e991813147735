"""The learning log: learnings linked to experiments, and full-text search over everything."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from growthlab.db import audit, now, transaction, update_versioned
from growthlab.errors import InputError

STATUSES = ("emerging", "supported", "confirmed", "rejected")
RELATIONS = ("supports", "contradicts")
_MARK_START, _MARK_END = "\x02", "\x03"
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[\w][\w'-]*\*?", re.UNICODE)
_MARKDOWN_NOISE = re.compile(r"\*\*|__|`+|^#+\s*|^>\s*", re.MULTILINE)


def parse_tags(tags) -> list[str]:
    """Tags as stored: lower case, sorted, unique; from a list or comma-separated text."""
    if isinstance(tags, str):
        tags = tags.split(",")
    return sorted({t.strip().lower() for t in tags or [] if t and t.strip()})


def create(db, *, title: str, body: str, tags=(), status: str = "emerging", author: str = "",
           experiments: list[tuple[int, str]] = (), created_at: str | None = None) -> int:
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise InputError("is empty; a learning needs a title someone can scan", field="title")
    if not body:
        raise InputError("is empty; say what was learned and what the data showed", field="body")
    if status not in STATUSES:
        raise InputError(f"must be one of {', '.join(STATUSES)}", field="status")
    stamp = created_at or now()
    with transaction(db):
        row_id = db["learnings"].insert({
            "title": title, "body": body, "tags": json.dumps(parse_tags(tags)), "status": status,
            "author": author, "created_at": stamp, "updated_at": stamp}).last_pk
        audit(db, author, "create", "learning", row_id, {"title": title})
        for experiment_id, relation in experiments:
            link(db, row_id, experiment_id, relation, actor=author)
    return row_id


def link(db, learning_id: int, experiment_id: int, relation: str, *,
         actor: str = "local") -> None:
    """Record that an experiment supports or contradicts a learning (replacing any earlier)."""
    if relation not in RELATIONS:
        raise InputError(f"must be one of {', '.join(RELATIONS)}", field="relation")
    with transaction(db):
        db["learning_experiments"].insert({"learning_id": learning_id,
                                           "experiment_id": experiment_id,
                                           "relation": relation}, replace=True)
        audit(db, actor, "link", "learning", learning_id,
              {"experiment_id": experiment_id, "relation": relation})


def update(db, learning_id: int, version: int, changes: dict, *, actor: str = "local") -> dict:
    if "status" in changes and changes["status"] not in STATUSES:
        raise InputError(f"must be one of {', '.join(STATUSES)}", field="status")
    if "tags" in changes:
        changes = {**changes, "tags": json.dumps(parse_tags(changes["tags"]))}
    for name in ("title", "body"):
        if name in changes and not (changes[name] or "").strip():
            raise InputError("is empty", field=name)
    return update_versioned(db, "learnings", learning_id, version, changes, actor=actor,
                            entity="learning")


def get(db, learning_id: int) -> dict:
    row = next(db.query("SELECT * FROM learnings WHERE id = ?", [learning_id]), None)
    if row is None:
        raise InputError(f"learning {learning_id} does not exist", field="learning")
    row["tags"] = json.loads(row["tags"])
    row["experiments"] = list(db.query(
        "SELECT e.id, e.key, e.title, e.status, e.result, le.relation FROM learning_experiments "
        "le JOIN experiments e ON e.id = le.experiment_id WHERE le.learning_id = ? "
        "ORDER BY e.id", [learning_id]))
    return row


STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "help", "in", "is", "it",
    "measured", "of", "on", "or", "that", "the", "their", "them", "they", "this", "to", "we",
    "believe", "will", "with"))


def fts_query(text: str, prefix_last: bool = True, any_word: bool = False) -> str:
    """Turn what a person typed into a safe FTS5 query: every term quoted, phrases kept.

    The last word is searched as a prefix so results appear while typing. With `any_word`
    (for "similar past work"), common words are dropped and the rest are OR-ed.
    """
    phrases = [p.strip() for p in _PHRASE.findall(text) if p.strip()]
    rest = _PHRASE.sub(" ", text)
    if rest.count('"'):
        rest = rest.replace('"', " ")
    words = _WORD.findall(rest)
    terms = [f'"{p.replace(chr(34), "")}"' for p in phrases]
    for i, word in enumerate(words):
        star = word.endswith("*") or (prefix_last and i == len(words) - 1
                                      and not text.rstrip().endswith('"') and len(word) >= 2
                                      and not text.endswith(" "))
        word = word.rstrip("*")
        if word.upper() in ("AND", "OR", "NOT", "NEAR") or not word:
            continue
        if any_word and word.lower() in STOPWORDS:
            continue
        terms.append(f'"{word}"' + ("*" if star and not any_word else ""))
    return (" OR " if any_word else " ").join(dict.fromkeys(terms))


@dataclass
class Hit:
    kind: str
    id: int
    title: str
    snippet: str
    score: float
    tags: list[str]
    facets: dict[str, str | None] = field(default_factory=dict)
    raw_snippet: str = ""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "title": self.title, "snippet": self.snippet,
                "score": self.score, "tags": self.tags}

    @property
    def snippet_html(self) -> str:
        """The snippet escaped for HTML, matches in <mark>."""
        return html.escape(self.raw_snippet).replace(_MARK_START, "<mark>").replace(
            _MARK_END, "</mark>")


def search(db, query: str, *, kind: str | None = None, limit: int = 20,
           facets: dict[str, list[str]] | None = None, any_word: bool = False) -> list[Hit]:
    """bm25-ranked hits over learnings, experiments and research (interview notes, coded
    passages, kept jobs); any text is safe to pass."""
    match = fts_query(query or "", any_word=any_word)
    if not match:
        return []
    # Rank first, then build snippets for the top rows only (snippet() is costly).
    rows = list(db.query(
        "WITH top AS (SELECT rowid AS id, bm25(search_index, 0, 0, 10.0, 1.0, 4.0) AS rank "
        "FROM search_index WHERE search_index MATCH ? AND (? IS NULL OR kind = ?) "
        "ORDER BY rank LIMIT ?) "
        "SELECT kind, ref_id, "
        f"snippet(search_index, 3, '{_MARK_START}', '{_MARK_END}', ' … ', 14) AS snip, "
        "top.rank FROM search_index JOIN top ON search_index.rowid = top.id "
        "WHERE search_index MATCH ? ORDER BY top.rank",
        [match, kind, kind, max(limit, 1) * (5 if facets else 1), match]))
    hits = _hydrate(db, rows)
    if facets:
        hits = [h for h in hits if all(_facet_matches(h, name, wanted)
                                       for name, wanted in facets.items())]
    return hits[:limit]


def _facet_matches(hit: Hit, name: str, wanted: list[str]) -> bool:
    if not wanted:
        return True
    if name == "tag":
        return any(t in wanted for t in hit.tags)
    return hit.facets.get(name) in wanted


def _hydrate(db, rows: list[dict]) -> list[Hit]:
    from growthlab import research  # only when hits are shown: keeps `growthlab` quick to start

    learning_ids = [r["ref_id"] for r in rows if r["kind"] == "learning"]
    experiment_ids = [r["ref_id"] for r in rows if r["kind"] == "experiment"]
    learning_meta = {r["id"]: r for r in _in_query(
        db, "SELECT id, title, tags, status FROM learnings WHERE id IN ({})", learning_ids)}
    experiment_meta = {r["id"]: r for r in _in_query(
        db, "SELECT e.id, e.key, e.title, e.status, e.result, e.milestone_key, "
            "l.name AS loop, pa.name AS area, s.name AS squad FROM experiments e "
            "LEFT JOIN loops l ON l.id = e.loop_id LEFT JOIN product_areas pa "
            "ON pa.id = e.product_area_id LEFT JOIN squads s ON s.id = e.squad_id "
            "WHERE e.id IN ({})", experiment_ids)}
    research_meta = research.search_meta(db, rows)
    hits = []
    for r in rows:
        if r["kind"] in research.SEARCH_KINDS:
            if (r["kind"], r["ref_id"]) not in research_meta:
                continue
            title, tags, facet = research_meta[(r["kind"], r["ref_id"])]
        elif r["kind"] == "learning":
            meta = learning_meta.get(r["ref_id"])
            if not meta:
                continue
            tags = json.loads(meta["tags"])
            title = meta["title"]
            facet = {"status": meta["status"]}
        else:
            meta = experiment_meta.get(r["ref_id"])
            if not meta:
                continue
            title = f"{meta['key']} {meta['title']}"
            facet = {"status": meta["status"], "stage": meta["milestone_key"],
                     "loop": meta["loop"], "area": meta["area"], "squad": meta["squad"],
                     "result": meta["result"]}
            tags = [t for t in (meta["milestone_key"], meta["loop"], meta["area"],
                                meta["squad"], meta["result"]) if t]
        raw = _MARKDOWN_NOISE.sub("", r["snip"] or "")  # a snippet reads as plain text
        plain = raw.replace(_MARK_START, "**").replace(_MARK_END, "**")
        hits.append(Hit(r["kind"], r["ref_id"], title, plain, round(-float(r["rank"]), 6), tags,
                        facet, raw))
    return hits


def _in_query(db, sql: str, ids: list[int]):
    if not ids:
        return []
    return db.query(sql.format(",".join("?" for _ in ids)), ids)


def facet_counts(hits: list[Hit]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for h in hits:
        for name, value in h.facets.items():
            if value and isinstance(value, str):
                counts.setdefault(name, {}).setdefault(value, 0)
                counts[name][value] += 1
    return counts


def listing(db) -> list[dict]:
    """Every learning, newest first, tags decoded."""
    rows = list(db.query("SELECT * FROM learnings ORDER BY created_at DESC, id DESC"))
    for r in rows:
        r["tags"] = json.loads(r["tags"])
    return rows


def render_markdown(body: str) -> str:
    """Markdown to HTML that cannot run script: tags whitelisted, only http(s)/mailto links."""
    import nh3
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": False}).enable("table").render(body or "")
    return nh3.clean(rendered, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")


SAFE_SCHEMES = ("http", "https", "mailto")
_CODE = re.compile(r"(```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`)", re.DOTALL)
_ACTIVE_ELEMENT = re.compile(r"<(script|style|iframe|object|embed|template)\b.*?(?:</\1\s*>|$)",
                             re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<!--.*?(?:-->|$)|<[/!?]?[A-Za-z][^>]*>", re.DOTALL)
_SAFE_AUTOLINK = re.compile(r"<(?:https?|mailto):[^\s<>]*>", re.IGNORECASE)
_OPEN_ANGLE = re.compile(r"<(?!(?:https?|mailto):[^\s<>]*>)", re.IGNORECASE)
_LINK_START = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)>?.*$", re.MULTILINE)
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~:$])")


def safe_url(url: str) -> bool:
    """A link target a browser will not run: relative, or http(s)/mailto once decoded."""
    plain = "".join(ch for ch in html.unescape(url) if ch.isprintable() and not ch.isspace())
    scheme = _SCHEME.match(plain)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


def _drop_unsafe_links(text: str) -> str:
    out, pos = [], 0
    for m in _LINK_START.finditer(text):
        if m.start() < pos:
            continue
        depth, end = 1, m.end()
        while end < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        target = text[m.end():end - 1].strip().split(maxsplit=1)
        if target and not safe_url(target[0].strip("<>")):
            out.append(text[pos:m.start()] + m.group(1))
            pos = end
    return "".join(out) + text[pos:]


def _strip_tags(text: str) -> str:
    text = _ACTIVE_ELEMENT.sub("", text)
    return _TAG.sub(lambda m: m.group() if _SAFE_AUTOLINK.fullmatch(m.group()) else "", text)


def sanitise_markdown(body: str) -> str:
    """Markdown that no viewer can turn into script: raw HTML removed, links other than
    http(s)/mailto reduced to their text.

    Tags are stripped outside what looks like code; then, since a viewer may not agree on
    where code starts, every `<` but a web autolink's is escaped, so no tag can open."""
    parts = _CODE.split(body or "")
    text = "".join(part if i % 2 else _strip_tags(part) for i, part in enumerate(parts))
    text = _REFERENCE.sub(lambda m: m.group() if safe_url(m.group(1)) else "", text)
    return _OPEN_ANGLE.sub("&lt;", _drop_unsafe_links(text))


def escape_markdown(text: str) -> str:
    """Plain text (a title, a tag) that Markdown shows as typed: no links, no markup."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def to_markdown(rows: list[dict]) -> str:
    """The learning log as Markdown, in the sanitised form the app shows."""
    parts = ["# Learning log\n"]
    for r in rows:
        tags = escape_markdown(", ".join(r["tags"]) or "none")
        parts.append(f"## {escape_markdown(r['title'])}\n\n*Status: {r['status']} · tags: "
                     f"{tags} · {r['created_at'][:10]} · "
                     f"{escape_markdown(r['author'] or 'unknown')}*\n\n"
                     f"{sanitise_markdown(r['body'])}\n")
    return "\n".join(parts)
