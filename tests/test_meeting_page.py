"""The MDT meeting page through AppTest on the sample store: privacy on by default and turned off
only with a confirmation that is audited; presenting, deciding and marking reviewed; decisions
that survive a new session and a reopened store; two sessions writing at once."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import html
import re

import pytest
from streamlit.testing.v1 import AppTest

import queries
from dashboard import components, meeting, privacy, store
from tests.conftest import AS_OF, ROOT, SAMPLE_DATA
from tests.test_patient_page import hand_summary

CHIP_NAME = re.compile(
    r'<span class="mdt-icon" aria-hidden="true">\w+</span>(.*?)<span class="mdt-tip"'
)

APP = str(ROOT / "dashboard" / "app.py")
FIRST = "P0006"  # the one urgent flag (safety) in the sample data: first on the agenda


@pytest.fixture
def meeting_page(sample_db, monkeypatch):
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())

    def open_meeting(**params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        at.switch_page("../pages/meeting.py").run()
        assert not at.exception, at.exception
        return at

    yield open_meeting
    components.open_store.clear()
    gc.collect()


def html_text(value: str) -> str:
    """What an HTML element shows as text (the agenda's rows, the chips and their hover text):
    tags dropped, entities read, style and script left out."""
    value = re.sub(r"<(style|script)\b.*?</\1>", "", value, flags=re.S)
    return html.unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", " ", value)))


def page_text(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "header", "title", "subheader", "caption",
                                  "info", "warning", "error", "success")
             for e in getattr(at, kind)]  # fmt: skip
    parts += [html_text(e.value) for e in at.html]
    return "\n".join(str(p) for p in parts)


def reopen_store(db) -> store.Store:
    """Close the server's store as a restart would, and open the file afresh."""
    components.open_store.clear()
    gc.collect()
    return store.open_store(db)


def test_privacy_is_on_by_default_and_off_only_after_a_confirmation_that_is_audited(
    meeting_page, sample_db
):
    at = meeting_page(privacy_mode="false")  # a link cannot switch it off here
    assert at.sidebar.toggle(key="privacy_mode").value is True
    assert "Privacy mode is on" in page_text(at)
    assert "Finley Example" not in page_text(at) and "F.E. ·0006" in page_text(at)

    at.sidebar.toggle(key="privacy_mode").set_value(False).run()
    assert at.sidebar.toggle(key="privacy_mode").value is True  # not yet
    assert "Turn privacy mode off on the shared screen?" in page_text(at)
    at.button(key="privacy_off_cancel").click().run()
    assert at.sidebar.toggle(key="privacy_mode").value is True
    assert "Turn privacy mode off" not in page_text(at)

    at.sidebar.toggle(key="privacy_mode").set_value(False).run()
    at.button(key="privacy_off_confirm").click().run()
    assert at.sidebar.toggle(key="privacy_mode").value is False
    text = page_text(at)
    assert "Privacy mode is off on the shared screen" in text and "Finley Example" in text
    assert "PHQ-9 item 9" in text  # a safety flag's reason, in its chip's hover text

    at.sidebar.toggle(key="privacy_mode").set_value(True).run()  # back on: no question asked
    assert at.sidebar.toggle(key="privacy_mode").value is True
    text = page_text(at)  # the chips made with privacy off are not shown again
    assert "Finley Example" not in text and "PHQ-9 item 9" not in text
    assert f"Safety (urgent): {privacy.SAFETY_MASK}" in text
    st_ = reopen_store(sample_db)
    try:
        audit = st_.cursor().execute("SELECT action, detail FROM audit_log ORDER BY ts").fetchall()
    finally:
        st_.close()
    assert [a for a, _ in audit] == ["privacy_off", "privacy_on"]
    assert audit[0][1] == (
        f"meeting {AS_OF}: privacy mode turned off on the shared screen, after confirmation"
    )


def test_present_decide_mark_reviewed_and_find_it_all_after_a_restart(meeting_page, sample_db):
    at = meeting_page()
    agenda_size = int(at.metric[0].value)
    at.button[0].click().run()  # "Start the meeting"
    assert at.query_params["patient"] == FIRST
    assert at.get("progress")[0].proto.text == f"**1 of {agenda_size}**"
    assert at.header[0].value == "F.E. ·0006"

    at.text_input(key="action_text").set_value("Call GP about sleep medication")
    at.selectbox(key="action_owner").set_value("C02")
    at.button(key="FormSubmitter:action-Add action").click().run()
    at.text_area(key="note_text").set_value("Safety plan in place; reviewed with the patient")
    at.button(key="FormSubmitter:note-Save note").click().run()
    buttons = {b.label: b for b in at.button}
    buttons["Mark reviewed"].click().run()
    text = page_text(at)
    assert "Call GP about sleep medication" in text
    assert "Reviewed in this meeting" in text
    assert "Saved: 1 decision note, hidden in privacy mode." in text
    assert "Safety plan in place" not in text
    {b.label: b for b in at.button}["Next"].click().run()
    assert at.get("progress")[0].proto.text == f"**2 of {agenda_size}**"

    # A restart: the server's store is closed, the file reopened, a new session starts.
    st_ = reopen_store(sample_db)
    try:
        rows = (
            st_.cursor()
            .execute(
                "SELECT kind, patient_id, action, owner_clinician_id, status FROM review_items "
                "WHERE kind IN ('action', 'note', 'reviewed') ORDER BY kind"
            )
            .fetchall()
        )
    finally:
        st_.close()
    assert rows == [
        ("action", FIRST, "Call GP about sleep medication", "C02", "open"),
        ("note", FIRST, None, None, None),
        ("reviewed", FIRST, None, None, None),
    ]
    again = meeting_page(patient=FIRST)
    text = page_text(again)
    assert "Call GP about sleep medication" in text and "Reviewed in this meeting" in text
    agenda = meeting_page()
    assert "reviewed ✓" in page_text(agenda)
    assert f"1 of {agenda_size} marked reviewed" in page_text(agenda)


def test_two_sessions_add_actions_to_the_same_patient_and_both_are_kept(meeting_page):
    one = meeting_page(patient=FIRST)
    two = meeting_page(patient=FIRST)
    for at, what in ((one, "Physio: pacing plan"), (two, "Psychology: sleep hygiene")):
        at.text_input(key="action_text").set_value(what)
    one.button(key="FormSubmitter:action-Add action").click().run()
    two.button(key="FormSubmitter:action-Add action").click().run()
    assert not one.exception and not two.exception
    third = meeting_page(patient=FIRST)
    text = page_text(third)
    assert "Physio: pacing plan" in text and "Psychology: sleep hygiene" in text


def test_a_decision_note_shows_with_the_time_it_was_saved_in_utc(meeting_page, sample_db):
    """With privacy mode off, a saved note reads with its time and the zone the store keeps
    times in ('09:41 UTC'), as the meeting's start time does; a bare '09:41' read as local."""
    at = meeting_page(patient=FIRST)
    at.sidebar.toggle(key="privacy_mode").set_value(False).run()
    at.button(key="privacy_off_confirm").click().run()
    at.text_area(key="note_text").set_value("Refer to sleep clinic")
    at.button(key="FormSubmitter:note-Save note").click().run()
    assert not at.exception, at.exception
    st_ = reopen_store(sample_db)
    try:
        (saved,) = (
            st_.cursor()
            .execute("SELECT created_at FROM review_items WHERE kind = 'note'")
            .fetchone()
        )
    finally:
        st_.close()
    assert f"- Refer to sleep clinic  \n  :gray[{saved:%H:%M} UTC]" in [
        m.value for m in at.markdown
    ]


def test_a_stale_status_change_is_refused_in_a_sentence(meeting_page):
    one = meeting_page(patient=FIRST)
    one.text_input(key="action_text").set_value("Refer to pain clinic")
    one.button(key="FormSubmitter:action-Add action").click().run()
    two = meeting_page(patient=FIRST)
    one.run()
    status_one = next(s for s in one.selectbox if s.key and s.key.startswith("status_"))
    status_two = next(s for s in two.selectbox if s.key and s.key.startswith("status_"))
    status_one.set_value("done").run()
    status_two.set_value("cancelled").run()
    errors = [e.value for e in two.error]
    assert any("changed in another window (it is now 'done'" in e for e in errors), errors
    fresh = meeting_page(patient=FIRST)
    status = next(s for s in fresh.selectbox if s.key and s.key.startswith("status_"))
    assert status.value == "done"


def test_an_unknown_patient_in_the_link_shows_the_agenda_with_a_sentence(meeting_page):
    """On the shared screen (privacy mode, the meeting's default) the link's value is not
    repeated: a link can hold a name."""
    at = meeting_page(patient="Noel Example")
    assert (
        "There is no patient with the id in this link on the agenda for 20 Nov 2026; showing "
        "the agenda." in page_text(at)
    )
    assert "Noel" not in page_text(at)
    assert at.title[0].value.startswith("MDT meeting")


def test_a_patient_is_added_by_hand_from_the_list_or_on_a_network_by_search(
    meeting_page, monkeypatch
):
    at = meeting_page()
    on_agenda = int(at.metric[0].value)
    listed = at.selectbox(key="add_patient").options
    assert len(listed) == 48 - on_agenda  # everyone not on the agenda, by alias (privacy on)
    assert all("Example" not in o and "Sample" not in o for o in listed)
    assert not at.text_input  # a store this size needs no search box
    last = listed[-1]  # e.g. 'A.E. ·0001 (P0001)'
    pid = last[last.rindex("(") + 1 : -1]

    monkeypatch.setattr(components, "LIST_ALL_UP_TO", 10)  # as on a network's store
    monkeypatch.setattr(components, "SEARCH_SHOWS", 5)
    at = meeting_page()
    assert len(at.selectbox(key="add_patient").options) <= 5
    at.text_input(key="add_find").input(pid.lower()).run()
    assert at.selectbox(key="add_patient").options == [last]
    assert "1 patient matches" in page_text(at)
    at.selectbox(key="add_patient").set_value(pid)
    [b for b in at.button if b.label == "Add to agenda"][0].click().run()
    assert not at.exception
    assert f"{pid} added to the agenda." in page_text(at)
    assert int(at.metric[0].value) == on_agenda + 1


def test_each_agenda_row_and_the_presenter_show_that_patients_flags(meeting_page, sample_db):
    """The agenda counts flags; the rows drawn ask for their own flag lists. Every chip drawn,
    in row order, is the flags the store computes for that patient, most urgent first."""
    st_ = store.open_store(sample_db, read_only=True)
    try:
        cur = st_.cursor()
        order = cur.execute(
            "SELECT patient_id FROM (" + queries.sql("meeting_agenda") + ") ORDER BY position",
            {"as_of": AS_OF, "meeting_id": AS_OF.isoformat(), "patient_ids": None},
        ).fetchall()
        flags = queries.run(cur, "patient_flags", as_of=AS_OF, patient_ids=None)
    finally:
        st_.close()
    shown = [pid for (pid,) in order][:40]
    expected = [
        name for pid in shown for name in flags.loc[flags.patient_id == pid, "name"].tolist()
    ]
    at = meeting_page()
    chips = [html.unescape(name) for h in at.html for name in CHIP_NAME.findall(h.value)]
    assert len(shown) > 5 and len(expected) > len(shown)  # several rows, several flags a row
    assert chips == expected

    at.button(key=f"present_{shown[1]}").click().run()  # the second on the agenda, presented
    assert at.query_params["patient"] == shown[1]
    callouts = [
        re.match(r"\*\*(.+?)\*\* \((urgent|review|info)\)", str(e.value))
        for kind in ("error", "warning", "info")
        for e in getattr(at, kind)
    ]
    own = flags.loc[flags.patient_id == shown[1], "name"].tolist()
    assert own and sorted(m.group(1) for m in callouts if m) == sorted(own)


def test_on_a_first_day_of_care_stale_data_has_no_date_and_the_agenda_opens(
    meeting_page, monkeypatch
):
    """P0001 starts on 01 Jun 2026 (patients.csv) with questionnaires but no pain rating or
    session yet: their stale-data flag has no date, and its chip says so rather than failing
    the whole agenda (it raised 'NaTType does not support strftime')."""
    with open(SAMPLE_DATA / "patients.csv", encoding="utf-8") as fh:
        first = next(r["start_date"] for r in csv.DictReader(fh) if r["patient_id"] == "P0001")
    assert first == "2026-06-01"
    monkeypatch.setenv("MDT_AS_OF", first)
    at = meeting_page()
    tips = [
        html.unescape(t)
        for h in at.html
        for t in re.findall(r'<span class="mdt-tip" role="tooltip">(.*?)</span>', h.value)
    ]
    stale = [t for t in tips if t.startswith("Stale data (info)")]
    assert stale == [
        "Stale data (info): no pain rating or session in the last 14 days (last pain rating "
        "never, last session never). Rule: no pain rating or session in the last 14 days "
        "(active patients). Source: shared/MEASURES.md (flags)"
    ]
    assert any("Date: 01 Jun 2026" in t for t in tips)  # the dated flags keep their date


def test_the_presenters_goals_say_none_reviewed_rather_than_0_of_0(meeting_page, sample_db):
    """P0043 has two goals and no review by the as-of date: the presenter says so; P0006's
    reviewed goals are counted as the summary counts them."""
    st_ = store.open_store(sample_db, read_only=True)
    try:
        summary = queries.run(st_.cursor(), "patient_summary", as_of=AS_OF,
                              patient_ids=["P0043", FIRST]).set_index("patient_id")  # fmt: skip
    finally:
        st_.close()
    assert summary.loc["P0043", "goals"] == 2 and summary.loc["P0043", "goals_reviewed"] == 0
    goals = {m.label: m for m in meeting_page(patient="P0043").metric}["Goals on track"]
    assert (goals.value, goals.delta) == ("—", "none reviewed yet")  # '0 of 0' said nothing
    first = summary.loc[FIRST]
    goals = {m.label: m for m in meeting_page(patient=FIRST).metric}["Goals on track"]
    assert first.goals_reviewed > 0
    assert goals.value == f"{first.goals_on_track} of {first.goals_reviewed}"


def test_the_presenter_says_none_for_a_patient_with_no_rating_in_the_last_7_days(
    meeting_page, sample_db
):
    """A patient on the agenda whose last 7 days have no pain rating: the value is a word that
    fits its column ('no rating' did not, in the shared screen's type), and the delta says why."""
    st_ = store.open_store(sample_db)
    try:
        with st_.write() as w:
            w.execute(
                "DELETE FROM pain_ratings WHERE patient_id = ? AND CAST(ts AS DATE) > ?",
                [FIRST, AS_OF - dt.timedelta(days=7)],
            )
            store.refresh_derived(w, None)
    finally:
        st_.close()
    pain = {m.label: m for m in meeting_page(patient=FIRST).metric}["Pain now (NRS)"]
    assert (pain.value, pain.delta) == ("none", "no rating in 7 days")


def test_a_chip_shows_its_level_and_name_and_its_reason_only_as_text_masked_in_privacy_mode():
    """The agenda's chips: a chip per flag in order, its level's colour, the reason as its hover
    text; text from the store is escaped, and a safety flag's reason is not there in privacy mode."""
    safety = {"flag": "safety", "name": "Safety", "level": "urgent", "flag_date": "2026-11-02",
              "reason": "PHQ-9 item 9 = 2 on 02 Nov 2026 (above 0)", "rule": "item 9 > 0",
              "source": "MEASURES.md"}  # fmt: skip
    drug = {**safety, "flag": "medication_change", "name": "Medication <b>change</b>",
            "level": "review", "reason": "gabapentin <script>x</script> increase on 01 Nov"}  # fmt: skip
    masked = components.chips_html([safety, drug], privacy_mode=True)
    assert [html.unescape(n) for n in CHIP_NAME.findall(masked)] == [
        "Safety",
        "Medication <b>change</b>",
    ]
    assert re.findall(r'class="mdt-chip mdt-(\w+)"', masked) == ["urgent", "review"]
    tips = re.findall(r'<span class="mdt-tip" role="tooltip">(.*?)</span>', masked)
    assert html.unescape(tips[0]) == f"Safety (urgent): {privacy.SAFETY_MASK}"
    assert "PHQ-9" not in masked and "<script>" not in masked and "<b>" not in masked
    assert html.unescape(tips[1]).startswith(
        "Medication <b>change</b> (review): gabapentin <script>"
    )
    shown = components.chips_html([safety], privacy_mode=False)
    assert (
        "PHQ-9 item 9 = 2 on 02 Nov 2026 (above 0). Rule: item 9 &gt; 0. Date: 02 Nov 2026" in shown
    )


def row_cells(row_html: str) -> list[str]:
    """An agenda row's six cells (its grid's top-level cells) as text."""
    cells = re.findall(r"<div>(.*?)</div>(?=<div>|</div>$)", row_html)
    return [" ".join(html_text(c).split()) for c in cells]


def agenda_cells(at: AppTest) -> list[list[str]]:
    """Each agenda row's six cells as text, in the order drawn (the headings' grid left out)."""
    rows = [h.value for h in at.html if h.value.startswith('<div class="mdt-agenda-grid">')]
    return [row_cells(r) for r in rows]


def test_each_agenda_row_reads_its_patient_clinician_pain_review_and_actions(
    meeting_page, sample_db
):
    """The rows' text cells, in the agenda's order, are what the agenda query gives each patient:
    the place and masked name, the clinician, the pain baseline to now, the days since review and
    when it is due, the open actions."""
    st_ = store.open_store(sample_db, read_only=True)
    try:
        rows = queries.run(st_.cursor(), "meeting_agenda", as_of=AS_OF,
                           meeting_id=AS_OF.isoformat(), patient_ids=None)  # fmt: skip
    finally:
        st_.close()
    cells = agenda_cells(meeting_page())
    assert len(cells) == min(len(rows), 40) > 5
    for got, r in zip(cells, rows.head(40).to_dict("records"), strict=True):
        assert got[0] == f"{r['position']} · " + privacy.patient_display(
            r["name"], r["patient_id"], True
        )
        assert got[1] == r["primary_clinician"]
        assert got[3] == meeting.pain_text(r["baseline_nrs"], r["current_nrs"])
        assert got[4] == f"{r['days_since_review']} d {meeting.due_text(r['days_overdue'])}"
        assert got[5] == str(r["open_actions"])
    overdue = rows[rows.days_overdue > 0].head(1).to_dict("records")
    assert overdue and overdue[0]["position"] <= 40  # a review overdue among the rows drawn
    row = cells[overdue[0]["position"] - 1]
    assert "review due" in row[2] and row[4].endswith("overdue")


def test_an_agenda_row_escapes_what_the_store_gives_and_names_reviewed_and_overdue():
    """A clinician's name with markup is shown as text; a reviewed patient says so; overdue
    actions are counted beside the open ones; no flags says 'no flags'."""
    row = components.agenda_row_html(
        patient="3 · A.B. ·0001", reviewed=True, clinician="Dr <b>Bold</b> & Co", chips="",
        because="added by hand", pain="6.0 → 4.0 ↓ -2.0", since_review="30 d",
        due="2 days overdue", open_actions=3, overdue_actions=2,
    )  # fmt: skip
    assert "<b>" not in row and "Dr &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in row
    assert row_cells(row) == [
        "3 · A.B. ·0001 reviewed ✓",
        "Dr <b>Bold</b> & Co",
        "no flags added by hand",
        "6.0 → 4.0 ↓ -2.0",
        "30 d 2 days overdue",
        "3 2 overdue",
    ]


def test_the_presenter_says_when_pain_has_not_changed_and_when_the_next_milestone_is_overdue(
    meeting_page,
):
    """P0011's pain is 5.3 at baseline and now (the agenda says 'no change', the presenter ±0.0 in
    grey: not a red '+0.0' or '→ +0.0'), and their next
    milestone (the earliest due not achieved by the as-of date, from the CSV) is overdue;
    P0007's is not due yet."""
    summary = hand_summary("P0011")
    assert summary["baseline"] == summary["current"] == 5.3
    due = {}
    with open(SAMPLE_DATA / "milestones.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["due_date"] and not (r["achieved_date"] and r["achieved_date"] <= str(AS_OF)):
                due.setdefault(r["patient_id"], []).append((r["due_date"], r["description"]))
    agenda = page_text(meeting_page())
    assert "5.3 → 5.3, no change" in agenda and "→ +0.0" not in agenda
    at = meeting_page(patient="P0011")
    pain = {m.label: m for m in at.metric}["Pain now (NRS)"]
    assert (pain.value, pain.delta) == ("5.3", "±0.0 from 5.3")
    when, what = min(due["P0011"])
    assert when < str(AS_OF)
    assert f"next: {what} (**overdue**, due {dt.date.fromisoformat(when):%d %b})" in page_text(at)
    when, what = min(due["P0007"])
    assert when >= str(AS_OF)
    text = page_text(meeting_page(patient="P0007"))
    assert f"next: {what} (due {dt.date.fromisoformat(when):%d %b})" in text


def test_the_presenter_counts_one_milestone_and_one_peer_session_in_the_singular(
    meeting_page, sample_db
):
    """P0006 has three milestones and no peer-group session in the 4 weeks before their latest
    social-support record: '0 of 3 milestones', '0 sessions'. With one of each, the presenter
    says '1 milestone' and '1 session' ('0 of 1 milestones', '1 sessions' before)."""
    text = page_text(meeting_page(patient=FIRST))
    assert re.search(r"- \d of 3 milestones achieved", text)
    assert "peer group: 0 sessions in 4 weeks" in text
    st_ = reopen_store(sample_db)
    try:
        with st_.write() as w:
            w.execute(
                "DELETE FROM milestones WHERE patient_id = ? AND milestone_id <> "
                "(SELECT min(milestone_id) FROM milestones WHERE patient_id = ?)",
                [FIRST, FIRST],
            )
            w.execute(
                "UPDATE social_support SET peer_group_sessions = 1 WHERE patient_id = ? AND "
                "date = (SELECT max(date) FROM social_support WHERE patient_id = ? AND date <= ?)",
                [FIRST, FIRST, AS_OF],
            )
            store.refresh_derived(w, None)
    finally:
        st_.close()
    text = page_text(meeting_page(patient=FIRST))
    assert re.search(r"- \d of 1 milestone achieved", text)
    assert "peer group: 1 session in 4 weeks" in text
