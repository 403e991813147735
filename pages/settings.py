"""Settings: taxonomy, data files, the workspace itself and who can sign in."""

import tempfile
from pathlib import Path

import streamlit as st

from growthlab import admin
from growthlab import db as store
from growthlab.backup import export_workspace, import_workspace
from growthlab.errors import GrowthLabError
from growthlab.io import display_table, plural
from growthlab.kpis import (
    check_assignments,
    check_events,
    save_to_workspace,
)
from growthlab.kpis.milestones import read_milestones_toml
from growthlab.kpis.sources import location_name, table_url
from pages._shared import (
    access,
    actor,
    attempt,
    cached_quality,
    changed,
    confirm_dropping,
    data_file,
    event_warnings,
    file_stamp,
    identity,
    no_events_yet,
    postgres_secrets,
    quality_warnings,
    report,
    require_app,
    sign_in_configured,
    workspace,
    writer,
)

require_app(__file__)
db = workspace()
path = store.workspace_path()
st.title("Settings")
taxonomy_tab, data_tab, workspace_tab = st.tabs(["Taxonomy", "Data", "Workspace & access"])

with taxonomy_tab:
    st.caption("Squads own objectives and experiments; loops and product areas tag experiments "
               "so the programme review shows where the team looks and where it does not.")
    for table, label, extra in (("squads", "Squads", "mission"), ("loops", "Loops",
                                                                 "description"),
                                ("product_areas", "Product areas", None)):
        st.markdown(f"**{label}**")
        rows = list(db.query(f"SELECT * FROM {table} ORDER BY name"))
        if rows:
            st.dataframe(display_table(rows), hide_index=True, width="stretch",
                         column_config={"id": None})
        else:
            st.caption(f"No {label.lower()} yet: add the first one.")
        with st.form(f"add-{table}", clear_on_submit=True):
            c = st.columns([1, 2, 1]) if extra else st.columns([3, 1])
            name = c[0].text_input("Name", key=f"name-{table}")
            detail = c[1].text_input(extra.capitalize(), key=f"detail-{table}") if extra else ""
            if c[-1].form_submit_button(f"Add to {label.lower()}"):
                attempt(lambda t=table, n=name, d=detail: admin.add_to_taxonomy(
                    db, t, n, d, actor=writer()), f"Added {name.strip()}")


def use_upload(upload, kind: str, check, describe) -> None:
    """Check an uploaded data file beside the workspace; only a valid one replaces the old.
    The page then runs again, so the summary above shows the file now in use."""
    try:
        with st.spinner(f"Checking {upload.name}…"):
            summary = admin.use_data_file(db, kind, upload.getvalue(), upload.name, check,
                                          actor=writer())
    except GrowthLabError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state[f"{kind}-used"] = f"{upload.name}: {describe(summary)}"
    changed(f"{kind.capitalize()} updated")
    st.rerun()


def assigned_users(counts: dict[str, int]) -> str:
    """Users per experiment (one user may be in several, so there is no sum)."""
    return f"{plural(len(counts), 'experiment')}: " + ", ".join(
        f"{k} ({plural(v, 'user')})" for k, v in counts.items())


def show_used(kind: str) -> None:
    if used := st.session_state.pop(f"{kind}-used", None):
        st.success(used, icon=":material/check_circle:")


@st.cache_data(show_spinner=False, max_entries=4)
def events_info(events: str, stamp: tuple):
    return check_events(events)


