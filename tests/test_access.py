"""Access policy: with sign-in on, only listed editors write; everything else reads."""

import pytest

from growthlab.access import AccessConfigError, ReadOnlyError, from_config, normalise

ODD_SPELLINGS = ["CEO@Scout.Example", "  ceo@scout.example  ", "ceo@scout.example\u200b",
                 "ceo@scout.example.", "\u200bCeo@SCOUT.example. ", "ｃｅｏ@scout.example"]


@pytest.mark.parametrize("email", ODD_SPELLINGS)
def test_a_listed_viewer_spelled_oddly_is_still_a_viewer(email):
    assert normalise(email) == "ceo@scout.example"
    for section in ({"viewers": ["ceo@scout.example"]},
                    {"editors": ["@scout.example"], "viewers": ["Ceo@scout.example "]}):
        access = from_config(section, sign_in=True)
        assert not access.may_write(email)
        with pytest.raises(ReadOnlyError, match="read-only"):
            access.check_writer({"email": email})


@pytest.mark.parametrize("email", ["maya@scout.example", " MAYA@scout.example.",
                                   "maya@scout.example\u200d"])
def test_listed_editors_write_under_one_normalised_name(email):
    access = from_config({"editors": ["Maya@Scout.example"]}, sign_in=True)
    assert access.check_writer({"email": email}) == "maya@scout.example"


def test_deny_by_default():
    editors_only = from_config({"editors": ["maya@scout.example", "@partner.example"]},
                               sign_in=True)
    assert editors_only.may_write("anna@partner.example")
    assert not editors_only.may_write("someone@scout.example")
    assert not editors_only.may_write("anna@evil-partner.example")
    assert not editors_only.may_write("anna@partner.example.evil.com")
    assert not from_config({}, sign_in=True).may_write("maya@scout.example")
    assert not from_config(None, sign_in=True).may_write("maya@scout.example")


def test_older_viewers_only_configuration_still_works():
    access = from_config({"viewers": ["ceo@scout.example"]}, sign_in=True)
    assert access.may_write("maya@scout.example") and not access.may_write("ceo@scout.example")


@pytest.mark.parametrize("identity", [{}, {"name": "Maya"}, {"email": ""}, {"email": None},
                                      {"email": ["maya@scout.example"]},
                                      {"email": "maya@scout.example", "email_verified": False}])
def test_an_identity_without_a_usable_email_cannot_write(identity):
    access = from_config({"viewers": []}, sign_in=True)
    with pytest.raises(ReadOnlyError):
        access.check_writer(identity)


def test_without_sign_in_everyone_is_the_local_user():
    assert from_config({}, sign_in=False).check_writer({}, local="maya") == "maya"


@pytest.mark.parametrize("section,message", [
    ({"viewers": "ceo@scout.example"}, "viewers must be a list of e-mails, not str"),
    ({"editors": "maya@scout.example"}, "editors must be a list"),
    ({"editors": ["maya@scout.example", 42]}, "entry 2 \\(42\\) is not text"),
    ({"editors": ["maya"]}, "entry 1 \\('maya'\\) is neither an e-mail"),
    ({"viewers": [["ceo@scout.example"]]}, "entry 1"),
    ("editors", "must be a table"),
])
def test_a_misconfigured_list_is_refused_with_a_clear_message(section, message):
    with pytest.raises(AccessConfigError, match=message):
        from_config(section, sign_in=True)


@pytest.mark.parametrize("claim", ["false", "False", 0, None, "no", ""])
def test_an_email_not_marked_verified_cannot_write(claim):
    access = from_config({"editors": ["@scout.example"]}, sign_in=True)
    with pytest.raises(ReadOnlyError):
        access.check_writer({"email": "maya@scout.example", "email_verified": claim})


@pytest.mark.parametrize("claim", [True, "true", "TRUE"])
def test_an_email_marked_verified_or_without_the_claim_writes(claim):
    access = from_config({"editors": ["@scout.example"]}, sign_in=True)
    for identity in ({"email": "maya@scout.example", "email_verified": claim},
                     {"email": "maya@scout.example"}):
        assert access.check_writer(identity) == "maya@scout.example"


@pytest.mark.parametrize("email", ["ce\u034fo@scout.example", "ceo@scout.example\ufe0f",
                                   "ce\u3164o@scout.example", "ce\u115fo@scout.example",
                                   "ce\u2800o@scout.example", "@scout.example",
                                   "a@b.net@scout.example", "ceo@", "ceo"])
def test_an_email_with_hidden_characters_or_a_bad_shape_only_reads(email):
    access = from_config({"editors": ["@scout.example", "a@b.net"]}, sign_in=True)
    assert not access.may_write(email)
    with pytest.raises(ReadOnlyError):
        access.check_writer({"email": email})


def test_sharp_s_is_not_folded_into_ss():
    assert not from_config({"editors": ["@strasse.example"]}, sign_in=True).may_write(
        "x@straße.example")
    assert from_config({"editors": ["@straße.example"]}, sign_in=True).may_write(
        "X@Straße.example")


def test_with_sign_in_the_scorer_is_the_signed_in_editor_not_the_typed_name():
    signed = from_config({"editors": ["@scout.example"]}, sign_in=True)
    assert signed.scorer({"email": "Maya@scout.example"}, "priya@scout.example") == \
        "maya@scout.example"
    with pytest.raises(ReadOnlyError):
        signed.scorer({"email": "someone@else.example"}, "priya@scout.example")
    assert from_config({}, sign_in=False).scorer({}, " Priya ") == "Priya"
