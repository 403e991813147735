"""Learnings: find what past experiments taught, months later, without having been there."""

import streamlit as st

from growthlab import io, learnings, research
from pages._shared import (
    attempt,
    changed,
    opened,
    report,
    require_app,
    save_edit,
    show_refusal,
    widget_key,
    workspace,
    writer,
)

require_app(__file__)
db = workspace()
st.title("Learnings")
show_refusal()
params = st.query_params

if db["learnings"].count == 0 and db["experiments"].count == 0:
    st.info("The learning log is empty. Decide an experiment (deciding asks for a learning) "
            "or write one below from research or cohort analysis.", icon=":material/menu_book:")

requested = params.get("learning")
if requested and requested.isdigit():
    try:
        item = learnings.get(db, int(requested))
        with st.container(border=True):
            st.subheader(learnings.escape_markdown(item["title"]))
            st.caption(f"{item['status']} · {item['author'] or 'unknown'} · "
                       f"{item['created_at'][:10]}")
            if item["tags"]:
                st.html(learnings.tags_html(item["tags"]))
            st.html(learnings.render_markdown(item["body"]))
            for cited in research.cited_by(db, learning_id=item["id"]):
                st.caption(f"cites {cited['kind']}: {learnings.escape_markdown(cited['text'])}")
            for e in item["experiments"]:
                st.page_link("pages/experiment.py", label=f"{e['relation']}: {e['key']} "
                             f"{learnings.escape_markdown(e['title'])} "
                             f"({e['result'] or e['status']})",
                             query_params={"id": e["id"]})
            with st.expander("Edit this learning or link an experiment"):
                base = opened("learning", item["id"], item)
                with st.form("edit-learning"):
                    new_title = st.text_input("Title", base["title"],
                                              key=widget_key("l-title", base))
                    new_body = st.text_area("Body (markdown)", base["body"], height=200,
                                            key=widget_key("l-body", base))
                    c = st.columns(2)
                    new_tags = c[0].text_input("Tags", ", ".join(base["tags"]),
                                               key=widget_key("l-tags", base))
                    new_status = c[1].selectbox("Status", learnings.STATUSES,
                                                index=learnings.STATUSES.index(base["status"]),
                                                key=widget_key("l-status", base))
                    if st.form_submit_button("Save changes", type="primary"):
                        save_edit("learning", base, lambda: {
                            "title": new_title, "body": new_body,
                            "tags": learnings.parse_tags(new_tags), "status": new_status},
                            lambda changes: learnings.update(db, base["id"], base["version"],
                                                             changes, actor=writer()),
                            "Learning updated")
                with st.form("link-experiment"):
                    options = {r["id"]: f"{r['key']} {r['title']}" for r in db.query(
                        "SELECT id, key, title FROM experiments ORDER BY id DESC")}
                    c = st.columns([3, 1])
                    chosen = c[0].selectbox("Experiment", list(options),
                                            format_func=options.get)
                    relation = c[1].selectbox("Relation", learnings.RELATIONS)
                    if st.form_submit_button("Link") and chosen is not None:
                        attempt(lambda: learnings.link(db, item["id"], chosen, relation,
                                                       actor=writer()), "Experiment linked")
            if st.button("Close"):
                del params["learning"]
                st.rerun()
    except Exception as exc:  # noqa: BLE001
        report(exc)

query = st.text_input("Search learnings, experiments and research", value=params.get("q", ""),
                      placeholder='e.g. why do teams not export, "invite loop", onboard*',
                      key="search-box")
if query != params.get("q", "") and "page" in params:
    del params["page"]  # a new search starts at its best matches
params["q"] = query
def page_of(total: int):
    """This page of `total` items (from ?page=), with Previous/Next buttons that turn it."""
    page = params.get("page", "")
    return learnings.paging(total, int(page) if page.isdigit() else 1)


def turn_pages(shown) -> None:
    if shown.pages > 1:
        c = st.columns([1, 1, 4])
        for col, label, to in ((c[0], "Previous", shown.page - 1), (c[1], "Next", shown.page + 1)):
            if col.button(label, disabled=not 1 <= to <= shown.pages, key=f"page-{label}"):
                params["page"] = str(to)
                st.rerun()


def export_buttons(rows: list[dict]) -> None:
    c = st.columns(2)
    c[0].download_button("Export as Markdown", learnings.to_markdown(rows),
                         file_name="learnings.md", mime="text/markdown")
    c[1].download_button("Export as CSV", io.to_csv(
        [r | {"tags": ", ".join(r["tags"])} for r in rows],
        ["id", "title", "status", "tags", "author", "created_at", "body"]),
        file_name="learnings.csv", mime="text/csv")


