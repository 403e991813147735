"""The learning log: learnings linked to experiments, and full-text search over everything."""

from __future__ import annotations

import functools
import html
import itertools
import json
import re
from dataclasses import dataclass, field, replace

from growthlab.db import audit, now, transaction, update_versioned
from growthlab.errors import InputError

STATUSES = ("emerging", "supported", "confirmed", "rejected")
RELATIONS = ("supports", "contradicts")
_MARK_START, _MARK_END = "\x02", "\x03"
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[\w][\w'-]*\*?", re.UNICODE)


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
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "but", "by", "can", "could", "did", "do", "does", "doing", "don't", "dont", "for", "from",
    "get", "got", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me",
    "more", "most", "my", "no", "not", "of", "on", "or", "our", "should", "so", "some", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "us",
    "was", "we", "were", "what", "when", "where", "which", "who", "why", "with", "would", "you",
    "your"))
# Contractions are stop-words as the words they shorten are ("not", "do", "is").
CONTRACTIONS = frozenset(
    f"{head}{tail}" for words, tail in (
        (("aren", "couldn", "didn", "doesn", "don", "hadn", "hasn", "haven", "isn", "mightn",
          "mustn", "needn", "shouldn", "wasn", "weren", "won", "wouldn", "ain", "can"), "'t"),
        (("i", "we", "you", "they"), "'ve"), (("i", "we", "you", "they", "it", "he", "she"),
                                              "'d"),
        (("i", "we", "you", "they", "it", "he", "she", "that"), "'ll"),
        (("we", "you", "they", "what", "who"), "'re"), (("i",), "'m"),
        (("it", "that", "what", "there", "here", "who", "let", "he", "she"), "'s"))
    for head in words)
HYPOTHESIS_WORDS = frozenset(("believe", "help", "measured", "will"))
# Abbreviations of the field, kept as typed (never "corrected" into a nearby word: "srm" is
# not "arm") and matching what they stand for, when they stand for words.
FIELD_TERMS = {
    "srm": ("sample ratio mismatch",), "mrr": ("monthly recurring revenue",),
    "arr": ("annual recurring revenue",), "nrr": ("net revenue retention",),
    "ice": ("impact confidence ease",), "rice": ("reach impact confidence effort",),
    "pql": ("product qualified lead",), "pqa": ("product qualified account",),
    "mql": ("marketing qualified lead",), "nps": ("net promoter score",),
    "pmf": ("product market fit",), "ces": ("customer effort score",),
    "csat": ("customer satisfaction",), "cuped": (), "ltv": ("lifetime value",),
    "cac": ("customer acquisition cost",), "arpu": ("average revenue per user",),
    "arpa": ("average revenue per account",), "acv": ("annual contract value",),
    "kpi": ("key performance indicator",), "okr": ("objectives and key results",),
    "jtbd": ("jobs to be done",), "mde": ("minimum detectable effect",),
    "dau": ("daily active users",), "wau": ("weekly active users",),
    "mau": ("monthly active users",), "plg": ("product led growth",),
    "aov": ("average order value",), "gmv": ("gross merchandise value",),
}
# How much a match in each kind of document counts; a kind not listed counts 1.
KIND_WEIGHTS = {"learning": 1.5, "experiment": 1.0}
_COLUMN_WEIGHTS = "0, 0, 10.0, 1.0, 1.0"  # kind, ref_id, title, body, tags
_TEXT_WEIGHTS = "0, 0, 1.0, 1.0, 0"  # a row matching only through its tags ranks last
SNIPPET_TOKENS = 36


@dataclass(frozen=True)
class Term:
    """A word, words typed apart ("check list") or a phrase, and the other forms that count as
    it: joined ("checklist"), split ("e mail") or derived ("retain" for "retention")."""
    text: str
    phrase: bool = False
    prefix: bool = False
    forms: tuple[str, ...] = ()

    @property
    def fts(self) -> str:
        star = "*" if self.prefix else ""
        words = [self.text] if self.phrase else self.text.split()
        typed = " AND ".join(f'"{w}"' for w in words) + star
        if not self.forms:
            return typed
        return f"(({typed}) OR " + " OR ".join(f'"{f}"{star}' for f in self.forms) + ")"


# A phrase's variants with one pair of words joined are tried up to this many words.
JOINED_PHRASE_WORDS = 6


