"""MDT meeting mode without a browser: the agenda's membership and order on a store crafted here,
decisions written back (and refused with a sentence), two writers at once, the minutes and the
agenda as documents, and `mdt-dashboard agenda`."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading

import pytest
from pypdf import PdfReader

import queries
from dashboard import cli, meeting, store
from tests.test_flags import AS_OF, day, insert, pain, patient, score

NEXT_WEEK = AS_OF + dt.timedelta(days=7)


def agenda_ids(st_: store.Store, when: dt.date = AS_OF) -> list[str]:
    cur = st_.cursor()
    try:
        return meeting.agenda(cur, when)["patient_id"].tolist()
    finally:
        cur.close()


def agenda_row(st_: store.Store, pid: str, when: dt.date = AS_OF) -> dict:
    cur = st_.cursor()
    try:
        rows = meeting.agenda(cur, when)
    finally:
        cur.close()
    return rows[rows["patient_id"] == pid].iloc[0].to_dict()


def recent_pain(pid: str) -> list[dict]:
    return pain(pid, {n: 5.0 for n in range(0, 7)})


@pytest.fixture
def crafted(tmp_path):
    """Patients whose place on the agenda is known by hand (review interval 28 days; the last
    review is the start of care unless a goal review says otherwise):

    A  safety flag (urgent), 0 review flags, 20 days in care (not due)       -> 1st
    B  PCS 30 + PSEQ 19: 2 review flags, 20 days in care                      -> 2nd
    C  PCS 31: 1 review flag, 38 days in care: 10 days overdue               -> 3rd
    D  PCS 32: 1 review flag, 30 days in care: 2 days overdue                -> 4th
    E  no flags, 28 days in care: due today (0 days overdue)                 -> 5th
    F  no flags, 27 days in care: due tomorrow                               -> not on it
    G  only an info flag (a medication started 3 days ago)                   -> not on it
    H  60 days in care, goal review 10 days ago, pain down 3 points          -> not on it
    I  discharged, 40 days since start, PCS 35                               -> not on it
    """
    st_ = store.open_store(tmp_path / "meeting.duckdb")
    with st_.write() as cur:
        insert(cur, {"clinicians": [
            dict(clinician_id="C1", name="Test Clinician", discipline="PT"),
            dict(clinician_id="C2", name="Other Clinician", discipline="PSY"),
        ]})  # fmt: skip
        for pid, start, extra in (
            ("A", 20, {"assessments": [score("A", 3, "PHQ9", 8, item9=1)]}),
            ("B", 20, {"assessments": [score("B", 3, "PCS", 30), score("B", 3, "PSEQ", 19)]}),
            ("C", 38, {"assessments": [score("C", 3, "PCS", 31)]}),
            ("D", 30, {"assessments": [score("D", 3, "PCS", 32)]}),
            ("E", 28, {}),
            ("F", 27, {}),
            (
                "G",
                20,
                {
                    "medications": [
                        dict(
                            patient_id="G",
                            drug="Drug",
                            start_date=day(3),
                            change="start",
                            drug_class="snri",
                        )
                    ]
                },
            ),  # fmt: skip
        ):
            insert(cur, {**patient(pid, start), "pain_ratings": recent_pain(pid), **extra})
        insert(cur, {
            **patient("H", 60),
            "pain_ratings": pain("H", {**{n: 8.0 for n in range(54, 61)},
                                       **{n: 5.0 for n in range(0, 7)}}),
            "goals": [dict(goal_id="H-G1", patient_id="H", domain="function", description="walk",
                           set_date=day(55))],
            "goal_reviews": [dict(goal_id="H-G1", date=day(10), attainment=0)],
        })  # fmt: skip
        discharged = patient("I", 40, status="discharged")
        discharged["patients"][0]["discharge_date"] = day(5)
        insert(cur, {**discharged, "pain_ratings": recent_pain("I"),
                     "assessments": [score("I", 8, "PCS", 35)]})  # fmt: skip
    yield st_
    st_.close()


def test_agenda_order_urgent_then_review_flags_then_days_overdue(crafted):
    assert agenda_ids(crafted) == ["A", "B", "C", "D", "E"]
    a, c, e = (agenda_row(crafted, p) for p in "ACE")
    assert (a["urgent_flags"], a["review_flags"], a["review_due"]) == (1, 0, False)
    assert (c["review_flags"], c["days_since_review"], c["days_overdue"]) == (1, 38, 10)
    assert list(c["on_agenda_because"]) == ["1 review flag", "review due"]
    assert (e["days_overdue"], list(e["on_agenda_because"])) == (0, ["review due"])
    cur = crafted.cursor()
    try:
        flags = meeting.flag_lists(cur, AS_OF, ["A", "B", "E"])
    finally:
        cur.close()
    assert [f["flag"] for f in flags["A"]] == ["safety"]
    assert [f["flag"] for f in flags["B"]] == ["catastrophizing", "low_self_efficacy"]
    assert "E" not in flags  # no flags: counted 0 on the agenda, nothing to list
    assert "flag_list" not in a  # the agenda counts flags; the rows shown ask for their lists


def test_added_by_hand_joins_in_order_and_only_once(crafted):
    assert meeting.add_patient(crafted, AS_OF, "H", "t") is True
    assert meeting.add_patient(crafted, AS_OF, "H", "t") is False
    assert agenda_ids(crafted) == ["A", "B", "C", "D", "E", "H"]
    assert list(agenda_row(crafted, "H")["on_agenda_because"]) == ["added by hand"]
    assert "H" not in agenda_ids(crafted, NEXT_WEEK)  # by hand means for that meeting only
    with pytest.raises(meeting.MeetingError, match="There is no patient 'Z9'"):
        meeting.add_patient(crafted, AS_OF, "Z9", "t")


def test_mark_reviewed_sets_the_last_review_so_the_patient_leaves_the_due_list(crafted):
    assert "E" in agenda_ids(crafted, NEXT_WEEK)  # 35 days since the start of care: due
    assert meeting.mark_reviewed(crafted, AS_OF, "E", "t") is True
    assert meeting.mark_reviewed(crafted, AS_OF, "E", "t") is False  # idempotent
    e = agenda_row(crafted, "E")  # still on this meeting's list, shown as reviewed
    assert (e["days_since_review"], e["review_due"]) == (0, False)
    assert e["reviewed_at"] is not None
    assert "E" not in agenda_ids(crafted, NEXT_WEEK)
    # The patient page reads the same last review.
    summary = queries.run(crafted.cursor(), "patient_summary", as_of=NEXT_WEEK, patient_ids=["E"])
    assert summary["last_review"].iloc[0].date() == AS_OF
    assert summary["last_review_kind"].iloc[0] == "MDT meeting"
    meeting.unmark_reviewed(crafted, AS_OF, "E", "t")
    assert "E" in agenda_ids(crafted, NEXT_WEEK)


def test_a_started_meeting_keeps_its_order(crafted):
    meeting.start(crafted, AS_OF, "t")
    meeting.start(crafted, AS_OF, "t")  # a second start changes nothing
    meeting.mark_reviewed(crafted, AS_OF, "C", "t")  # no longer overdue, but keeps its place
    with crafted.write() as cur:  # a new import gives E an urgent flag mid-meeting
        insert(cur, {"assessments": [score("E", 0, "PHQ9", 4, item9=2)]})
    meeting.add_patient(crafted, AS_OF, "H", "t")
    assert agenda_ids(crafted) == ["A", "B", "C", "D", "E", "H"]
    cur = crafted.cursor()
    fixed = cur.execute(
        "SELECT patient_id, position FROM review_items WHERE kind = 'agenda' ORDER BY position"
    ).fetchall()
    assert fixed == [("A", 1), ("B", 2), ("C", 3), ("D", 4), ("E", 5)]


def test_actions_are_carried_to_the_next_meeting_open_and_overdue(crafted):
    item = meeting.add_action(
        crafted, AS_OF, "C", "Refer to sleep clinic", "C2", AS_OF + dt.timedelta(days=3), "t"
    )
    meeting.add_action(crafted, AS_OF, "C", "Review medication", "C1", NEXT_WEEK, "t")
    now = agenda_row(crafted, "C")
    assert (now["open_actions"], now["overdue_actions"]) == (2, 0)
    later = agenda_row(crafted, "C", NEXT_WEEK)
    assert (later["open_actions"], later["overdue_actions"]) == (2, 1)
    cur = crafted.cursor()
    version = cur.execute("SELECT version FROM review_items WHERE item_id = ?", [item]).fetchone()[
        0
    ]
    meeting.set_action_status(crafted, item, version, "done", "browser 1")
    later = agenda_row(crafted, "C", NEXT_WEEK)
    assert (later["open_actions"], later["overdue_actions"]) == (1, 0)
    # A second window that still shows the old version is told, not applied over the first.
    with pytest.raises(meeting.MeetingError, match="changed in another window.*'done'.*browser 1"):
        meeting.set_action_status(crafted, item, version, "cancelled", "browser 2")


@pytest.mark.parametrize(
    "args, message",
    [
        (("  ", "C1", AS_OF), "The action is empty"),
        (("Call", "C9", AS_OF), "There is no clinician 'C9'"),
        (("Call", "C1", AS_OF - dt.timedelta(days=1)), "is before the meeting"),
        (("x" * 2001, "C1", AS_OF), "has 2,001 characters"),
    ],
)
def test_a_bad_action_is_refused_with_a_sentence_and_nothing_is_written(crafted, args, message):
    with pytest.raises(meeting.MeetingError, match=message):
        meeting.add_action(crafted, AS_OF, "C", *args, "t")
    assert crafted.cursor().execute("SELECT count(*) FROM review_items").fetchone() == (0,)


def test_two_writers_at_once_lose_nothing(crafted):
    """Two browser sessions share the server's one store: each writes 20 actions and 20 notes
    and marks the same patient reviewed, at the same time."""
    errors = []
    start = threading.Barrier(2)

    def session(name: str) -> None:
        try:
            start.wait()
            for i in range(20):
                meeting.add_action(crafted, AS_OF, "B", f"{name} action {i}", "C1", NEXT_WEEK, name)
                meeting.add_note(crafted, AS_OF, "B", f"{name} note {i}", name)
                meeting.mark_reviewed(crafted, AS_OF, "B", name)
        except Exception as e:  # pragma: no cover - the assertion below shows it
            errors.append(e)

    threads = [threading.Thread(target=session, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    cur = crafted.cursor()
    counts = dict(cur.execute("SELECT kind, count(*) FROM review_items GROUP BY kind").fetchall())
    assert counts == {"action": 40, "note": 40, "reviewed": 1}
    texts = {
        r[0]
        for r in cur.execute("SELECT action FROM review_items WHERE kind = 'action'").fetchall()
    }
    assert texts == {f"{n} action {i}" for n in ("one", "two") for i in range(20)}


def test_minutes_list_what_was_decided_and_are_masked_in_privacy_mode(sample_db):
    st_ = store.open_store(sample_db)
    try:
        meeting.save_details(st_, AS_OF, ["C01", "C02"], 5, "t")
        meeting.start(st_, AS_OF, "t")
        meeting.add_note(st_, AS_OF, "P0006", "Safety plan reviewed with Finley today", "t")
        meeting.add_action(st_, AS_OF, "P0006", "Call GP about sleep", "C02", NEXT_WEEK, "t")
        meeting.mark_reviewed(st_, AS_OF, "P0006", "t")
        meeting.record_time(st_, AS_OF, "P0046", 90, "t")
        open_ = meeting.minutes_document(st_, AS_OF, privacy_mode=False)
        private = meeting.minutes_document(st_, AS_OF, privacy_mode=True)
        names = dict(st_.cursor().execute("SELECT clinician_id, name FROM clinicians").fetchall())
        pdf_text = " ".join(
            p.extract_text() for p in PdfReader(io.BytesIO(meeting.render(private, "pdf"))).pages
        )
    finally:
        st_.close()
    first = open_.body["patients"][0]
    assert [p["patient_id"] for p in open_.body["patients"]] == ["P0006", "P0046"]
    assert first["notes"] == ["Safety plan reviewed with Finley today"]
    assert first["actions"] == [
        {"action": "Call GP about sleep", "owner": names["C02"], "due_date": NEXT_WEEK.isoformat(),
         "status": "open"}
    ]  # fmt: skip
    assert first["reviewed_in_meeting"] and open_.body["patients"][1]["minutes_discussed"] == 1.5
    assert len(open_.body["attendees"]) == 2 and open_.body["reviewed"] == 1
    md_open = meeting.render(open_, "md").decode()
    assert "Finley Example (P0006)" in md_open and "Safety plan reviewed" in md_open
    assert "item 9" in md_open  # the safety reason, in full, when privacy mode is off
    for text in (meeting.render(private, "md").decode(), pdf_text):
        assert "F.E. ·0006" in text and "Finley Example" not in text
        assert "Safety plan" not in text and "1 decision note, hidden in privacy mode" in text
        assert "safety flag: see record" in text and "item 9" not in text
        assert "Call GP about sleep" in text and "privacy mode" in text


def test_cli_agenda_prints_the_same_agenda_in_the_same_order(sample_db, capsys, tmp_path):
    assert cli.main(["agenda", "--format", "json", "--as-of", AS_OF.isoformat(),
                     "--db", str(sample_db)]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    st_ = store.open_store(sample_db)
    try:
        ids = agenda_ids(st_)
        audit = st_.cursor().execute("SELECT actor, action FROM audit_log").fetchall()
    finally:
        st_.close()
    assert [p["patient_id"] for p in printed["patients"]] == ids
    assert printed["patients"][0]["patient_id"] == "P0006"  # the one urgent flag
    first = printed["patients"][0]
    assert first["name"] == "Finley Example"
    safety = first["flags"][0]
    assert (safety["rule"], safety["level"], safety["values"]["item9"]) == ("safety", "urgent", 1)
    assert {"days_overdue", "days_since_review", "review_due"} <= set(first)
    reviews = [p["review_flags"] for p in printed["patients"][1:]]
    assert reviews == sorted(reviews, reverse=True)
    assert audit == [("cli", "export_agenda")]

    assert cli.main(["agenda", "--private", "--as-of", AS_OF.isoformat(),
                     "--db", str(sample_db)]) == 0  # fmt: skip
    md = capsys.readouterr().out
    assert "| 1 | P0006 | F.E. ·0006 |" in md and "Finley Example" not in md and "item9" not in md
    out = tmp_path / "agenda.pdf"
    assert cli.main(["agenda", "--format", "pdf", "--as-of", AS_OF.isoformat(),
                     "--db", str(sample_db), "--out", str(out)]) == 0  # fmt: skip
    assert out.read_bytes().startswith(b"%PDF")
    assert f"Wrote the agenda for {AS_OF} ({len(ids)} patients)" in capsys.readouterr().out
    # The PDF's flags column says what it holds: each flag's level, name and reason (it said
    # 'rule and values', which only the Markdown gives).
    pdf = " ".join(p.extract_text() for p in PdfReader(out).pages)
    assert "flags (level · flag: reason)" in " ".join(pdf.split())
    assert "urgent · Safety:" in pdf and "rule and values" not in pdf


def test_an_agenda_of_one_patient_says_1_patient(sample_db, capsys, tmp_path):
    """23 May 2026, the first day of care of the first patient, the only one on the agenda (it
    read '1 patients')."""
    day = "2026-05-23"
    assert cli.main(["agenda", "--as-of", day, "--db", str(sample_db)]) == 0
    assert "\n1 patient. Order: urgent first" in capsys.readouterr().out
    out = tmp_path / "agenda.json"
    assert cli.main(["agenda", "--format", "json", "--as-of", day, "--db", str(sample_db),
                     "--out", str(out)]) == 0  # fmt: skip
    assert len(json.loads(out.read_text())["patients"]) == 1
    assert f"Wrote the agenda for {day} (1 patient)" in capsys.readouterr().out


def test_cli_agenda_while_the_store_is_busy_points_to_the_page(sample_db, capsys):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(sample_db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli.main(["agenda", "--db", str(sample_db)]) == 1
    finally:
        holder.kill()
    err = capsys.readouterr().err
    assert "in use by another program" in err and "Meeting page" in err