def postgres_section() -> None:
    """Point the workspace at tables in PostgreSQL instead of files: the URL and its password
    stay in the secrets; the workspace keeps the URL without the password."""
    st.markdown("**Or: events in PostgreSQL** (queried where they live; only aggregates come "
                "back)")
    base = postgres_secrets().get("url")
    if not base:
        st.caption("Keep events in files, or add `url = \"postgresql://user:password@host:5432"
                   "/db\"` under `[postgres]` in .streamlit/secrets.toml to read a table "
                   "instead. The password stays in the secrets, never in the workspace.")
        return
    c = st.columns(2)
    events_table = c[0].text_input("Events table", value="events", key="pg-events")
    assignments_table = c[1].text_input("Assignments table (optional)", key="pg-assignments")
    c = st.columns(2)
    try:
        if c[0].button("Check the connection", icon=":material/cable:"):
            info = check_events(table_url(base, events_table))
            st.success(f"{plural(info.rows, 'event')} from {plural(info.users, 'user')}, "
                       f"{info.first} to {info.last}; {plural(len(info.events), 'event name')}.")
        if c[1].button("Use these tables", type="primary"):
            with st.spinner("Checking the tables…"):
                admin.use_table(db, "events", table_url(base, events_table), check_events,
                                actor=writer())
                if assignments_table.strip():
                    admin.use_table(db, "assignments", table_url(base, assignments_table),
                                    check_assignments, actor=writer())
            changed("Events now read from PostgreSQL")
    except GrowthLabError as exc:
        report(exc)


with data_tab:
    events = data_file(db, "events_path")
    st.markdown("**Product events** (`user_id, event, timestamp`; CSV or Parquet)")
    show_used("events")
    info = None
    if events:
        try:
            info = events_info(str(events), file_stamp(events))
            c = st.columns(3)
            c[0].metric("Events", f"{info.rows:,}")
            c[1].metric("Users", f"{info.users:,}")
            c[2].metric("Event names", len(info.events))
            st.caption(f"{location_name(events)} · {info.first} to {info.last}")
            quality_warnings(db)
        except GrowthLabError as exc:
            report(exc)
        dedupe = admin.dedupe(db)
        found = cached_quality(str(events), file_stamp(events)) if info else None
        dates_only = bool(found and found.undated_repeats
                          and found.undated_repeats == found.duplicates)
        wanted = st.toggle("Drop exact duplicate rows", value=dedupe, key="events-dedupe",
                           disabled=dates_only,
                           help="Rows repeated here have no time of day, so two rows of one "
                           "day may be two real events: nothing is dropped." if dates_only else
                           "Rows with the same user_id, event and timestamp (an SDK "
                           "retrying a send) count once in every KPI, funnel, retention and "
                           "PQL figure, as `--dedupe` does on the command line. Rows "
                           "repeated at exactly 00:00 are kept: on a date-only export they "
                           "may be two real events.")
        if wanted != dedupe:
            attempt(lambda: admin.set_dedupe(db, wanted, actor=writer()),
                    "Exact duplicate rows are now dropped" if wanted else
                    "Exact duplicate rows now count again")
    else:
        no_events_yet(db, "Upload a file below; it is validated before anything changes.")
    upload = st.file_uploader("Upload events", type=["csv", "gz", "tsv", "parquet"],
                              key="events-upload")
    pending = st.session_state.get("events-pending")
    if upload is None or pending and pending[0] != upload.file_id:
        st.session_state.pop("events-pending", None)
        pending = None
    if upload is not None and st.button("Validate and use these events", type="primary"):
        if events is None:
            use_upload(upload, "events", check_events,
                       lambda new: admin.describe_events_change(None, new))
        else:
            try:
                writer()  # a person who may only read is refused before anything is checked
                with st.spinner(f"Checking {upload.name}…"):
                    pending = (upload.file_id, admin.check_data_file(
                        db, "events", upload.getvalue(), upload.name, check_events))
                st.session_state["events-pending"] = pending
            except GrowthLabError as exc:
                st.error(str(exc), icon=":material/error:")
    if pending:
        st.warning("These events replace the current ones: every KPI, funnel and retention "
                   "figure is computed again from them.", icon=":material/swap_horiz:")
        st.dataframe(display_table(admin.events_change(info, pending[1])), hide_index=True)
        c = st.columns([1, 1, 3])
        if c[0].button("Replace the events", type="primary"):
            st.session_state.pop("events-pending", None)
            use_upload(upload, "events", check_events,
                       lambda new: admin.describe_events_change(info, new))
        if c[1].button("Keep the current events"):
            st.session_state.pop("events-pending", None)
            st.rerun()

    st.markdown("**Experiment assignments** (`user_id, experiment, variant, assigned_at`)")
    show_used("assignments")
    assignments = data_file(db, "assignments_path")
    if assignments:
        try:
            st.caption(f"{location_name(assignments)}: "
                       f"{assigned_users(check_assignments(assignments))}")
        except GrowthLabError as exc:
            report(exc)
    else:
        st.caption("None yet. With assignments, an experiment's milestone KPIs can be "
                   "computed per variant from the events.")
    upload = st.file_uploader("Upload assignments", type=["csv", "parquet"],
                              key="assignments-upload")
    if upload is not None and st.button("Validate and use these assignments"):
        use_upload(upload, "assignments", check_assignments, assigned_users)

    postgres_section()

    st.markdown("**Milestones** (TOML, order = funnel order)")
    toml_upload = st.file_uploader("Upload milestones.toml", type=["toml"], key="toml-upload")
    if toml_upload is not None:
        try:
            uploaded = read_milestones_toml(toml_upload.getvalue(), toml_upload.name)
        except Exception as exc:  # noqa: BLE001
            report(exc)
        else:
            allowed = confirm_dropping(db, uploaded, "toml-drop")
            if st.button("Validate and replace milestones", disabled=not allowed):
                try:
                    save_to_workspace(db, uploaded, actor=writer())
                    changed("Milestones replaced")
                    event_warnings(db, rules=[m.rule for m in uploaded])
                except Exception as exc:  # noqa: BLE001
                    report(exc)