def parse_terms(text: str, prefix_last: bool = True, any_word: bool = False) -> list[Term]:
    """What a person typed as search terms: phrases kept, FTS5 operators and (unless every
    word is one) stop-words dropped. The last word is a prefix so results appear while typing;
    with `any_word` (for "similar past work"), hypothesis boilerplate is dropped too. A
    hyphenated word also matches joined ("set-up", "setup"), a word its derivational relatives
    and a phrase its forms with a hyphenated or split pair joined."""
    text = text.replace("\u2019", "'")  # a typographic apostrophe, as phones type it
    phrases = [p.strip().replace('"', "") for p in _PHRASE.findall(text) if p.strip()]
    rest = _PHRASE.sub(" ", text).replace('"', " ")
    words = _WORD.findall(rest)
    terms = [Term(p, phrase=True, forms=_joined_phrases(p)) for p in phrases]
    for i, word in enumerate(words):
        star = word.endswith("*") or (prefix_last and not any_word and i == len(words) - 1
                                      and not text.rstrip().endswith('"') and len(word) >= 2
                                      and not text.endswith(" "))
        word = word.rstrip("*")
        if word and word.upper() not in ("AND", "OR", "NOT", "NEAR"):
            terms.append(Term(word, prefix=star, forms=_other_forms(word)))
    ignored = STOPWORDS | CONTRACTIONS | (HYPOTHESIS_WORDS if any_word else frozenset())
    kept = [t for t in terms if t.phrase or t.text.lower() not in ignored]
    return list(dict.fromkeys(kept if kept or any_word else terms))


def _other_forms(word: str) -> tuple[str, ...]:
    from growthlab.spelling import relatives

    joined = word.replace("-", "")
    return ((joined,) if joined != word else ()) + relatives(joined) + \
        FIELD_TERMS.get(_field_term(word) or "", ())


def _field_term(word: str) -> str | None:
    """The abbreviation of `FIELD_TERMS` that `word` is ("PQLs" is "pql"), or None."""
    word = word.lower()
    return next((w for w in (word, word.removesuffix("s")) if w in FIELD_TERMS), None)


def _joined_phrases(phrase: str) -> tuple[str, ...]:
    words = phrase.split()
    if len(words) > JOINED_PHRASE_WORDS:
        return ()
    forms = [" ".join(words[:i] + [words[i] + words[i + 1]] + words[i + 2:])
             for i in range(len(words) - 1)]
    unhyphened = " ".join(w.replace("-", "") for w in words)
    return tuple(dict.fromkeys(f for f in [unhyphened, *forms] if f != phrase))


def fts_query(text: str, prefix_last: bool = True, any_word: bool = False) -> str:
    """What a person typed as a safe FTS5 query: every term quoted, AND-ed (OR-ed with
    `any_word`)."""
    terms = parse_terms(text, prefix_last, any_word)
    return (" OR " if any_word else " AND ").join(t.fts for t in terms)


@dataclass
class Hit:
    kind: str
    id: int
    title: str
    snippet: str
    score: float
    tags: list[str]
    facets: dict[str, str | tuple[str, ...] | None] = field(default_factory=dict)
    raw_snippet: str = ""
    matched_tags: list[str] = field(default_factory=list)  # set when only tags matched
    created: str = ""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "title": self.title, "snippet": self.snippet,
                "score": self.score, "tags": self.tags}

    @property
    def snippet_html(self) -> str:
        """The snippet's Markdown rendered inline and sanitised, matches in <mark>."""
        return snippet_html(self.raw_snippet)

    @property
    def tags_html(self) -> str:
        """The tags as chips, and which matched when only tags did."""
        if not self.matched_tags:
            return tags_html(self.tags)
        return (f"<span style='font-size:.8rem;opacity:.8'>matched by tag: "
                f"{html.escape(', '.join(self.matched_tags))}</span> {tags_html(self.tags)}")


@dataclass
class Found:
    hits: list[Hit]
    did_you_mean: str | None = None  # the query as searched, when a word was corrected
    matched_all: bool = True  # False when no row held every term, so rows holding any are shown
    has_words: bool = True  # False when the query held only symbols or operators
    okrs: tuple[str, ...] = ()  # with no hits, objectives and key results holding the words

    def as_dict(self) -> dict:
        return {"results": [h.as_dict() for h in self.hits], "did_you_mean": self.did_you_mean,
                "matched_all": self.matched_all}

    @property
    def advice(self) -> str:
        """What to do when nothing is shown."""
        if not self.has_words:
            return ("What you typed has no words to search for, only symbols or operators "
                    "(AND, OR, NOT, NEAR). Type a word (onboarding), a phrase in quotes "
                    "(\"invite loop\") or a word's beginning followed by * (onboard*).")
        advice = "Nothing matches. Try fewer words, or a word's beginning followed by *."
        if not self.okrs:
            return f"{advice} Objectives and key results are not searched here: see the OKRs page."
        return (f"{advice} Objectives and key results are not searched here; on the OKRs page, "
                + ", ".join(f"'{text}'" for text in self.okrs)
                + f" {'holds' if len(self.okrs) == 1 else 'hold'} these words.")


def search(db, query: str, *, kind: str | None = None, limit: int = 20,
           facets: dict[str, list[str]] | None = None, any_word: bool = False) -> list[Hit]:
    """The hits of `find`, best first."""
    return find(db, query, kind=kind, limit=limit, facets=facets, any_word=any_word).hits


