"""Lead import parsing on a corpus of messy files generated here (no AWS)."""

from __future__ import annotations

import codecs
import json

import pytest

from pivotr.domain import importing
from pivotr.errors import ApiError

NOW = "2026-11-25T00:00:00.000Z"


def parse(data: bytes | str, content_type: str = "text/csv") -> importing.ParsedImport:
    return importing.parse(data.encode() if isinstance(data, str) else data, content_type, NOW)


def test_loose_headers_extra_columns_and_tags() -> None:
    csv_text = ("E-mail Address,First Name,Surname,Organisation,Tags,Plan Tier,\n"
                "Asha@Example.com,Asha,Rao,Rao & Co,beta; india,Pro,ignored\n")
    [lead] = parse(csv_text).leads
    assert lead["email"] == "asha@example.com"
    assert (lead["firstName"], lead["lastName"], lead["company"]) == ("Asha", "Rao", "Rao & Co")
    assert lead["tags"] == ["beta", "india"]
    assert lead["customAttributes"] == {"planTier": "Pro", "column7": "ignored"}


def test_cells_past_the_header_are_kept_as_numbered_attributes() -> None:
    [lead] = parse("email,company\na@example.com,Acme,extra\n").leads
    assert lead["customAttributes"] == {"column3": "extra"}


@pytest.mark.parametrize("encode", [
    lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    lambda t: t.encode("utf-8"),
    lambda t: t.encode("utf-16"),  # with BOM
    lambda t: t.encode("cp1252"),  # legacy single-byte
], ids=["utf8-bom", "utf8", "utf16-bom", "cp1252"])
def test_encodings(encode) -> None:
    [lead] = parse(encode("email,first_name\njose@example.com,José\n")).leads
    assert lead["firstName"] == "José"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(delimiter: str) -> None:
    text = delimiter.join(["Email", "Company"]) + "\n" + delimiter.join(["a@example.com", "Acme, Inc"]) + "\n"
    if delimiter == ",":
        text = text.replace("Acme, Inc", '"Acme, Inc"')
    assert parse(text).leads[0]["company"] == "Acme, Inc"


def test_row_numbers_count_like_a_spreadsheet_through_quoted_newlines_and_blank_lines() -> None:
    # Given: header (row 1), a record whose note spans two lines (row 2), a blank row (3), a bad row (4)
    text = 'email,note\na@example.com,"line one\nline two"\n\nnot-an-email,x\nb@example.com,y\n'
    result = parse(text)
    assert [r.row for r in result.invalid] == [4]
    assert result.invalid[0].value == "not-an-email" and "@" in result.invalid[0].reason
    assert result.rows == {result.leads[0]["id"]: 2, result.leads[1]["id"]: 5}
    assert result.leads[0]["customAttributes"]["note"] == "line one\nline two"
    assert result.received == 3  # blank rows are not leads


def test_formula_cells_are_neutralized() -> None:
    text = "email,first name,company,city,tags\na@example.com,=HYPERLINK(\"http://x\"),+123,@SUM(A1),-x\n"
    lead = parse(text).leads[0]
    assert lead["firstName"] == "'=HYPERLINK(\"http://x\")"
    assert lead["company"] == "'+123" and lead["customAttributes"]["city"] == "'@SUM(A1)" and lead["tags"] == ["'-x"]


def test_duplicates_inside_the_file_are_reported_case_insensitively() -> None:
    result = parse("email\na@example.com\nb@example.com\nA@EXAMPLE.com\n")
    assert len(result.leads) == 2
    assert result.duplicates_in_file == [{"row": 4, "email": "a@example.com", "firstRow": 2}]


def test_json_arrays_with_loose_keys_and_bad_items() -> None:
    body = json.dumps([{"Email": "a@example.com", "First Name": "A", "tags": ["x", "y"], "score": 7},
                       "not an object", {"email": "bad"}, {"name": "no email"}])
    result = parse(body, "application/json")
    assert result.leads[0]["firstName"] == "A" and result.leads[0]["tags"] == ["x", "y"]
    assert result.leads[0]["customAttributes"] == {"score": "7"}
    assert [(r.row, r.reason[:18]) for r in result.invalid] == [(2, "must be an object"), (3, result.invalid[1].reason[:18]), (4, "no e-mail address")]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "NUL"),
    (b"name,company\nA,B\n", "no e-mail column"),
    (b"[1, 2", "not valid JSON"),
])
def test_unusable_files_are_400_with_the_reason(data: bytes, message: str) -> None:
    content_type = "application/json" if data.startswith(b"[") else "text/csv"
    with pytest.raises(ApiError) as caught:
        parse(data, content_type)
    assert caught.value.status == 400 and message in json.dumps(caught.value.details)


def test_header_only_is_an_empty_import() -> None:
    result = parse("Email,First Name\n")
    assert (result.received, result.leads, result.invalid) == (0, [], [])


def test_limits_answer_413_saying_the_limit() -> None:
    with pytest.raises(ApiError) as caught:
        parse("email\n" + "a@example.com\n" * (importing.MAX_ROWS + 1))
    assert caught.value.status == 413 and "50000 rows" in caught.value.message
    with pytest.raises(ApiError) as caught:
        parse(b"x" * (importing.MAX_BYTES + 1))
    assert caught.value.status == 413 and "4 MB" in caught.value.message


def test_a_50000_row_file_is_counted_exactly() -> None:
    # Given 50,000 rows: every 1,000th invalid, every 500th a duplicate of the row before
    lines = ["Email,First Name"]
    for i in range(importing.MAX_ROWS):
        if i % 1000 == 999:
            lines.append(f"broken{i}@,N{i}")
        elif i % 500 == 499:
            lines.append(f"USER{i - 1}@example.com,N{i}")
        else:
            lines.append(f"user{i}@example.com,N{i}")
    result = parse("\n".join(lines) + "\n")
    # Then every row is accounted for, with spreadsheet row numbers
    assert result.received == 50_000
    assert len(result.invalid) == 50 and result.invalid[0].row == 1001
    assert len(result.duplicates_in_file) == 50 and result.duplicates_in_file[0]["row"] == 501
    assert len(result.leads) == 50_000 - 100
