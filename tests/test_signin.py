"""Sign-in: required when OIDC is configured; author recorded; viewers read-only."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from growthlab.db import open_workspace

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s3cret",
        "client_id": "growthlab", "client_secret": "x",
        "server_metadata_url": "https://id.example.com/.well-known/openid-configuration"}


def app(user: dict, viewers=()) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["growthlab"] = {"viewers": list(viewers)}
    at.user = user
    return at


def add_squad(at: AppTest, name: str) -> AppTest:
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    at.text_input(key="name-squads").input(name)
    next(b for b in at.button if b.label == "Add to squads").click().run()
    return at


def test_signed_out_users_see_only_the_sign_in(demo_workspace):
    at = app({"is_logged_in": False})
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in to continue" in at.markdown[0].value


def test_signed_in_user_is_the_author_of_changes(demo_workspace):
    at = add_squad(app({"is_logged_in": True, "email": "maya@scout.example"}), "Retention")
    assert not at.exception
    assert any("you are maya@scout.example" in s.value for s in at.success)
    db = open_workspace(demo_workspace)
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["actor"], last["entity"]) == ("maya@scout.example", "squads")


def test_viewers_cannot_change_anything(demo_workspace):
    before = open_workspace(demo_workspace)["squads"].count
    at = add_squad(app({"is_logged_in": True, "email": "Ceo@Scout.example"},
                       viewers=["ceo@scout.example"]), "Shadow squad")
    assert any("read-only access" in e.value for e in at.error)
    assert open_workspace(demo_workspace)["squads"].count == before


def test_viewers_cannot_check_in_from_data(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT id FROM key_results WHERE metric = 'first_value'"))["id"]
    before = db["checkins"].count
    at = app({"is_logged_in": True, "email": "ceo@scout.example"}, viewers=["ceo@scout.example"])
    at.run()
    at.switch_page("pages/okrs.py")
    at.run()
    at.button(key=f"data-{kr}").click().run()
    assert not at.exception
    assert any("read-only access" in e.value for e in at.error)
    assert db["checkins"].count == before