def find(db, query: str, *, kind: str | None = None, limit: int = 20,
         facets: dict[str, list[str]] | None = None, any_word: bool = False) -> Found:
    """Ranked hits over every kind of document in the search index; any text is safe to pass.

    Words typed apart also match joined ("check list", "checklist") and a word the index holds
    split also matches ("email", "e-mail"). A word that still finds nothing is replaced by the
    closest word the index holds, unless it is English or inside an operator, and only when
    that finds more (not with `any_word`, which looks for past work like a whole hypothesis).
    Rows holding every term come first; when none does, rows holding any term. Rows matching
    only through their tags rank below rows matching in their title or text; then by bm25,
    weighted by kind (`KIND_WEIGHTS`)."""
    terms = parse_terms(query or "", any_word=any_word)
    if not terms:
        return Found([], has_words=False)
    corrected = None
    if not any_word:
        terms = [_phrase_forms(db, t) if t.phrase else _spelled_apart(db, t)
                 for t in _typed_apart(db, terms)]
        terms, corrected = _correct(db, query, terms)
    fetch = max(limit, 1) * (5 if facets else 1)
    hits = [] if any_word else _ranked(db, terms, " AND ", kind, fetch)
    matched_all = not any_word
    if not hits and (any_word or len(terms) > 1):
        hits = _ranked(db, terms, " OR ", kind, fetch)
        matched_all = matched_all and not hits
    if facets:
        hits = refine(hits, facets)
    return Found(hits[:limit], corrected, matched_all, okrs=() if hits else _okrs_holding(
        db, terms))


# Objectives and key results named in the advice when nothing matches, at most.
OKRS_NAMED = 3
_LIKE_SPECIAL = re.compile(r"([%_\\])")


def _okrs_holding(db, terms: list[Term]) -> tuple[str, ...]:
    """Objectives and key results whose text holds every term as typed (or an abbreviation's
    words): they are not in the search index, so the advice points at them."""
    holds, params = [], []
    for term in terms:
        forms = [term.text, *FIELD_TERMS.get(_field_term(term.text) or "", ())]
        holds.append("(" + " OR ".join(["{0} LIKE ? ESCAPE '\\'"] * len(forms)) + ")")
        params += ["%" + _LIKE_SPECIAL.sub(r"\\\1", f) + "%" for f in forms]
    where = " AND ".join(holds)
    rows = db.execute(f"SELECT statement FROM key_results WHERE {where.format('statement')} "
                      f"UNION ALL SELECT title FROM objectives WHERE {where.format('title')} "
                      "LIMIT ?", [*params, *params, OKRS_NAMED]).fetchall()
    return tuple(r[0] for r in rows)


def _finds(db, match: str) -> bool:
    return db.execute("SELECT 1 FROM search_index WHERE search_index MATCH ? LIMIT 1",
                      [match]).fetchone() is not None


def _typed_apart(db, terms: list[Term]) -> list[Term]:
    """Each pair of words that the index holds joined ("check list") as one term matching
    either way."""
    out: list[Term] = []
    for term in terms:
        last = out[-1] if out else None
        if last and not (last.phrase or term.phrase or last.prefix or last.forms or term.forms
                         or " " in last.text) and _finds(db, Term(last.text + term.text,
                                                                  prefix=term.prefix).fts):
            out[-1] = Term(f"{last.text} {term.text}", prefix=term.prefix,
                           forms=(last.text + term.text,))
        else:
            out.append(term)
    return out


# Longer words are not tried as two: each split costs a lookup, and compounds are shorter.
SPLIT_WORD_LETTERS = 24


def _spelled_apart(db, term: Term) -> Term:
    """A word also matching as two words the index holds side by side ("followup",
    "follow-up"; "email", "e-mail"), the most even split first. A word the index holds is
    tried only where both halves are words it holds, one cheap lookup each."""
    if term.phrase or not _LETTERS.fullmatch(term.text) or \
            not 4 <= len(term.text) <= SPLIT_WORD_LETTERS:
        return term
    held = _finds(db, term.fts)
    if held:
        _term_tables(db)
    middle = len(term.text) / 2
    for i in sorted(range(1, len(term.text)), key=lambda i: abs(i - middle)):
        halves = (term.text[:i].lower(), term.text[i:].lower())
        if held and not all(_holds_term(db, h) for h in halves):
            continue
        split = " ".join(halves)
        if _finds(db, Term(split, phrase=True, prefix=term.prefix).fts):
            return Term(term.text, prefix=term.prefix, forms=(*term.forms, split))
    return term


# A phrase's compounds are each tried joined and split, in at most this many forms.
PHRASE_FORMS = 16