with workspace_tab:
    st.markdown(f"**Workspace file:** `{path}` · schema v{store.schema_version(db)}")
    counts = {t: db[t].count for t in ("objectives", "key_results", "experiments", "learnings",
                                       "checkins", "audit_log")}
    st.dataframe(display_table([counts]), hide_index=True)
    st.caption("Set GROWTHLAB_WORKSPACE to open another workspace file.")
    if sign_in_configured():
        rights = ("you can make changes" if access().may_write(identity().get("email"))
                  else "you have read-only access (only the editors listed under [growthlab] "
                       "in the secrets can make changes)")
        st.success(f"Sign-in is on: you are {actor()}; {rights}. Every change is recorded "
                   "with its author in the audit log.", icon=":material/lock:")
    else:
        st.info("Local single-user mode: no sign-in is configured, so changes are recorded as "
                "'local'. Configure an OIDC provider under [auth] in .streamlit/secrets.toml "
                "to require sign-in.", icon=":material/lock_open:")
    st.markdown("**Backup**")
    c = st.columns(2)
    if c[0].button("Prepare a backup (.zip)", icon=":material/archive:"):
        with tempfile.TemporaryDirectory() as tmp, st.spinner("Writing the backup…"):
            target = Path(tmp) / "growthlab-backup.zip"
            export_workspace(path, target)
            st.session_state["backup"] = target.read_bytes()
    if "backup" in st.session_state:
        c[0].download_button("Download the backup", st.session_state["backup"],
                             file_name="growthlab-backup.zip", mime="application/zip")
    archive = c[1].file_uploader("Restore from a backup (replaces this workspace)",
                                 type=["zip"], key="restore-upload")
    if archive is not None and c[1].button("Check and restore", type="primary"):
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / archive.name
            try:
                who = writer()
                staged.write_bytes(archive.getvalue())
                import_workspace(staged, path, actor=who)
            except GrowthLabError as exc:
                st.error(str(exc).replace(str(staged), archive.name), icon=":material/error:")
            else:
                changed("Workspace restored from the backup")
                st.rerun()
    st.markdown("**Recent changes**")
    st.dataframe(display_table(db.query(
                     "SELECT at, actor, action, entity, entity_id FROM audit_log "
                     "ORDER BY id DESC LIMIT 20")),
                 hide_index=True, width="stretch")
