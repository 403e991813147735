"""GrowthLab: configure, make sure a workspace exists, route. Nothing else lives here."""

import os

import streamlit as st

from growthlab.access import AccessConfigError
from growthlab.db import workspace_path
from growthlab.kpis.engine import APP_MEMORY_LIMIT, MEMORY_VARIABLE
from pages._shared import access, sign_in_configured

st.set_page_config(page_title="GrowthLab", page_icon=":material/science:", layout="wide")
if not os.environ.get(MEMORY_VARIABLE):
    os.environ[MEMORY_VARIABLE] = APP_MEMORY_LIMIT
try:
    access()
except AccessConfigError as exc:
    st.error(f"GrowthLab cannot start: {exc}", icon=":material/error:")
    st.stop()

if not workspace_path().exists():
    from growthlab.demo import ensure_demo  # imports every module: only for the first run
    from growthlab.errors import GrowthLabError

    try:
        with st.spinner("First run: building the demo workspace (about 10 seconds)…"):
            ensure_demo(workspace_path())
    except GrowthLabError as exc:  # such as a folder another workspace keeps its data in
        st.error(f"GrowthLab cannot build the demo workspace: {exc}", icon=":material/error:")
        st.stop()

if sign_in_configured() and not st.user.is_logged_in:
    st.title("GrowthLab")
    st.write("This GrowthLab is shared by your team. Sign in to continue.")
    st.button("Sign in", on_click=st.login, type="primary")
    st.stop()

pages = {
    "For leaders": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:",
                default=True),
        st.Page("pages/okrs.py", title="OKRs", icon=":material/flag:"),
    ],
    "For squads": [
        st.Page("pages/experiments.py", title="Experiments", icon=":material/science:"),
        st.Page("pages/experiment.py", title="Experiment", icon=":material/biotech:"),
        st.Page("pages/milestones.py", title="Milestones", icon=":material/conversion_path:"),
        st.Page("pages/research.py", title="Research", icon=":material/record_voice_over:"),
    ],
    "For everyone": [
        st.Page("pages/learnings.py", title="Learnings", icon=":material/menu_book:"),
        st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
    ],
}
st.session_state["routed_by_app"] = True
navigation = st.navigation(pages)
if return_to := st.session_state.pop("return_to", None):
    st.switch_page(return_to[0], query_params=return_to[1])
navigation.run()