def _phrase_forms(db, term: Term) -> Term:
    """A phrase also matching with each compound in it written the other way: "set-up
    checklist" finds "setup check list". The tokenizer reads a hyphen as a space, so a
    compound is one word ("checklist") or two ("check list", "check-list"); a word is tried
    split as `_spelled_apart` splits it, two words joined where the index holds them so."""
    words = term.text.replace("-", " ").split()
    if len(words) > JOINED_PHRASE_WORDS:
        return term
    units: list[tuple[str, ...]] = []
    i = 0
    while i < len(words):
        pair = words[i] + words[i + 1] if i + 1 < len(words) else ""
        if pair and _LETTERS.fullmatch(pair) and _finds(db, Term(pair).fts):
            units.append((pair, f"{words[i]} {words[i + 1]}"))
            i += 2
            continue
        split = _spelled_apart(db, Term(words[i])).forms
        units.append((words[i], *split))
        i += 1
    forms = [" ".join(choice) for choice in itertools.islice(itertools.product(*units),
                                                              PHRASE_FORMS)]
    found = dict.fromkeys(f for f in [*term.forms, *forms] if f != term.text)
    return replace(term, forms=tuple(found))


def _holds_term(db, word: str) -> bool:
    """Whether the index holds `word` as a term (as written: short words stem to themselves,
    and a miss only means no split is tried). Needs `_term_tables`."""
    return db.execute("SELECT 1 FROM temp.search_terms WHERE term = ?", [word]).fetchone() \
        is not None


def _correct(db, query: str, terms: list[Term]) -> tuple[list[Term], str | None]:
    """Replace each word found nowhere in the index by the closest word it holds, when the
    corrected query finds more rows (holding every term, then any).

    A word that is English, a stop-word or part of a token with operators ("check*list") is
    kept: it is what the person meant. Words are compared as the index holds them, stemmed
    (SQLite's own Porter stemmer, through a temporary FTS5 table), and the correction is
    shown as it is written in a document. Like Elasticsearch's term suggester, words with the
    same first letter are tried first: typos seldom start a word, and it reads a twentieth of
    the index's vocabulary; only when none is close is the whole vocabulary read ("xport" is
    "export")."""
    plain = {w.lower() for w in query.split() if _PLAIN_WORD.fullmatch(w)}
    known: dict[str, dict[str, int]] = {}
    fixed, text = [], query
    for term in terms:
        word = _correction(db, term, plain, known)
        fixed.append(Term(word, forms=_other_forms(word)) if word else term)
        if word:
            text = re.sub(rf"(?<!\w){re.escape(term.text)}(?!\w)", word, text, count=1)
    if text == query or _reach(db, fixed) <= _reach(db, terms):
        return terms, None
    return fixed, " ".join(text.split())


_PLAIN_WORD = re.compile(r"[^\W\d_]+[.,;:!?]*")


def _correction(db, term: Term, plain: set[str], known: dict[str, dict[str, int]]
                ) -> str | None:
    """The word the index holds that `term` was meant to be, or None to keep it: of the words
    written in documents whose stems are near the typo's (or that it begins, while typing),
    the one fewest edits from the whole typo, then the one in most rows ("refferal" is
    "referral", not "refer", though its stem "reffer" is one edit from "refer"). A word
    being typed is compared as far as it goes ("sidebyside" begins with "side")."""
    from growthlab.spelling import edits, is_english, near

    if term.phrase or not _LETTERS.fullmatch(term.text) or len(term.text) < 3 or \
            term.text.lower() not in plain or term.text.lower() in STOPWORDS or \
            _field_term(term.text) or _finds(db, term.fts) or is_english(term.text):
        return None
    stem = _stem(db, term.text)
    if not stem:
        return None
    for letter in (stem[0], ""):
        if letter not in known:
            known[letter] = _terms_starting(db, letter)
        begun = _stem_begun(term, known[letter])
        written = {}  # word: (edits from what was typed, rows holding it)
        for s in dict.fromkeys([begun, *near(stem, known[letter])]):
            for word in _written_forms(db, s) if s else ():
                typed = term.text[:len(word)] if s == begun else term.text
                if word not in STOPWORDS:  # 'teh' is not 'the': it matches all
                    written[word] = min(written.get(word, (99, 0)),
                                        (edits(typed, word), -known[letter][s]))
        if written:
            return min(written, key=lambda w: (written[w], w))
    return None


def _reach(db, terms: list[Term]) -> tuple[int, int]:
    """How many rows hold every term, and how many hold any."""
    return tuple(db.execute("SELECT count(*) FROM search_index WHERE search_index MATCH ?",
                            [joiner.join(t.fts for t in terms)]).fetchone()[0]
                 for joiner in (" AND ", " OR "))


def _stem_begun(term: Term, stems: dict[str, int]) -> str | None:
    """For a word still being typed, the longest stem it begins with ("activatio" is on its way
    to "activation", held as "activ"), which its prefix cannot match in a stemmed index."""
    begun = [s for s in stems if term.prefix and len(s) >= 4 and term.text.lower().startswith(s)]
    return max(begun, key=len, default=None)