if query:
    found = learnings.find(db, query, limit=learnings.SEARCH_AT_MOST)
    options = learnings.facet_options(db, found.hits)
    chosen = {}
    with st.sidebar:
        st.header("Refine")
        st.caption("Filters live in the address bar: copy it to share this search.")
        for facet in learnings.FACETS:
            labels = dict(options.get(facet, []))
            spelled = {k.casefold(): k for k in labels}  # ?tag=ONBOARDING is onboarding
            wanted = [spelled.get(v.casefold(), v) for v in params.get_all(facet)]
            # A shared link's filter that no result here has is kept (it shows nothing), not
            # dropped (which would show everything under a filtered address).
            labels |= {v: f"{v} (none here)" for v in wanted if v not in labels}
            chosen[facet] = st.multiselect(
                facet.capitalize(), list(labels), key=f"facet-{facet}", default=wanted,
                format_func=labels.get)
            params[facet] = chosen[facet]
    shown = learnings.refine(found.hits, chosen)
    if found.did_you_mean:
        st.info(f"Showing results for **{learnings.escape_markdown(found.did_you_mean)}**: no "
                f"learning or experiment holds “{learnings.escape_markdown(query)}”.",
                icon=":material/spellcheck:")
    if not found.matched_all:
        st.caption("No learning or experiment holds every word, so these hold some of them.")
    window = page_of(len(shown))
    more = "+ (the best)" if len(found.hits) == learnings.SEARCH_AT_MOST else ""
    st.caption(f"{len(shown)}{more} match(es), best first; {window.caption}. Quote a phrase "
               "for an exact match; end a word with * for a prefix.")
    absent = {f: [v for v in chosen[f] if v not in dict(options.get(f, []))] for f in chosen}
    if not shown and any(absent.values()):
        st.info("No result has " + " or ".join(
            f"{f} {', '.join(v)}" for f, v in absent.items() if v) + ": none of the "
            f"{len(found.hits):,} matches of this search; clear that filter in the sidebar to "
            "see them.", icon=":material/filter_alt_off:")
    elif not shown:
        st.info(learnings.escape_markdown(found.advice))
    for hit in shown[window.start:window.stop]:
        with st.container(border=True):
            if hit.kind == "learning":
                st.page_link("pages/learnings.py", label=learnings.escape_markdown(hit.title),
                             icon=":material/lightbulb:",
                             query_params={"learning": hit.id, "q": query})
            elif hit.kind in research.SEARCH_KINDS:
                st.page_link("pages/research.py", label=learnings.escape_markdown(hit.title),
                             icon=":material/record_voice_over:",
                             query_params={"interview": hit.id} if hit.kind == "interview"
                             else {"excerpt": hit.id} if hit.kind == "excerpt" else None)
            else:
                st.page_link("pages/experiment.py", label=learnings.escape_markdown(hit.title),
                             icon=":material/science:",
                             query_params={"id": hit.id})
            st.html(f"<div style='font-size:0.92rem;line-height:1.5'>{hit.snippet_html}</div>"
                    f"<div style='margin-top:.3rem'>{hit.tags_html}</div>")
    turn_pages(window)
    exported = learnings.learnings_among(db, shown)
    if exported:
        st.caption(learnings.export_note(len(exported), len(shown)))
        export_buttons(exported)
else:
    c = st.columns([1, 1])
    with c[0]:
        status_filter = st.pills("Status", list(learnings.STATUSES), selection_mode="multi")
    listed = learnings.listing(db, status_filter)
    every_tag = sorted({t for r in listed for t in r["tags"]}, key=str.casefold)
    wanted = c[1].multiselect("Tag", every_tag, key="list-tag", default=[
        t for t in every_tag if t.casefold() in {w.casefold() for w in params.get_all("tag")}])
    params["tag"] = wanted
    rows = learnings.tagged(listed, wanted)
    window = page_of(len(rows))
    st.caption(f"{io.plural(len(rows), 'learning')}{' with that status' if status_filter else ''}"
               f"{' tagged ' + ' or '.join(wanted) if wanted else ''}, newest "
               f"first; {window.caption}. Type above to search everything, including "
               "experiment hypotheses and conclusions.")
    for r in rows[window.start:window.stop]:
        with st.container(border=True):
            st.page_link("pages/learnings.py", label=learnings.escape_markdown(r["title"]),
                         icon=":material/lightbulb:",
                         query_params={"learning": r["id"]})
            st.html(f"<div style='font-size:.85rem;opacity:.8'>{r['status']} · "
                    f"{r['created_at'][:10]}</div>{learnings.tags_html(r['tags'])}")
    turn_pages(window)
    if rows:
        narrowed = [*status_filter, *wanted]
        st.caption(f"Exports the {io.plural(len(rows), 'learning')} listed"
                   f"{' (' + ', '.join(narrowed) + ')' if narrowed else ''}, every page.")
        export_buttons(rows)

st.divider()
with st.expander("Write a learning", expanded=False):
    st.caption("Write for someone who was not there: what you saw, how sure you are, and no "
               "claims beyond what the data showed.")
    with st.form("new-learning", clear_on_submit=True):
        title = st.text_input("Title")
        body = st.text_area("What we learned (markdown)")
        c = st.columns(2)
        tags = c[0].text_input("Tags, separated by commas")
        status = c[1].selectbox("Status", learnings.STATUSES)
        if st.form_submit_button("Save learning", type="primary"):
            try:
                new_id = learnings.create(db, title=title, body=body, tags=tags, status=status,
                                          author=writer())
                changed("Learning saved")
                params["learning"] = str(new_id)
                st.rerun()
            except Exception as exc:  # noqa: BLE001
                report(exc)