_LETTERS = re.compile(r"[^\W\d_]+")
_MARKED = re.compile(f"{_MARK_START}(.*?){_MARK_END}", re.DOTALL)
_TOKEN = re.compile(r"[^\W_]+")
_TERM_TABLES = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms USING fts5vocab(main, search_index, "
    "row)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_instances USING fts5vocab(main, "
    "search_index, instance)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.stemmer USING fts5(word, tokenize = "
    "'porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.stemmer_terms USING fts5vocab(temp, stemmer, row)")


def _term_tables(db) -> None:
    """The temporary tables reading the index's vocabulary and stemming a word."""
    for sql in _TERM_TABLES:
        db.execute(sql)


def _terms_starting(db, letter: str) -> dict[str, int]:
    """The index's terms (stemmed) starting with `letter` (every term for ""), with how many
    rows hold each."""
    _term_tables(db)
    rows = db.execute("SELECT term, doc FROM temp.search_terms WHERE term >= ? AND term < ?",
                      [letter, letter + "\U0010ffff"])
    return {t: n for t, n in rows if _LETTERS.fullmatch(t)}


def _stem(db, word: str) -> str:
    _term_tables(db)
    db.execute("DELETE FROM temp.stemmer")
    db.execute("INSERT INTO temp.stemmer (word) VALUES (?)", [word])
    row = db.execute("SELECT term FROM temp.stemmer_terms").fetchone()
    return row[0] if row else ""


# How many occurrences of a stem are read to learn how it is written.
WRITTEN_FORMS_READ = 20


def _written_forms(db, stem: str) -> list[str]:
    """The words in the index that stem to `stem` (lower case), from its first occurrences."""
    found = db.execute("SELECT doc, col, offset FROM temp.search_instances WHERE term = ? "
                       "AND col IN ('title', 'body', 'tags') LIMIT ?",
                       [stem, WRITTEN_FORMS_READ]).fetchall()
    words = []
    for doc, col, offset in found:
        text = db.execute(f"SELECT {col} FROM search_index WHERE rowid = ?", [doc]).fetchone()[0]
        tokens = _TOKEN.findall(text or "")
        if offset < len(tokens):
            words.append(tokens[offset].lower())
    return list(dict.fromkeys(words))


def _ranked(db, terms: list[Term], joiner: str, kind: str | None, fetch: int) -> list[Hit]:
    """The best `fetch` rows: matches in the title or text before matches only through tags,
    then by bm25 times the kind's weight. Reading `kind` costs a lookup per row, so it is read
    only for the rows that can make the cut once weighted."""
    match = joiner.join(t.fts for t in terms)
    scored = db.execute(
        f"SELECT rowid, bm25(search_index, {_TEXT_WEIGHTS}) < 0, "
        f"bm25(search_index, {_COLUMN_WEIGHTS}) FROM search_index WHERE search_index MATCH ? "
        "AND (? IS NULL OR kind = ?)", [match, kind, kind]).fetchall()
    candidates = _may_make_the_cut(scored, fetch)
    kinds = dict(db.execute(f"SELECT rowid, kind FROM search_index WHERE rowid IN "
                            f"({','.join('?' * len(candidates))})", candidates))
    rank = {rowid: score * KIND_WEIGHTS.get(kinds[rowid], 1.0) for rowid, _, score in scored
            if rowid in kinds}
    tier = {rowid: in_text for rowid, in_text, _ in scored}
    best = sorted(rank, key=lambda rowid: (-tier[rowid], rank[rowid]))[:fetch]
    snippets = {r["id"]: r for r in db.query(
        f"WITH best(id) AS (VALUES {', '.join(['(?)'] * len(best))}) SELECT id, kind, ref_id, "
        f"snippet(search_index, 3, '{_MARK_START}', '{_MARK_END}', ' … ', {SNIPPET_TOKENS}) "
        f"AS snip, highlight(search_index, 4, '{_MARK_START}', '{_MARK_END}') AS tagged "
        "FROM best JOIN search_index ON search_index.rowid = best.id "
        "WHERE search_index MATCH ?", [*best, match])} if best else {}
    hits = _hydrate(db, [snippets[rowid] | {"rank": rank[rowid], "tag_only": not tier[rowid]}
                         for rowid in best])
    tagged = sorted((h for h in hits if h.matched_tags), key=lambda h: (h.created, h.id),
                    reverse=True)  # bm25 over a few tag words orders them by chance
    tagged.sort(key=lambda h: -KIND_WEIGHTS.get(h.kind, 1.0))
    return [h for h in hits if not h.matched_tags] + tagged


def _tags_matched(tags: list[str], highlighted: str) -> list[str]:
    """The tags holding a match marked in the index's tags column (the marked words
    themselves when no tag shown holds them, such as a status)."""
    marked = [tuple(_TOKEN.findall(m.lower())) for m in _MARKED.findall(highlighted or "")]
    held = [t for t in tags if any(_holds_run(tuple(_TOKEN.findall(t.lower())), m)
                                   for m in marked)]
    return held or list(dict.fromkeys(" ".join(m) for m in marked if m))


def _holds_run(words: tuple[str, ...], run: tuple[str, ...]) -> bool:
    return any(words[i:i + len(run)] == run for i in range(len(words) - len(run) + 1))


def _may_make_the_cut(scored: list[tuple[int, int, float]], fetch: int) -> list[int]:
    """Rows that can be among the best `fetch` once scores (negative, lower is better) are
    weighted by kind: per tier, those within the weights' spread of the best unweighted."""
    weights = [1.0, *KIND_WEIGHTS.values()]
    spread = min(weights) / max(weights)
    chosen, need = [], fetch
    for in_text in (1, 0):
        tier = sorted(score for _, t, score in scored if t == in_text)
        if need > 0 and tier:
            cutoff = tier[min(need, len(tier)) - 1] * spread
            chosen += [rowid for rowid, t, score in scored if t == in_text and score <= cutoff]
            need -= len(tier)
    return chosen


# The facets a search can be refined by, in the order the page offers them.
FACETS = ("kind", "status", "result", "stage", "loop", "area", "squad", "tag")
# Facets an experiment has and a learning takes from its linked experiments and its tags.
_EXPERIMENT_FACETS = ("stage", "loop", "area", "squad", "result")


def facet_values(hit: Hit, name: str) -> tuple[str, ...]:
    """The values `hit` has for a facet: its kind, its tags (lower case) or its facets."""
    if name == "kind":
        return (hit.kind,)
    if name == "tag":
        return tuple(dict.fromkeys(t.lower() for t in hit.tags))
    value = hit.facets.get(name)
    return (value,) if isinstance(value, str) else tuple(value or ())


def facet_matches(hit: Hit, name: str, wanted: list[str]) -> bool:
    """Whether `hit` has any of the `wanted` values of a facet (any hit when none is wanted)."""
    return not wanted or any(v in wanted for v in facet_values(hit, name))


def refine(hits: list[Hit], chosen: dict[str, list[str]]) -> list[Hit]:
    """The hits having, for every facet, one of the values chosen for it."""
    return [h for h in hits if all(facet_matches(h, name, wanted)
                                   for name, wanted in chosen.items())]


def _experiment_facets(db, ids: list[int], *, of_learnings: bool = False) -> list[dict]:
    """Experiments' facets, by experiment id or (with `of_learnings`) by linked learning."""
    return list(_in_query(
        db, "SELECT e.id, e.key, e.title, e.status, e.result, e.milestone_key AS stage, "
            "e.created_at, l.name AS loop, pa.name AS area, s.name AS squad"
            + (", le.learning_id" if of_learnings else "") + " FROM experiments e "
            "LEFT JOIN loops l ON l.id = e.loop_id LEFT JOIN product_areas pa "
            "ON pa.id = e.product_area_id LEFT JOIN squads s ON s.id = e.squad_id "
            + ("JOIN learning_experiments le ON le.experiment_id = e.id "
               "WHERE le.learning_id IN ({})" if of_learnings else "WHERE e.id IN ({})"), ids))


def _facets_named(db) -> dict[str, dict[str, str]]:
    """For each facet a learning can take from its tags, its values by their tag."""
    from growthlab.experiments import RESULTS

    named = {facet: {r["v"].lower(): r["v"] for r in db.query(sql)} for facet, sql in (
        # A learning's tags come from its linked experiments (experiment_tags): their
        # milestone keys count even when the milestone is gone, and no other experiment's do.
        ("stage", "SELECT key AS v FROM milestones UNION SELECT e.milestone_key FROM "
                  "learning_experiments le JOIN experiments e ON e.id = le.experiment_id "
                  "WHERE e.milestone_key IS NOT NULL"),
        ("loop", "SELECT name AS v FROM loops"), ("area", "SELECT name AS v FROM product_areas"),
        ("squad", "SELECT name AS v FROM squads"))}
    return named | {"result": {r: r for r in RESULTS}}


def _learning_meta(db, ids: list[int]) -> dict[int, tuple[str, list[str], dict]]:
    """A learning's facets: its status, and the values of its linked experiments and those
    its tags name (a learning is tagged with its experiment's milestone, loop, area, squad)."""
    linked: dict[int, list[dict]] = {}
    for e in _experiment_facets(db, ids, of_learnings=True):
        linked.setdefault(e["learning_id"], []).append(e)
    named = _facets_named(db) if ids else {}
    meta = {}
    for r in _in_query(db, "SELECT id, title, tags, status, created_at FROM learnings "
                           "WHERE id IN ({})", ids):
        tags = json.loads(r["tags"])
        facets = {"status": r["status"]} | {facet: tuple(dict.fromkeys(
            [e[facet] for e in linked.get(r["id"], []) if e[facet]]
            + [named[facet][t] for t in tags if t in named[facet]]))
            for facet in _EXPERIMENT_FACETS}
        meta[r["id"]] = (r["title"], tags, facets, r["created_at"])
    return meta


def _experiment_meta(db, ids: list[int]) -> dict[int, tuple[str, list[str], dict]]:
    meta = {}
    for r in _experiment_facets(db, ids):
        facets = {"status": r["status"], **{f: r[f] for f in _EXPERIMENT_FACETS}}
        tags = [t for t in (r["stage"], r["loop"], r["area"], r["squad"], r["result"]) if t]
        meta[r["id"]] = (f"{r['key']} {r['title']}", tags, facets, r["created_at"])
    return meta


def _research_meta(kind: str):
    def lookup(db, ids: list[int]) -> dict[int, tuple[str, list[str], dict]]:
        from growthlab import research  # only when hits are shown: the CLI starts quicker

        return research.search_meta(db, kind, ids)
    return lookup


# Each kind of document in the search index: its title, tags and facets by id.
KIND_META = {"learning": _learning_meta, "experiment": _experiment_meta,
             **{kind: _research_meta(kind) for kind in ("interview", "excerpt", "job")}}


def _hydrate(db, rows: list[dict]) -> list[Hit]:
    meta = {kind: lookup(db, [r["ref_id"] for r in rows if r["kind"] == kind])
            for kind, lookup in KIND_META.items()}
    hits = []
    for r in rows:
        found = meta.get(r["kind"], {}).get(r["ref_id"])
        if not found:
            continue
        title, tags, facets, *created = found
        hits.append(Hit(r["kind"], r["ref_id"], title, snippet_text(r["snip"] or ""),
                        round(-float(r["rank"]), 6), tags, facets, r["snip"] or "",
                        _tags_matched(tags, r["tagged"]) if r["tag_only"] else [],
                        created[0] if created else ""))
    return hits


def _in_query(db, sql: str, ids: list[int]):
    if not ids:
        return []
    return db.query(sql.format(",".join("?" for _ in ids)), ids)


_BLOCK_MARKUP = re.compile(r"^[ \t]*(?:#+|>|[-*+]|\d+[.)])[ \t]+", re.MULTILINE)
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|?)+[ \t]*$", re.MULTILINE)
_TABLE_ROW = re.compile(r"^[ \t]*\|.*$", re.MULTILINE)
_REFERENCE_LINE = re.compile(r"^[ \t]*\[[^\]]*\]:.*$", re.MULTILINE)
_LINK = re.compile(r"!?\[([^\[\]]*)\](?:\([^()\s]*(?:\([^()\s]*\))?[^()\s]*(?:\s[^()]*)?\)|"
                   r"\[[^\]]*\])")
_LOOSE_MARKUP = re.compile(r"\*\*|__|`|\]\([^)\s]*\)?|!?\[(?=[^\]]*$)")
SNIPPET_TAGS = {"strong", "em", "code", "mark", "s"}


@functools.cache
def _inline_markdown():
    """One renderer for every snippet: building it costs more than rendering a snippet."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("strikethrough")


def snippet_html(raw: str) -> str:
    """A snippet (FTS5 match marks around matched words) as sanitised HTML: inline Markdown
    rendered, block markers, links and images reduced to their text, markup cut in half by the
    snippet's ends dropped, matches in <mark>."""
    import nh3

    text = _REFERENCE_LINE.sub("", _TABLE_RULE.sub("", _BLOCK_MARKUP.sub("", raw)))
    text = _LINK.sub(r"\1", _TABLE_ROW.sub(lambda m: m.group().replace("|", " "), text))
    rendered = _inline_markdown().renderInline(text)
    rendered = _LOOSE_MARKUP.sub("", rendered)
    rendered = rendered.replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")
    return nh3.clean(rendered, tags=SNIPPET_TAGS, attributes={}).replace("\n", " ")


def snippet_text(raw: str) -> str:
    """A snippet as the plain text `snippet_html` shows, matches in **: no markup, no tags
    (angle-bracketed words that are not markup kept)."""
    shown = re.sub(r"</?(?!mark>)[a-z]+>", "", snippet_html(raw)).replace("<mark>", "**")
    return " ".join(_strip_tags(html.unescape(shown.replace("</mark>", "**"))).split())


def tags_html(tags: list[str]) -> str:
    """Tags as escaped chips."""
    return " ".join(
        "<span style='display:inline-block;padding:0 .5em;margin:0 .25em .25em 0;"
        "border-radius:1em;background:rgba(128,128,128,.15);font-size:.8rem'>"
        f"{html.escape(t)}</span>" for t in tags)


def facet_counts(hits: list[Hit]) -> dict[str, dict[str, int]]:
    """For each facet, how many hits have each value, most first."""
    counts: dict[str, dict[str, int]] = {}
    for name in FACETS:
        for h in hits:
            for value in facet_values(h, name):
                if value:
                    counts.setdefault(name, {}).setdefault(value, 0)
                    counts[name][value] += 1
    return {name: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
            for name, values in counts.items()}


def facet_options(db, hits: list[Hit]) -> dict[str, list[tuple[str, str]]]:
    """For each facet, its values and how to show them with their counts: milestones by name,
    statuses saying whether a learning or an experiment has them (learnings' first)."""
    from growthlab.experiments import STATUSES as EXPERIMENT_STATUSES

    counts = facet_counts(hits)
    names = dict(db.execute("SELECT key, name FROM milestones"))
    options = {name: [(v, f"{names.get(v, v) if name == 'stage' else v} ({n})")
                      for v, n in values.items()] for name, values in counts.items()}
    if "status" in counts:
        options["status"] = [(v, f"{whose}: {v} ({counts['status'][v]})")
                             for whose, statuses in (("learning", STATUSES),
                                                     ("experiment", EXPERIMENT_STATUSES))
                             for v in statuses if v in counts["status"]]
    return options


@dataclass(frozen=True)
class Paging:
    """Which of `total` items one page shows: [start, stop), and how to say so."""
    total: int
    page: int
    pages: int
    start: int
    stop: int

    @property
    def caption(self) -> str:
        if not self.total:
            return "showing 0 of 0"
        return f"showing {self.start + 1}-{self.stop} of {self.total}"


PAGE_SIZE = 50
# The most hits the Learnings page reads for one search, to count, refine and page through.
SEARCH_AT_MOST = 1000


def paging(total: int, page: int, size: int = PAGE_SIZE) -> Paging:
    """Page `page` (from 1; one out of range is the nearest there is) of `total` items."""
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    start = (page - 1) * size
    return Paging(total, page, pages, start, min(start + size, total))


def tagged(rows: list[dict], wanted: list[str]) -> list[dict]:
    """The listed learnings holding any of the `wanted` tags (in any case); all when none."""
    wanted_set = {t.casefold() for t in wanted}
    return [r for r in rows if not wanted_set or wanted_set & {t.casefold() for t in r["tags"]}]


def listing(db, statuses=()) -> list[dict]:
    """Every learning (with one of `statuses`, if any), newest first, tags decoded."""
    rows = [r for r in db.query("SELECT * FROM learnings ORDER BY created_at DESC, id DESC")
            if not statuses or r["status"] in statuses]
    for r in rows:
        r["tags"] = json.loads(r["tags"])
    return rows


def learnings_among(db, hits: list[Hit]) -> list[dict]:
    """The learnings among search hits, in the hits' order, as `listing` gives them."""
    by_id = {r["id"]: r for r in listing(db)}
    return [by_id[h.id] for h in hits if h.kind == "learning" and h.id in by_id]


def export_note(exported: int, shown: int) -> str:
    """What an export of search results holds."""
    note = f"Exports the {exported} learnings among these {shown} matches"
    return note + (" (experiments and research are not exported)." if exported < shown
                   else ".")


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
_TAG_NAME = re.compile(r"</?([A-Za-z][\w-]*)")
# Elements a browser acts on beyond the ones nh3 lets through: what could run, load or ask.
_ACTIVE_ELEMENTS = {"applet", "audio", "base", "body", "button", "canvas", "dialog", "embed",
                    "fieldset", "form", "frame", "frameset", "head", "html", "iframe", "input",
                    "label", "legend", "link", "marquee", "math", "meta", "noscript", "object",
                    "option", "output", "param", "picture", "plaintext", "portal", "script",
                    "select", "slot", "source", "style", "svg", "template", "textarea",
                    "title", "track", "video", "xmp"}
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


def _is_html(tag: str) -> bool:
    """Whether text in angle brackets is markup (a comment, an HTML or custom element, or
    anything with an attribute value) rather than words such as "<Export>" or
    "<milestone KPI>"."""
    import nh3

    name = _TAG_NAME.match(tag)
    if name is None or "=" in tag or "-" in name.group(1):
        return True
    return name.group(1).lower() in nh3.ALLOWED_TAGS | _ACTIVE_ELEMENTS


def _strip_tags(text: str) -> str:
    """Text without markup; angle-bracketed words that are not markup are kept."""
    text = _ACTIVE_ELEMENT.sub("", text)
    return _TAG.sub(lambda m: m.group() if _SAFE_AUTOLINK.fullmatch(m.group())
                    or not _is_html(m.group()) else "", text)


def sanitise_markdown(body: str) -> str:
    """Markdown that no viewer can turn into script: raw HTML removed (angle-bracketed words
    that are not HTML kept, escaped), links other than http(s)/mailto reduced to their text.

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
